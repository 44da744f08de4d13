// The soak server: a hub, a publish endpoint and a stats endpoint, on Deno.serve or
// Bun.serve (whichever runs it), on 127.0.0.1 with an OS-chosen port. Started by
// scripts/soak.mjs; prints one JSON line {"url": …} once listening.
//
//   deno run -A --v8-flags=--expose-gc soak/server.ts
//   bun run soak/server.ts
//
// Routes:
//   GET  /events/<topic>   an SSE stream (GET /auth/<topic>: the same after a 20 ms access check)
//   POST /publish          publishHandler (maxBytes 16 KB, readTimeout 1 s)
//   GET  /stats            hub stats, memory after a full GC, peak memory, unhandled errors
//   POST /burst?topic=t&n=100&size=1024   publishes n events of `size` bytes at once
//   POST /close            hub.close({ event: { event: "shutdown", data: "bye" } })
// A publisher ticks "live" every 2 ms; "replay" holds ~1 MB of history.
import process from "node:process";
import { Hub, HubError, publishHandler } from "../mod.ts";

declare const Deno: {
  serve(
    options: { hostname: string; port: number; onListen?: (addr: { port: number }) => void; onError?: (error: unknown) => Response },
    handler: (request: Request) => Response | Promise<Response>,
  ): { addr: { port: number } };
} | undefined;
declare const Bun: {
  serve(options: {
    hostname: string;
    port: number;
    idleTimeout?: number;
    fetch: (request: Request) => Response | Promise<Response>;
    error?: (error: unknown) => Response;
  }): { port: number };
  gc(force: boolean): void;
} | undefined;

const runtime = typeof Deno !== "undefined" ? "deno" : "bun";
const maxSubscribers = Number(process.env.SOAK_MAX_SUBSCRIBERS ?? 20_000);
const hub = new Hub<string>({ keepAlive: 1000, maxSubscribers, retryAfter: 1 });
const publish = publishHandler(hub, { maxBytes: 16 * 1024, readTimeout: 1000 });

// Everything that escapes: unhandled rejections, uncaught errors, and errors the runtime's
// server reports other than the hub's own slow-subscriber disconnects.
const unhandled: string[] = [];
const note = (kind: string) => (error: unknown) => {
  if (unhandled.length < 100) unhandled.push(`${kind}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
  else unhandled.push(kind);
};
process.on("unhandledRejection", note("unhandled rejection"));
process.on("uncaughtException", note("uncaught error"));
let serverErrors = 0;
let slowDisconnectsReported = 0;
const onServerError = (error: unknown): Response => {
  if (error instanceof HubError && error.type === "slow-subscriber") slowDisconnectsReported++;
  else {
    serverErrors++;
    note("server error")(error);
  }
  return new Response("internal error", { status: 500 });
};

const gc: () => void = typeof Bun !== "undefined"
  ? () => Bun!.gc(true)
  : ((globalThis as { gc?: () => void }).gc ?? (() => {}));
const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;
const peak = { rss: 0, heap: 0 };
const sample = () => {
  const usage = process.memoryUsage();
  peak.rss = Math.max(peak.rss, mb(usage.rss));
  peak.heap = Math.max(peak.heap, mb(usage.heapUsed));
  return usage;
};
setInterval(sample, 100);

const kilobyte = "r".repeat(1000);
const replayFrom = hub.publish("replay", `0:${kilobyte}`).id;
for (let i = 1; i < 1000; i++) hub.publish("replay", `${i}:${kilobyte}`);
let ticking = true;
const ticker = setInterval(() => {
  if (ticking && !hub.closed) hub.publish("live", `tick ${Date.now()}`);
}, 2);

async function handle(request: Request): Promise<Response> {
  const url = new URL(request.url);
  const [, kind, topic = ""] = url.pathname.split("/");
  if (kind === "events" || kind === "auth") {
    if (kind === "auth") await new Promise((resolve) => setTimeout(resolve, 20));
    return hub.response(request, { topics: topic ? decodeURIComponent(topic) : url.searchParams.getAll("topic") });
  }
  if (kind === "publish") return publish(request);
  if (kind === "stats") {
    if (url.searchParams.has("gc")) {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 10));
      gc();
    }
    const usage = sample();
    return Response.json({
      runtime,
      replayFrom,
      hub: hub.stats(),
      rss: mb(usage.rss),
      heap: mb(usage.heapUsed),
      peak,
      unhandled: unhandled.length,
      unhandledSample: unhandled.slice(0, 5),
      serverErrors,
      slowDisconnectsReported,
    });
  }
  if (kind === "burst" && request.method === "POST") {
    const n = Number(url.searchParams.get("n") ?? 100);
    const data = "b".repeat(Number(url.searchParams.get("size") ?? 1024));
    const name = url.searchParams.get("topic") ?? "burst";
    const ids: string[] = [];
    if (hub.closed) return Response.json({ error: "closed" }, { status: 503 });
    for (let i = 0; i < n; i++) ids.push(hub.publish(name, `${i}:${data}`).id);
    return Response.json({ first: ids[0], last: ids.at(-1) });
  }
  if (kind === "ticker" && request.method === "POST") {
    ticking = url.searchParams.get("on") !== "0";
    return Response.json({ ticking });
  }
  if (kind === "close" && request.method === "POST") {
    clearInterval(ticker);
    hub.close({ event: { event: "shutdown", data: "bye" } });
    return Response.json({ closed: true });
  }
  return new Response("not found", { status: 404 });
}

if (typeof Deno !== "undefined") {
  Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onError: onServerError,
    onListen: ({ port }) => console.log(JSON.stringify({ url: `http://127.0.0.1:${port}`, runtime })),
  }, handle);
} else {
  const server = Bun!.serve({ hostname: "127.0.0.1", port: 0, idleTimeout: 30, fetch: handle, error: onServerError });
  console.log(JSON.stringify({ url: `http://127.0.0.1:${server.port}`, runtime }));
}
