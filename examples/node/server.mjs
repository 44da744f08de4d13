// Node 20+: the same fetch handler as on Deno, Bun and Workers, served through srvx (a
// maintained fetch adapter for node:http). Node cannot run the TypeScript sources, so this
// imports the built package: run `npm run build` first (tsc → dist/), then
//
//   PORT=3000 node examples/node/server.mjs
//   curl -N http://127.0.0.1:3000/events/news
//   curl -H 'content-type: application/json' -d '{"topic":"news","msg":"hi"}' http://127.0.0.1:3000/publish
//
// `@hono/node-server` works the same way: serve({ fetch: handler, port }).
import { serve } from "srvx";
import { eventStreamResponse, Hub, publishHandler } from "sse-hub";

const hub = new Hub({ retry: 2000 });
const publish = publishHandler(hub, { maxBytes: 16 * 1024 });

/** @param {Request} request */
export function handler(request) {
  const url = new URL(request.url);
  if (request.method === "GET" && url.pathname.startsWith("/events/")) {
    return hub.response(request, { topics: decodeURIComponent(url.pathname.slice("/events/".length)) });
  }
  if (url.pathname === "/publish") return publish(request);
  if (url.pathname === "/stats") return Response.json(hub.stats());
  if (url.pathname === "/tokens") {
    return eventStreamResponse(words(url.searchParams.get("text") ?? "hello from node"));
  }
  return new Response("not found\n", { status: 404 });
}

// Stands in for a model's token stream: one word at a time.
async function* words(text) {
  for (const word of text.split(" ")) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    yield word;
  }
  yield { event: "done", data: "" };
}

const server = serve({
  fetch: handler,
  port: Number(process.env.PORT ?? 3000), // 0: any free port (printed below)
  hostname: process.env.HOST ?? "127.0.0.1",
  silent: true,
  gracefulShutdown: false, // handled below: SSE responses never finish on their own
});
await server.ready();
console.log(`listening on ${server.url}`);

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, async () => {
    hub.close({ retry: 5000 }); // ends every stream after its queued bytes: "come back in 5 s"
    const closed = server.close(); // stops accepting; waits for the responses to finish
    // A finished stream leaves an idle keep-alive connection that node:http would wait out.
    const sweep = setInterval(() => server.node?.server?.closeIdleConnections(), 20);
    const force = setTimeout(() => server.close(true), 5000); // clients that stopped reading
    await closed;
    clearInterval(sweep);
    clearTimeout(force);
  });
}
