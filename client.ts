/**
 * sse-hub's client: a reconnecting event-stream client on `fetch` for browsers, Deno, Bun and
 * Node. Unlike `EventSource` it sends headers (refreshed on every reconnect), POSTs a body,
 * lets the application steer retries, resumes with `Last-Event-ID` (header or query), surfaces
 * the hub's `sse-hub:reset` as its own item, and types events by an event map. It contains no
 * server code: only the spec-exact decoder.
 *
 * @example Follow a stream behind a token
 * ```ts
 * import { connect } from "@sse-hub/sse-hub/client";
 * import assert from "node:assert/strict";
 *
 * const seen: string[] = [];
 * const fetch = (_url: string, init: RequestInit) => {
 *   seen.push(new Headers(init.headers).get("authorization")!);
 *   return Promise.resolve(new Response("data: hi\n\n", { headers: { "content-type": "text/event-stream" } }));
 * };
 * const connection = connect("http://example.test/events", {
 *   fetch,
 *   headers: () => ({ authorization: `Bearer token-${seen.length}` }), // called before every attempt
 * });
 * for await (const item of connection) {
 *   if (item.type === "event") assert.equal(item.data, "hi");
 *   break;
 * }
 * assert.deepEqual(seen, ["Bearer token-0"]);
 * ```
 *
 * @module
 */
export { connect } from "./src/client/connect.ts";
export { Connection } from "./src/client/connection.ts";
export { ClientError } from "./src/client/errors.ts";
export type { ClientErrorType } from "./src/client/errors.ts";
export { parseRetryAfter, retryDelay } from "./src/client/retry.ts";
export type { Backoff } from "./src/client/retry.ts";
export type {
  ClientItem,
  ConnectionState,
  ConnectOptions,
  EventItem,
  Failure,
  HeadersOption,
  InvalidItem,
  Issue,
  Listener,
  ResetItem,
  ResetReason,
  StandardResult,
  StandardSchema,
  TextEvents,
} from "./src/client/types.ts";
