// One hub per core with `deno serve --parallel`: Deno runs this module in one isolate per core
// (DENO_JOBS isolates when set), all accepting on one port, and the BroadcastChannelBridge
// connects their hubs, so a publish on any isolate reaches the subscribers of all of them.
//
//   deno serve --parallel --port 8000 examples/parallel/deno.ts
//   DENO_JOBS=2 deno serve --parallel --port 8000 examples/parallel/deno.ts
//
// Routes: examples/parallel/app.ts. Ids are the bridge's `<clock>-<isolate>`; each isolate keeps
// its own replay history, filled from the channel, so a client resumes on whichever isolate its
// reconnect lands on (docs/scaling.md, "Every core").
import { BroadcastChannelBridge, Hub } from "@sse-hub/sse-hub";
import { parallelApp } from "./app.ts";

const worker = crypto.randomUUID().slice(0, 8);
const hub = new Hub<string>({
  retry: 1000,
  bridge: new BroadcastChannelBridge({ name: "sse-hub-parallel" }),
  onBridgeEvent: (event) =>
    console.error(`isolate ${worker}: ${event.type === "gap" ? `bridge gap: ${event.reason}` : event.error}`),
});

// `deno serve` shuts its listener down on SIGTERM/SIGINT, but an isolate only exits once nothing
// keeps it alive: close the hub (its streams, keep-alive timer and channel) in every isolate.
for (const signal of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(signal, () => hub.close());

export default { fetch: parallelApp(hub, worker) } satisfies Deno.ServeDefaultExport;
