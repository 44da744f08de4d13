// The demo app, the same on Deno and Bun: a `fetch` handler over one hub.
//
//   GET  /                 the page (EventSource client, publish form, live state)
//   GET  /events/:topics   SSE stream of one topic, or several joined by commas (`chat,system`)
//   POST /publish          {"topic": "...", "msg": "...", "event"?: "..."} → {"delivered", "topic", "id"}
//   GET  /stats            the hub's stats as JSON
//   GET  /metrics          the same in the Prometheus text format
//   POST /debug/drop       ends every open stream without closing the hub (only with `debug`)
//   GET  /client.js        sse-hub's client (`./client`), bundled: the page imports it
//   POST /private/token    {"token", "expiresIn"}: a single-use bearer ticket for the stream below
//   GET  /private/events/:topics   like /events/:topics, with `Authorization: Bearer <ticket>` (else 401)
//   POST /subscribe        {"topics": ["...", ...]} → the SSE stream of those topics (a stream with a body)
//   POST /debug/refuse     {"status", "retryAfter"?, "count"?}: the next `count` (1) stream requests
//                          get that status (and `Retry-After`), for tests of the client (only with `debug`)
//   GET  /presence         {"instance", "names"}: who is connected to this instance (with `presence`)
//
// A stream request's `?name=` (letters, digits, ` _.-`, up to 32) is who the subscriber is: with
// `presence`, every instance publishes who is here on topic `presence` (see presence.ts).
// A "tick" event goes to topic `system` every `tickMs`.
import { Hub, metricsResponse, publishHandler, textResponse } from "@sse-hub/sse-hub";
import { PAGE_HTML } from "./page.ts";
import { CLIENT_JS } from "./client_js.ts";
import { Tickets } from "./tickets.ts";
import { NAME, type Presence } from "./presence.ts";

/** Options for {@linkcode createApp}. */
export interface AppOptions {
  /** The hub (see `createHubFromEnv`). The app closes it in `close()`. */
  hub: Hub<string>;
  /** Milliseconds between ticks on topic `system`; 0 sends none. Default 5000. */
  tickMs?: number;
  /** Enables `POST /debug/drop` (for tests of reconnection). Default false. */
  debug?: boolean;
  /** Who is here: built with the hub (its hooks are the hub's `onJoin`/`onLeave`). */
  presence?: Presence;
}

/** The demo: a fetch handler and a way to stop it. */
export interface App {
  fetch(request: Request): Response | Promise<Response>;
  /** Stops the ticks and closes the hub (streams end; clients reconnect elsewhere). */
  close(): void;
}

const PAGE_HEADERS = {
  "content-type": "text/html; charset=utf-8",
  "cache-control": "no-store",
  // Inline script and style only; no request leaves this origin.
  "content-security-policy":
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:",
};

