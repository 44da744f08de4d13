// Node 20+: Hono served by @hono/node-server. Node cannot run the TypeScript sources, so this
// imports the built package: run `npm run build` first (tsc → dist/), then
//
//   PORT=3000 node examples/frameworks/hono_node.mjs
//   curl -N http://127.0.0.1:3000/events/news
//   curl -H 'content-type: application/json' -d '{"topic":"news","msg":"hi"}' http://127.0.0.1:3000/publish
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { Hub, publishHandler } from "sse-hub";

const hub = new Hub();
const publish = publishHandler(hub);

const app = new Hono()
  .get("/events/:topic", (c) => hub.response(c.req.raw, { topics: c.req.param("topic") }))
  .post("/publish", (c) => publish(c.req.raw))
  .get("/stats", (c) => c.json(hub.stats()));

const hostname = process.env.HOST ?? "127.0.0.1";
// @hono/node-server cancels the response stream when the client's connection closes, so the hub
// unsubscribes it at once, as on Deno and Bun.
const server = serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 3000), hostname }, (info) => {
  console.log(`listening on http://${hostname}:${info.port}`); // PORT=0: any free port
});

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, () => {
    hub.close({ retry: 5000 }); // ends every stream after its queued bytes: "come back in 5 s"
    server.close(); // stops accepting; exits once the last connection has gone
    // A finished stream leaves an idle keep-alive connection that node:http would wait out.
    const sweep = setInterval(() => server.closeIdleConnections(), 20);
    server.once("close", () => clearInterval(sweep));
  });
}
