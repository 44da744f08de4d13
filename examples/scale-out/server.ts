// One instance of a scaled-out sse-hub: run several (on Deno, Bun, or both) against one Redis,
// and a publish on any instance reaches the subscribers of all of them, with the same ids.
//
//   REDIS_URL=redis://127.0.0.1:6379 PORT=8001 deno run -A examples/scale-out/server.ts
//   REDIS_URL=redis://127.0.0.1:6379 PORT=8002 bun run examples/scale-out/server.ts
//
//   GET  /events/:topic   SSE (Last-Event-ID replay from the Redis stream, on any instance)
//   POST /publish         {"topic": "...", "msg": "..."} → 200 {"delivered","topic","id"}; 503 if Redis is down
//   GET  /stats           the hub's counters (bridgeErrors, bridgeGaps, …)
// Environment: REDIS_URL (without it: one in-memory instance), PORT (8000; 0 picks a free one),
// HOST (127.0.0.1).
import process from "node:process";
import { Hub, publishHandler, textResponse } from "@sse-hub/sse-hub";
import { connectRedisBridge } from "./redis.ts";

declare const Deno: {
  serve(
    options: { hostname: string; port: number; onListen: (addr: { port: number }) => void },
    handler: (request: Request) => Response | Promise<Response>,
  ): { shutdown(): Promise<void> };
};
declare const Bun: {
  serve(options: {
    hostname: string;
    port: number;
    idleTimeout: number;
    fetch: (request: Request) => Response | Promise<Response>;
  }): { port: number | undefined; stop(closeActiveConnections?: boolean): Promise<void> };
};

const redisUrl = process.env.REDIS_URL;
const hostname = process.env.HOST || "127.0.0.1";
const port = Number(process.env.PORT || 8000);
const runtime = "Bun" in globalThis ? "bun" : "deno";

// Without REDIS_URL: one in-memory instance (the same routes, for comparison).
const redis = redisUrl ? await connectRedisBridge(redisUrl) : undefined;
const hub = new Hub<string>({
  retry: 1000,
  ...(redis && {
    bridge: redis.bridge,
    onBridgeEvent: (event) =>
      console.error(
        event.type === "gap"
          ? `bridge gap after ${event.from ?? "start"}: ${event.reason}`
          : `bridge error: ${event.error}`,
      ),
  }),
});
await redis?.bridge.ready; // subscribed and caught up: take traffic from now on
const publish = publishHandler(hub);

async function fetch(request: Request): Promise<Response> {
  const { pathname } = new URL(request.url);
  if (request.method === "GET" && pathname.startsWith("/events/")) {
    return await hub.response(request, { topics: decodeURIComponent(pathname.slice("/events/".length)) });
  }
  if (pathname === "/publish") return await publish(request);
  if (request.method === "GET" && pathname === "/stats") return Response.json({ runtime, ...hub.stats() });
  return textResponse(404, "not found");
}

let stop: () => Promise<void>;
const listening = (actual: number) =>
  console.log(
    `sse-hub scale-out listening on http://${hostname}:${actual} (${runtime}, ${
      redis?.library ?? "in-memory"
    })`,
  );
if (runtime === "bun") {
  // Bun closes connections idle for `idleTimeout` s; the hub's keep-alive (4 s) stays under it.
  const server = Bun.serve({ hostname, port, idleTimeout: 30, fetch });
  listening(server.port!);
  stop = () => server.stop(true);
} else {
  const server = Deno.serve({ hostname, port, onListen: (addr) => listening(addr.port) }, fetch);
  stop = () => server.shutdown();
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, async () => {
    hub.close(); // ends every stream (clients reconnect to another instance)
    await redis?.close();
    await stop();
    process.exit(0);
  });
}
