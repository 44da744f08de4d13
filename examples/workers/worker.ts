// A Cloudflare-style Worker: one hub per isolate, SSE at GET /events/:topic, a JSON publish
// endpoint at POST /publish, the hub's counters at GET /stats; and GET /tokens?text=…, one
// request's own stream without the hub (an LLM-style reply, word by word).
//
//   bun build examples/workers/worker.ts --target=browser --format=esm --outfile=examples/workers/dist/worker.js
//   node_modules/.bin/workerd serve examples/workers/config.capnp   # or: wrangler dev examples/workers/worker.ts
//
// One isolate's hub only reaches the connections that isolate serves: across isolates (and
// across Cloudflare's edge), hold the hub in a Durable Object: see durable_object.ts here and
// docs/durable-objects.md.
import { eventStreamResponse, Hub, publishHandler } from "sse-hub";
import type { PublishHandler } from "sse-hub";

interface Env {
  /** Milliseconds between keep-alive comments on a quiet connection (a text binding). */
  KEEP_ALIVE_MS?: string;
}

// Made on the first request, which brings `env`. (At module load it would be safe too: the hub
// reads the clock, which Workers freeze while a module loads, only at its first publish.)
let hub: Hub<string> | undefined;
let publish: PublishHandler | undefined;

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    // workerd ends a streaming response whose own request has nothing pending (no timer, no
    // I/O), so each stream gets its own keep-alive timer, created in its request; the write
    // that fails after a client left also ends its subscription.
    hub ??= new Hub<string>({
      keepAlive: Number(env.KEEP_ALIVE_MS ?? 15_000),
      keepAliveTimer: "per-connection",
      retry: 2000,
    });
    publish ??= publishHandler(hub, { maxBytes: 16 * 1024 });
    const { pathname } = new URL(request.url);
    if (request.method === "GET" && pathname.startsWith("/events/")) {
      const topic = decodeURIComponent(pathname.slice("/events/".length));
      return await hub.response(request, { topics: topic });
    }
    if (pathname === "/publish") return publish(request);
    if (pathname === "/stats") return Response.json(hub.stats());
    if (pathname === "/tokens") {
      const text = new URL(request.url).searchParams.get("text") ?? "hello from the edge";
      return eventStreamResponse(words(text), { final: { event: "done", data: "" } });
    }
    return new Response("not found\n", { status: 404 });
  },
};

// Stands in for a model's token stream: one word at a time, as it "arrives".
async function* words(text: string): AsyncGenerator<string> {
  for (const word of text.split(" ")) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    yield word;
  }
}
