// A hub that lives in a Durable Object: the Worker routes every request to one object, whose
// hub sees every subscriber and every publisher, and whose history is in the object's storage,
// so a client resumes with its Last-Event-ID even after the object was evicted. SSE at
// GET /events/:topic, a JSON publish endpoint at POST /publish, counters at GET /stats.
//
//   bun build examples/workers/durable_object.ts --target=browser --format=esm --outfile=examples/workers/dist/durable_object.js
//   mkdir -p /tmp/sse-hub-do-storage   # where durable_object.capnp keeps the objects' storage
//   node_modules/.bin/workerd serve examples/workers/durable_object.capnp
//
// The types below are the few the example uses, so it needs no Cloudflare type package.
import { DurableObjectHistory, Hub, publishHandler } from "sse-hub";
import type { DurableObjectStorageLike, PublishHandler } from "sse-hub";

interface HubObjectStub {
  fetch(request: Request): Promise<Response>;
}

interface Env {
  /** The Durable Object namespace of `HubObject` (a `durableObjectNamespace` binding). */
  HUB: { idFromName(name: string): unknown; get(id: unknown): HubObjectStub };
  /** Milliseconds between keep-alive comments (a text binding). */
  KEEP_ALIVE_MS?: string;
}

interface DurableObjectState {
  storage: DurableObjectStorageLike;
  blockConcurrencyWhile<T>(callback: () => Promise<T>): Promise<T>;
}

export default {
  fetch(request: Request, env: Env): Promise<Response> {
    // One object for the whole app. To spread the load, name one object per topic (or room) and
    // route by it: each object is single-threaded, and its hub reaches only its own connections.
    return env.HUB.get(env.HUB.idFromName("hub")).fetch(request);
  },
};

export class HubObject {
  readonly #history: DurableObjectHistory;
  readonly #hub: Hub<string>;
  readonly #publish: PublishHandler;

  constructor(state: DurableObjectState, env: Env) {
    this.#history = new DurableObjectHistory(state.storage, { maxEvents: 1000, maxBytes: 1024 * 1024 });
    // No request reaches the object before its history is read back from storage.
    void state.blockConcurrencyWhile(() => this.#history.load());
    // Ids start from the clock at the first publish (not here): ids after an eviction are larger.
    // Inside an object the hub's one keep-alive timer keeps every stream open.
    this.#hub = new Hub<string>({
      history: this.#history,
      retry: 2000,
      keepAlive: Number(env.KEEP_ALIVE_MS ?? 15_000),
    });
    this.#publish = publishHandler(this.#hub, { maxBytes: 16 * 1024 });
  }

  fetch(request: Request): Response | Promise<Response> {
    const { pathname } = new URL(request.url);
    if (request.method === "GET" && pathname.startsWith("/events/")) {
      const topic = decodeURIComponent(pathname.slice("/events/".length));
      return this.#hub.response(request, { topics: topic });
    }
    if (pathname === "/publish") return this.#publish(request);
    if (pathname === "/stats") {
      const history = { events: this.#history.size, bytes: this.#history.bytes };
      return Response.json({ ...this.#hub.stats(), history });
    }
    return new Response("not found\n", { status: 404 });
  }
}
