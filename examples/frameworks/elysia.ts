// Elysia on Bun: a handler returns the hub's Response, which Elysia sends as it is.
//
//   bun run examples/frameworks/elysia.ts                # http://localhost:3000
//   curl -N http://localhost:3000/events/news
//   curl -H 'content-type: application/json' -d '{"topic":"news","msg":"hi"}' http://localhost:3000/publish
import { Elysia } from "elysia";
import { Hub, publishHandler } from "sse-hub";

export const hub = new Hub<string>();
const publish = publishHandler(hub);

export const app = new Elysia({ serve: { idleTimeout: 30 } }) // Bun.serve's, in seconds (default 10)
  .get("/events/:topic", ({ request, params }) => hub.response(request, { topics: params.topic }))
  // publishHandler reads the body itself; `parse: "none"` stops Elysia reading it first (which it
  // does whenever it cannot tell that the handler leaves `body` alone).
  .post("/publish", ({ request }) => publish(request), { parse: "none" })
  .get("/stats", () => hub.stats());

if (import.meta.main) app.listen({ port: 3000 });
