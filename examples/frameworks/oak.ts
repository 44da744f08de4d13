// Oak on Deno (the npm build, `@oakserver/oak`): the hub's Response copied onto Oak's response.
//
//   deno run --allow-net --allow-env examples/frameworks/oak.ts   # http://localhost:8000
//   curl -N http://localhost:8000/events/news
//   curl -H 'content-type: application/json' -d '{"topic":"news","msg":"hi"}' http://localhost:8000/publish
import { Application, Router } from "@oakserver/oak";
import type { Context } from "@oakserver/oak";
import { Hub, publishHandler } from "sse-hub";

export const hub = new Hub<string>();
const publish = publishHandler(hub);

/**
 * A fetch Request made from Oak's: the npm build serves through Node's http (on Deno too) and has
 * no `ctx.request.source`. The hub notices a client that left when its stream is cancelled.
 */
function fetchRequest({ request }: Context): Request {
  return new Request(request.url, {
    method: request.method,
    headers: [...request.headers],
    body: request.hasBody ? request.body.stream : null,
    duplex: "half", // a streamed request body
  } as RequestInit);
}

/**
 * Status, headers and body copied over: the npm build's `ctx.response.with()` only takes its own
 * Response class. `ctx.response.type` stays unset, so the hub's Content-Type is sent as it is.
 */
function send(ctx: Context, response: Response): void {
  ctx.response.status = response.status;
  response.headers.forEach((value, name) => ctx.response.headers.set(name, value));
  ctx.response.body = response.body;
}

const router = new Router()
  .get(
    "/events/:topic",
    async (ctx) => send(ctx, await hub.response(fetchRequest(ctx), { topics: ctx.params.topic })),
  )
  .post("/publish", async (ctx) => send(ctx, await publish(fetchRequest(ctx))))
  .get("/stats", (ctx) => {
    ctx.response.body = hub.stats();
  });

export const app = new Application().use(router.routes(), router.allowedMethods());

if (import.meta.main) await app.listen({ port: 8000 });
