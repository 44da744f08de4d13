/**
 * `connect`: the client's front door.
 *
 * @module
 */
import { Connection } from "./connection.ts";
import type { ConnectOptions, TextEvents } from "./types.ts";

/**
 * Opens an event stream with `fetch` and keeps it open: reconnects by the server's `retry:` or
 * with backoff, resumes from the last event id, surfaces `sse-hub:reset`. Every event's data
 * is its text.
 *
 * @param url The stream's URL.
 * @param options Headers, method, body, resume and the retry policy.
 * @returns The connection: iterate it, or listen with `on`.
 *
 * @example
 * ```ts
 * import { connect } from "@sse-hub/sse-hub/client";
 * import assert from "node:assert/strict";
 *
 * const body = "retry: 10\nid: 1\ndata: hello\n\nevent: sse-hub:reset\ndata: {\"reason\":\"unknown-id\"}\n\n";
 * const fetch = () => Promise.resolve(new Response(body, { headers: { "content-type": "text/event-stream" } }));
 * const items = [];
 * for await (const item of connect("http://example.test/events", { fetch })) {
 *   items.push(item);
 *   if (items.length === 2) break; // leaving the loop closes the connection
 * }
 * assert.deepEqual(items, [
 *   { type: "event", event: "message", data: "hello", id: "1" },
 *   { type: "reset", reason: "unknown-id", id: "1" },
 * ]);
 * ```
 */
export function connect(
  url: string | URL,
  options?: ConnectOptions<TextEvents> & { parse?: "text" },
): Connection;
/**
 * Opens an event stream whose events are typed by an event map: `data` is parsed as JSON
 * (`parse: "json"`) and, with `schemas`, validated; `item.event` narrows `item.data`.
 *
 * @typeParam E The event map: event name → data type.
 * @param url The stream's URL.
 * @param options As above, with `parse` required.
 * @returns The connection.
 *
 * @example
 * ```ts
 * import { connect } from "@sse-hub/sse-hub/client";
 * import assert from "node:assert/strict";
 *
 * type Events = { created: { id: string }; deleted: { id: string; reason: string } };
 * const body = 'event: created\ndata: {"id":"a"}\n\nevent: deleted\ndata: {"id":"a","reason":"gone"}\n\n';
 * const fetch = () => Promise.resolve(new Response(body, { headers: { "content-type": "text/event-stream" } }));
 * const connection = connect<Events>("http://example.test/orders", { fetch, parse: "json" });
 * const reasons: string[] = [];
 * connection.on("deleted", (data) => {
 *   reasons.push(data.reason); // typed: { id: string; reason: string }
 *   connection.close();
 * });
 * await connection.closed;
 * assert.deepEqual(reasons, ["gone"]);
 * ```
 */
export function connect<E extends Record<string, unknown>>(
  url: string | URL,
  options: ConnectOptions<E> & { parse: "text" | "json" },
): Connection<E>;
export function connect<E>(url: string | URL, options?: ConnectOptions<E>): Connection<E> {
  return new Connection<E>(url, options);
}
