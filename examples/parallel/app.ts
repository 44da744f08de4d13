// The routes of one worker of examples/parallel (an isolate of `deno serve --parallel`, or one
// of several Bun processes sharing a port): a hub per worker, bridged to the others.
//
//   GET  /events/:topic   SSE; Last-Event-ID replays from the bridge's history, on any worker
//   POST /publish         {"topic": "...", "msg": "..."} → 200 {"delivered","topic","id"}
//   GET  /stats           {"worker", ...hub.stats()}
//
// Every response names the worker that answered in `x-sse-hub-worker`: the spread across workers
// shows, and a test can tell where a connection landed.
import { type Hub, publishHandler, textResponse } from "@sse-hub/sse-hub";

export const WORKER_HEADER = "x-sse-hub-worker";

/** A fetch handler serving `hub`, whose responses carry `worker`'s name. */
export function parallelApp(hub: Hub<string>, worker: string): (request: Request) => Promise<Response> {
  const publish = publishHandler(hub);
  const route = async (request: Request): Promise<Response> => {
    const { pathname } = new URL(request.url);
    if (request.method === "GET" && pathname.startsWith("/events/")) {
      const topics = decodeURIComponent(pathname.slice("/events/".length));
      return await hub.response(request, { topics, headers: { [WORKER_HEADER]: worker } });
    }
    if (pathname === "/publish") return await publish(request);
    if (request.method === "GET" && pathname === "/stats") return Response.json({ worker, ...hub.stats() });
    return textResponse(404, "not found");
  };
  return async (request) => {
    const response = await route(request);
    if (!response.headers.has(WORKER_HEADER)) response.headers.set(WORKER_HEADER, worker);
    return response;
  };
}