export function createApp(options: AppOptions): App {
  const { hub, tickMs = 5000, debug = false, presence } = options;
  presence?.attach(hub);
  const publish = publishHandler(hub);
  const streams = new Set<() => void>();
  const tickets = new Tickets();
  let refusals: { status: number; retryAfter?: number; count: number } | undefined;
  const timer = tickMs > 0
    ? setInterval(() => {
      const data = JSON.stringify({ time: new Date().toISOString(), subscribers: hub.size });
      hub.publishAsync("system", data, { event: "tick" }).catch(() => {}); // closed, or the bus is down
    }, tickMs)
    : undefined;

  async function events(request: Request, path: string): Promise<Response> {
    let topics: string[];
    try {
      topics = decodeURIComponent(path).split(",");
    } catch {
      return textResponse(400, "the topic is not valid percent-encoding");
    }
    if (path === "") return textResponse(400, "a topic is required: GET /events/:topic");
    return await stream(request, topics);
  }

  async function stream(request: Request, topics: string[]): Promise<Response> {
    if (refusals && refusals.count-- > 0) {
      const { status, retryAfter } = refusals;
      return new Response(status === 204 ? null : "refused (POST /debug/refuse)", {
        status,
        headers: retryAfter === undefined ? {} : { "retry-after": String(retryAfter) },
      });
    }
    const name = new URL(request.url).searchParams.get("name");
    if (name !== null && !NAME.test(name)) {
      return textResponse(400, "`name`: 1 to 32 letters, digits, spaces, _ . -");
    }
    const response = await hub.response(request, { topics, ...(name === null ? {} : { key: name }) });
    return debug ? droppable(response, streams) : response;
  }

  return {
    fetch(request) {
      const { pathname } = new URL(request.url);
      const method = request.method;
      if (pathname.startsWith("/events/") || pathname === "/events") {
        if (method !== "GET") return notAllowed("GET");
        return events(request, pathname.slice("/events/".length));
      }
      if (pathname.startsWith("/private/events/")) {
        if (method !== "GET") return notAllowed("GET");
        if (!tickets.redeem(request.headers.get("authorization"))) {
          return textResponse(401, "a ticket is required: POST /private/token", {
            "www-authenticate": "Bearer",
          });
        }
        return events(request, pathname.slice("/private/events/".length));
      }
      switch (pathname) {
        case "/":
          if (method !== "GET" && method !== "HEAD") return notAllowed("GET, HEAD");
          return new Response(method === "HEAD" ? null : PAGE_HTML, { headers: PAGE_HEADERS });
        case "/publish":
          return publish(request);
        case "/presence":
          if (!presence) break;
          if (method !== "GET") return notAllowed("GET");
          return Response.json({ instance: presence.instance, names: presence.names() }, {
            headers: { "cache-control": "no-store" },
          });
        case "/stats":
          if (method !== "GET") return notAllowed("GET");
          return Response.json(hub.stats(), { headers: { "cache-control": "no-store" } });
        case "/metrics":
          if (method !== "GET") return notAllowed("GET");
          return metricsResponse(hub.stats());
        case "/debug/drop":
          if (!debug) break;
          if (method !== "POST") return notAllowed("POST");
          return Response.json({ dropped: dropAll(streams) });
        case "/client.js":
          if (method !== "GET") return notAllowed("GET");
          return new Response(CLIENT_JS, {
            headers: { "content-type": "text/javascript; charset=utf-8", "cache-control": "no-store" },
          });
        case "/private/token":
          if (method !== "POST") return notAllowed("POST");
          return Response.json(tickets.issue(), { headers: { "cache-control": "no-store" } });
        case "/subscribe":
          if (method !== "POST") return notAllowed("POST");
          return readJson(request).then((body) => {
            const topics = (body as { topics?: unknown } | undefined)?.topics;
            if (!Array.isArray(topics) || !topics.every((topic) => typeof topic === "string")) {
              return textResponse(400, 'the body must be {"topics": ["..."]}');
            }
            return stream(request, topics);
          });
        case "/debug/refuse":
          if (!debug) break;
          if (method !== "POST") return notAllowed("POST");
          return readJson(request).then((body) => {
            const { status, retryAfter, count = 1 } = (body ?? {}) as Record<string, unknown>;
            if (!isInteger(status, 200, 599) || !isInteger(count, 0, 1000)) {
              return textResponse(400, "status (200-599) and count (0-1000) must be integers");
            }
            if (retryAfter !== undefined && !isInteger(retryAfter, 0, 3600)) {
              return textResponse(400, "retryAfter must be whole seconds (0-3600)");
            }
            refusals = retryAfter === undefined ? { status, count } : { status, retryAfter, count };
            return Response.json(refusals);
          });
      }
      return textResponse(404, "not found");
    },
    close() {
      clearInterval(timer);
      presence?.stop();
      hub.close();
    },
  };
}

// A small JSON body (a few topics, a refusal): undefined when it is not JSON or over 4 KiB,
// which is never read further than that.
async function readJson(request: Request): Promise<unknown> {
  const reader = request.body?.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let size = 0;
  try {
    for (let chunk = await reader?.read(); chunk && !chunk.done; chunk = await reader!.read()) {
      size += chunk.value.byteLength;
      if (size > 4096) return undefined;
      text += decoder.decode(chunk.value, { stream: true });
    }
    return JSON.parse(text + decoder.decode());
  } catch {
    return undefined;
  } finally {
    reader?.cancel().catch(() => {});
  }
}

function isInteger(value: unknown, min: number, max: number): value is number {
  return Number.isInteger(value) && (value as number) >= min && (value as number) <= max;
}

function notAllowed(allow: string): Response {
  return textResponse(405, "method not allowed", { allow });
}

function dropAll(streams: Set<() => void>): number {
  const drops = [...streams];
  for (const drop of drops) drop();
  return drops.length;
}

// Debug only: passes an SSE body through a stream the app can end on demand. Ending it cancels
// the hub's stream (the hub unsubscribes); what was still queued there is not sent, and the
// client gets it on reconnect, replayed after its Last-Event-ID.
function droppable(response: Response, streams: Set<() => void>): Response {
  if (response.status !== 200 || response.body === null) return response;
  const reader = response.body.getReader();
  let drop = () => {};
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      drop = () => {
        streams.delete(drop);
        try {
          controller.close();
        } catch {
          // Already ended.
        }
        reader.cancel().catch(() => {});
      };
      streams.add(drop);
    },
    async pull(controller) {
      let result: Awaited<ReturnType<typeof reader.read>>;
      try {
        result = await reader.read();
      } catch (error) {
        streams.delete(drop);
        try {
          controller.error(error); // e.g. the hub closed a slow subscriber: abort the connection
        } catch {
          // Dropped meanwhile.
        }
        return;
      }
      try {
        if (result.done) {
          streams.delete(drop);
          controller.close();
        } else controller.enqueue(result.value);
      } catch {
        // Dropped meanwhile: the controller is closed already.
      }
    },
    cancel(reason) {
      streams.delete(drop);
      return reader.cancel(reason);
    },
  });
  return new Response(body, { status: response.status, headers: response.headers });
}
