// One hub per core with `deno serve --parallel`: Deno runs this module in one isolate per core
// (DENO_JOBS isolates when set), all accepting on one port, and a bridge connects their hubs, so
// a publish on any isolate reaches the subscribers of all of them.
//
//   deno serve --parallel --port 8000 examples/parallel/deno.ts
//   DENO_JOBS=2 deno serve --parallel --port 8000 examples/parallel/deno.ts
//   REDIS_URL=redis://127.0.0.1:6379 deno serve --parallel --allow-env --allow-net --port 8000 examples/parallel/deno.ts
//
// Without REDIS_URL (or without the permission to read it): the BroadcastChannelBridge, no server
// at all; ids are `<clock>-<isolate>` and each isolate keeps its own replay history, filled from
// the channel. With REDIS_URL: the RedisBridge (two connections per isolate); ids, order and the
// replay history are the Redis stream's, shared with any other machine on the same Redis. Either
// way a client resumes on whichever isolate its reconnect lands on (docs/scaling.md, "Every
// core"). Routes: examples/parallel/app.ts.
import { type Bridge, BroadcastChannelBridge, Hub } from "@sse-hub/sse-hub";
import { connectRedisBridge, type RedisConnection } from "../scale-out/redis.ts";
import { parallelApp } from "./app.ts";

const worker = crypto.randomUUID().slice(0, 8);
const env = Deno.permissions.querySync({ name: "env", variable: "REDIS_URL" }).state === "granted";
const redisUrl = env ? Deno.env.get("REDIS_URL") : undefined;
const redis: RedisConnection | undefined = redisUrl ? await connectRedisBridge(redisUrl) : undefined;
const bridge: Bridge = redis?.bridge ?? new BroadcastChannelBridge({ name: "sse-hub-parallel" });
const hub = new Hub<string>({
  retry: 1000,
  bridge,
  onBridgeEvent: (event) =>
    console.error(`isolate ${worker}: ${event.type === "gap" ? `bridge gap: ${event.reason}` : event.error}`),
});
await redis?.bridge.ready; // subscribed and caught up: take traffic from now on

// `deno serve` shuts its listener down on SIGTERM/SIGINT, but an isolate only exits once nothing
// keeps it alive: close the hub (its streams, keep-alive timer and bridge) and the Redis clients.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, () => {
    hub.close();
    void redis?.close();
  });
}

export default { fetch: parallelApp(hub, worker) } satisfies Deno.ServeDefaultExport;
