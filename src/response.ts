/**
 * The HTTP side of an event stream: the headers every SSE response carries,
 * the client's `Last-Event-ID`, and the plain responses for refused requests.
 *
 * @module
 */
import type { HeadersLike } from "./headers.ts";

/** The SSE headers as a header list (no `Headers` object per stream). Never mutated. */
const SSE_HEADER_LIST: [string, string][] = [
  ["content-type", "text/event-stream; charset=utf-8"],
  ["cache-control", "no-cache, no-transform"],
  ["x-accel-buffering", "no"],
];

/**
 * Builds the headers of an SSE response: `Content-Type: text/event-stream; charset=utf-8`,
 * `Cache-Control: no-cache, no-transform` (no proxy may buffer or compress the stream)
 * and `X-Accel-Buffering: no` (nginx). No hop-by-hop header such as `Connection`:
 * the runtime manages the connection, and HTTP/2 forbids them.
 *
 * @param extra Headers to add or override; every `Set-Cookie` in it is kept.
 * @returns A fresh `Headers`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sseHeaders } from "@sse-hub/sse-hub";
 *
 * const headers = sseHeaders([["access-control-allow-origin", "*"], ["set-cookie", "a=1"], ["set-cookie", "b=2"]]);
 * assert.equal(headers.get("content-type"), "text/event-stream; charset=utf-8");
 * assert.deepEqual(headers.getSetCookie(), ["a=1", "b=2"]);
 * ```
 */
export function sseHeaders(extra?: HeadersLike): Headers {
  const headers = new Headers(SSE_HEADER_LIST);
  mergeHeaders(headers, extra);
  return headers;
}

/** Internal: the headers of an SSE response; without extras, a shared list the `Response` copies. */
export function sseResponseHeaders(extra: HeadersLike | undefined): HeadersLike {
  return extra === undefined ? SSE_HEADER_LIST : sseHeaders(extra);
}

/**
 * Internal: sets every header of `extra` on `target`, overriding same-named ones, except
 * `Set-Cookie`, which is appended once per cookie (setting it would keep only the last: a
 * `Headers` yields each cookie as its own entry).
 */
export function mergeHeaders(target: Headers, extra: HeadersLike | undefined): void {
  if (extra === undefined) return;
  const source = new Headers(extra);
  source.forEach((value, name) => {
    if (name !== "set-cookie") target.set(name, value);
  });
  for (const cookie of source.getSetCookie()) target.append("set-cookie", cookie);
}

/**
 * The id a reconnecting client last saw: the `Last-Event-ID` header (sent by
 * `EventSource` on reconnect), else a `lastEventId` query parameter (for a first
 * connect that resumes). The value is untrusted: one longer than `maxLength`
 * yields `""`, which never matches a stored id.
 *
 * @param request The incoming request.
 * @param maxLength The longest id accepted.
 * @returns The id, `""` for one that is too long, or `undefined` when the client sent none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getLastEventId } from "@sse-hub/sse-hub";
 *
 * const request = new Request("http://localhost/events", { headers: { "last-event-id": "42" } });
 * assert.equal(getLastEventId(request), "42");
 * ```
 */
export function getLastEventId(request: Request, maxLength = 128): string | undefined {
  let id = request.headers.get("last-event-id");
  if (id === null) {
    const query = request.url.indexOf("?");
    if (query === -1) return undefined;
    id = new URLSearchParams(request.url.slice(query + 1)).get("lastEventId");
    if (id === null) return undefined;
  }
  return id.length > maxLength ? "" : id;
}

/**
 * A short plain-text response for a refused request, with `Cache-Control: no-store` and
 * `X-Content-Type-Options: nosniff` (the message may quote what the client sent).
 *
 * @param status The HTTP status.
 * @param message The body; one line saying why.
 * @param headers More headers (e.g. `Retry-After`).
 * @returns The response.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { textResponse } from "@sse-hub/sse-hub";
 *
 * const response = textResponse(400, "invalid topic");
 * assert.equal(response.status, 400);
 * assert.equal(await response.text(), "invalid topic\n");
 * ```
 */
export function textResponse(status: number, message: string, headers?: HeadersLike): Response {
  const all = new Headers(headers);
  all.set("content-type", "text/plain; charset=utf-8");
  all.set("cache-control", "no-store");
  all.set("x-content-type-options", "nosniff");
  return new Response(status === 204 ? null : message + "\n", { status, headers: all });
}
