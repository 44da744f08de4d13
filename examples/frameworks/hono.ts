// Hono on Deno and on Bun: a route returns the hub's Response as it is (`c.req.raw` is the fetch
// Request). `hono/streaming`'s streamSSE is not needed: the hub encodes each event once for every
// client and handles replay, slow clients and keep-alive.
//
//   deno serve --allow-net examples/frameworks/hono.ts   # http://localhost:8000
//   bun run examples/frameworks/hono.ts                  # http://localhost:3000
//   curl -N http://localhost:8000/events/news
//   curl -H 'content-type: application/json' -d '{"topic":"news","msg":"hi"}' http://localhost:8000/publish
import { Hono } from "hono";
import { compress } from "hono/compress";
import { Hub, publishHandler } from "sse-hub";

export const hub = new Hub<string>();
const publish = publishHandler(hub);

export const app = new Hono()
  .use(compress()) // skips the stream: the hub sends `Cache-Control: no-transform`
  .get("/events/:topic", (c) => hub.response(c.req.raw, { topics: c.req.param("topic") }))
  .post("/publish", (c) => publish(c.req.raw))
  .get("/stats", (c) => c.json(hub.stats()));

// `deno serve` and `bun run` serve a default export's `fetch`. Bun closes a connection idle for
// 10 s: the hub's keep-alive (every 4 s) keeps a quiet stream inside that.
export default app;
