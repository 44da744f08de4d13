// Baseline (c): Hono's streamSSE with a Set of writers (the common Hono fan-out),
// on Node via @hono/node-server, or on Bun via Bun.serve (whichever runs this).
// The data is serialized once per event; each writer formats and writes it.
import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { collectGarbage, listening, profile, startPublisher } from "./_protocol.mjs";

const app = new Hono();
const writers = new Set();
let lastId = 0;

function publish(data) {
  const text = JSON.stringify(data);
  const id = String(++lastId);
  for (const stream of writers) void stream.writeSSE({ data: text, id });
}

app.get("/events", (c) =>
  streamSSE(c, async (stream) => {
    writers.add(stream);
    await stream.write(":\n\n");
    await new Promise((resolve) => stream.onAbort(resolve));
    writers.delete(stream);
  }));
app.post(
  "/publish",
  (c) => c.body(null, startPublisher(new URL(c.req.url).searchParams, publish) ? 202 : 400),
);
app.post("/profile/*", async (c) => c.body(null, await profile(c.req.path, new URL(c.req.url).searchParams)));
app.post("/gc", (c) => {
  collectGarbage();
  return c.body(null, 204);
});

if (globalThis.Bun) {
  const server = globalThis.Bun.serve({ hostname: "127.0.0.1", port: 0, idleTimeout: 0, fetch: app.fetch });
  listening(server.port);
} else {
  const { serve } = await import("@hono/node-server");
  serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, (info) => listening(info.port));
}
