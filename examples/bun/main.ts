// The demo on Bun: `bun run examples/bun/main.ts`
// Environment: PORT (8000; 0 picks a free port), HOST (127.0.0.1), TICK_MS (5000; 0: no ticks),
// DEMO_DEBUG=1 enables POST /debug/drop.
import { textResponse } from "sse-hub";
import { createApp } from "../demo/app.ts";
import { createHubFromEnv } from "../demo/hub_from_env.ts";
import { readConfig } from "../demo/config.ts";
import { Presence } from "../demo/presence.ts";

// The part of Bun's API used here, declared so that `deno check` passes on this file too (tsc
// checks it against bun-types as well).
declare const Bun: {
  serve(options: {
    hostname: string;
    port: number;
    idleTimeout?: number;
    fetch: (request: Request) => Response | Promise<Response>;
    error?: (error: Error) => Response;
  }): { port: number | undefined; stop(closeActiveConnections?: boolean): Promise<void> };
};

const { port, hostname, tickMs, debug } = readConfig(process.env);
const presence = new Presence();
const hub = await createHubFromEnv(process.env, presence.hooks);
const app = createApp({ hub, tickMs, debug, presence });

const server = Bun.serve({
  hostname,
  port,
  // Bun closes connections idle for `idleTimeout` s (10 by default). The hub's keep-alive
  // (every 4 s) keeps event streams busy; 30 s leaves ample margin, and slow POST bodies
  // still end at publishHandler's 10 s read timeout.
  idleTimeout: 30,
  fetch: app.fetch,
  error: (error) => {
    console.error(error);
    return textResponse(500, "internal error"); // no stack trace to the client
  },
});
console.log(`sse-hub demo listening on http://${hostname}:${server.port}`);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, async () => {
    app.close();
    await server.stop();
    console.log("sse-hub demo stopped");
    process.exit(0);
  });
}
