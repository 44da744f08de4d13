// A Cloudflare-style Worker: one hub per isolate, SSE at GET /events/:topic, a JSON publish
// endpoint at POST /publish, the hub's counters at GET /stats; and GET /tokens?text=…, one
// request's own stream without the hub (an LLM-style reply, word by word).
//
//   bun build examples/workers/worker.ts --target=browser --format=esm --outfile=examples/workers/dist/worker.js
//   node_modules/.bin/workerd serve examples/workers/config.capnp   # or: wrangler dev examples/workers/worker.ts
//
// One isolate's hub only reaches the connections that isolate serves: across isolates (and
// across Cloudflare's edge), hold the hub in a Durable Object (see docs/runtimes.md).
import { eventStreamResponse, Hub, publishHandler } from "sse-hub";
import type { PublishHandler } from "sse-hub";

interface Env {
  /** Milliseconds between the keep-alive comments each connection gets (a text binding). */
  KEEP_ALIVE_MS?: string;
}

// Made on the first request, not at module load: Workers freeze the clock (Date.now() is 0)
// while the module is evaluated, and the hub's ids start from the clock.
let hub: Hub<string> | undefined;
let publish: PublishHandler | undefined;

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    // The hub's own keep-alive is one timer, which workerd ties to the request that started it:
    // each connection gets its own below instead.
    hub ??= new Hub<string>({ keepAlive: false, retry: 2000 });
    publish ??= publishHandler(hub, { maxBytes: 16 * 1024 });
    const { pathname } = new URL(request.url);
    if (request.method === "GET" && pathname.startsWith("/events/")) {
      const topic = decodeURIComponent(pathname.slice("/events/".length));
      return keepAlive(await hub.response(request, { topics: topic }), Number(env.KEEP_ALIVE_MS ?? 15_000));
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

const PING = new TextEncoder().encode(":\n");

// workerd ends a streaming response whose request has nothing pending (no timer, no I/O) as
// "hung", and only notices a client that left when it next writes. So every connection gets a
// timer in its own request that writes a comment: it keeps the request alive, and the write
// that fails after a disconnect cancels the hub's stream, which unsubscribes it.
function keepAlive(response: Response, interval: number): Response {
  const body = response.body;
  if (body === null || !response.headers.get("content-type")?.startsWith("text/event-stream")) {
    return response;
  }
  const reader = body.getReader();
  let timer: ReturnType<typeof setInterval> | undefined;
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      timer = setInterval(() => controller.enqueue(PING), interval); // between whole events
    },
    async pull(controller) {
      const { value, done } = await reader.read();
      if (!done) return controller.enqueue(value);
      clearInterval(timer);
      controller.close();
    },
    cancel(reason) {
      clearInterval(timer);
      return reader.cancel(reason);
    },
  });
  return new Response(stream, { status: response.status, headers: response.headers });
}
