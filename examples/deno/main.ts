// The demo on Deno: `deno run --allow-net --allow-env examples/deno/main.ts`
// Environment: PORT (8000; 0 picks a free port), HOST (127.0.0.1), TICK_MS (5000; 0: no ticks),
// DEMO_DEBUG=1 enables POST /debug/drop.
import { textResponse } from "@sse-hub/sse-hub";
import { createApp } from "../demo/app.ts";
import { createHubFromEnv } from "../demo/hub_from_env.ts";
import { readConfig } from "../demo/config.ts";
import { Presence } from "../demo/presence.ts";

const env = Deno.env.toObject();
const { port, hostname, tickMs, debug } = readConfig(env);
const presence = new Presence();
const hub = await createHubFromEnv(env, presence.hooks);
const app = createApp({ hub, tickMs, debug, presence });

const server = Deno.serve({
  hostname,
  port,
  onListen: (addr) => console.log(`sse-hub demo listening on http://${hostname}:${addr.port}`),
  onError: (error) => {
    console.error(error);
    return textResponse(500, "internal error"); // no stack trace to the client
  },
}, app.fetch);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, async () => {
    app.close(); // ends every stream, so the shutdown does not wait for them
    await server.shutdown();
    console.log("sse-hub demo stopped");
    Deno.exit(0);
  });
}
