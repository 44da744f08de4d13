/**
 * Typed events on the server side: declare an event map once (event name → payload type) and
 * a hub's `publish` checks both the name and the payload at compile time. Types only: the hub
 * is the same object, so `Hub<T>` stays as simple as it is for one payload type.
 *
 * @module
 */
import type { Hub } from "./hub.ts";

/** An event map: event name → the type of its data. */
export type EventMap = Record<string, unknown>;

/**
 * A {@linkcode Hub} whose `publish` and `publishAsync` take an event name from `E` and that
 * event's payload: an unknown name or a wrong payload is a compile error. Everything else is
 * the hub's own API.
 *
 * @typeParam E The event map.
 */
export type TypedHub<E extends EventMap> = Omit<Hub<E[keyof E]>, "publish" | "publishAsync"> & {
  /**
   * {@linkcode Hub.publish} for the event `options.event`, with that event's payload.
   *
   * @param topic The topic.
   * @param data The payload of this event.
   * @param options The event name.
   * @returns `{ topic, id, delivered }`.
   */
  publish<K extends keyof E & string>(
    topic: string,
    data: E[K],
    options: { event: K },
  ): ReturnType<Hub<unknown>["publish"]>;
  /**
   * {@linkcode Hub.publishAsync} for the event `options.event`, with that event's payload.
   *
   * @param topic The topic.
   * @param data The payload of this event.
   * @param options The event name.
   * @returns `{ topic, id, delivered }` once published.
   */
  publishAsync<K extends keyof E & string>(
    topic: string,
    data: E[K],
    options: { event: K },
  ): ReturnType<Hub<unknown>["publishAsync"]>;
};

/**
 * Returns `hub` itself, typed by the event map `E`: costs nothing at run time (it is the same
 * object; `typed(hub) === hub`), and makes every `publish` name an event of `E` with its payload.
 * Pair it with the client's `connect<E>(url, { parse: "json" })` for types on both ends.
 *
 * @typeParam E The event map.
 * @param hub A hub whose payload type accepts every payload of `E` (`Hub<unknown>` does).
 * @returns The same hub, typed.
 *
 * @example
 * ```ts
 * import { Hub, typed } from "@sse-hub/sse-hub";
 * import assert from "node:assert/strict";
 *
 * type Events = { created: { id: string; total: number }; deleted: { id: string } };
 * const plain = new Hub();
 * const hub = typed<Events>(plain);
 * assert.ok(Object.is(hub, plain)); // the same object
 * hub.publish("orders", { id: "a1", total: 12 }, { event: "created" });
 * // @ts-expect-error: "deleted" carries { id }, not a number
 * hub.publish("orders", 12, { event: "deleted" });
 * hub.close();
 * ```
 */
export function typed<E extends EventMap>(hub: Hub<E[keyof E]> | Hub<unknown>): TypedHub<E> {
  return hub as TypedHub<E>;
}
