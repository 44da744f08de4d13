/**
 * The client's options and the items a connection yields.
 *
 * @module
 */
import type { ClientError } from "./errors.ts";
import type { Backoff } from "./retry.ts";

/** The event map of a connection that does not parse: every event's data is its text. */
export type TextEvents = Record<string, string>;

/** One application event, its `data` typed by its name: `item.event === "created"` narrows `item.data`. */
export type EventItem<E, K extends keyof E & string = keyof E & string> = {
  [P in K]: {
    /** Always `"event"`: an application event (not a reset, not an invalid event). */
    type: "event";
    /** The event's name (`"message"` when the server sent none). */
    event: P;
    /** The data: text, or parsed JSON with `parse: "json"` (and validated, with `schemas`). */
    data: E[P];
    /** The last event id after this event (carried over from earlier events, as `EventSource` does). */
    id: string;
  };
}[K];

/** Why the server could not resume the stream from the client's last event id. */
export type ResetReason =
  | "unknown-id"
  | "history-exceeded"
  | "history-unavailable"
  | "bus-gap"
  | (string & Record<never, never>);

/**
 * The server's `sse-hub:reset` event: events were missed that no replay can bring back, so
 * the application should reload the state the stream keeps up to date. Later items are live.
 */
export interface ResetItem {
  /** Always `"reset"`. */
  type: "reset";
  /**
   * Why: `"unknown-id"`, `"history-exceeded"`, `"history-unavailable"` (the server's store could
   * not answer), `"bus-gap"` (or `"unknown"` when the data was unreadable).
   */
  reason: ResetReason;
  /** The last event id after the reset. */
  id: string;
}

/** One problem a validator found (the Standard Schema issue shape). */
export interface Issue {
  /** What is wrong. */
  readonly message: string;
}

/** An event whose data did not parse as JSON or did not pass its schema; it is not delivered as an event. */
export interface InvalidItem {
  /** Always `"invalid"`. */
  type: "invalid";
  /** The event's name as the server sent it. */
  event: string;
  /** The raw data text. */
  data: string;
  /** The last event id after this event. */
  id: string;
  /** What was wrong. */
  issues: readonly Issue[];
}

/**
 * What a connection yields: application events, resets, and (with `parse: "json"`) invalid events.
 * Narrow by `type`, then by `event`.
 *
 * @example
 * ```ts
 * import type { ClientItem } from "@sse-hub/sse-hub/client";
 * import assert from "node:assert/strict";
 *
 * type Events = { created: { id: string }; deleted: { id: string; reason: string } };
 * function describe(item: ClientItem<Events>): string {
 *   if (item.type === "reset") return `reload (${item.reason})`;
 *   if (item.type === "invalid") return `invalid ${item.event}`;
 *   return item.event === "deleted" ? `deleted ${item.data.id}: ${item.data.reason}` : `created ${item.data.id}`;
 * }
 * assert.equal(describe({ type: "reset", reason: "history-exceeded", id: "9" }), "reload (history-exceeded)");
 * assert.equal(describe({ type: "event", event: "deleted", data: { id: "a", reason: "gone" }, id: "" }), "deleted a: gone");
 * ```
 */
export type ClientItem<E> = EventItem<E> | ResetItem | InvalidItem;

/**
 * A Standard Schema validator (Zod 3.24+, Valibot 1, ArkType 2, …), as far as the client uses it.
 *
 * @see {@link https://standardschema.dev}
 */
export interface StandardSchema<Output = unknown> {
  /** The Standard Schema interface. */
  readonly "~standard": {
    /** The interface version. */
    readonly version: 1;
    /** The library's name. */
    readonly vendor: string;
    /** Validates `value`: its output, or issues. */
    readonly validate: (
      value: unknown,
    ) => StandardResult<Output> | Promise<StandardResult<Output>>;
  };
}

/** A Standard Schema validation result. */
export type StandardResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | { readonly issues: readonly Issue[] };

/** The connection's state: like `EventSource.readyState`. */
export type ConnectionState = "connecting" | "open" | "closed";

/** One failed attempt, as the `onFailure` hook sees it. */
export interface Failure {
  /** What failed. */
  error: ClientError;
  /** Consecutive failures before this one (0 after a healthy connection). */
  attempt: number;
  /** What the default policy would do: wait this many milliseconds, or stop (`undefined`). */
  delay: number | undefined;
}

/** The request headers: an object, or a function called before every (re)connect (e.g. to refresh a token). */
export type HeadersOption =
  | Record<string, string>
  | (() => Record<string, string> | Promise<Record<string, string>>);

/** Options for `connect`. */
export interface ConnectOptions<E> {
  /** Request headers; a function is called before every attempt, so a token can be refreshed. */
  headers?: HeadersOption;
  /** The request method. @default {"GET"} */
  method?: string;
  /** A request body; sent again on every reconnect (so not a stream). */
  body?: string | Uint8Array | URLSearchParams | FormData | Blob;
  /** The request's credentials mode (browsers). */
  credentials?: "omit" | "same-origin" | "include";
  /** The `fetch` to use. @default {globalThis.fetch} */
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
  /** Aborting it closes the connection. */
  signal?: AbortSignal;
  /** The last event id to resume from on the first connect. */
  lastEventId?: string;
  /**
   * Where the last event id goes: the `Last-Event-ID` header, or the `lastEventId` query
   * parameter (for proxies that strip headers, and to avoid a CORS preflight).
   * @default {"header"}
   */
  lastEventIdIn?: "header" | "query";
  /** `"json"` parses every event's data (and a failure becomes an invalid item). @default {"text"} */
  parse?: "text" | "json";
  /** A validator per event name; with it, an event without a validator is invalid too. */
  schemas?: { [K in keyof E]?: StandardSchema<E[K]> };
  /** The backoff used when the server sent no `retry:`. */
  backoff?: Backoff;
  /**
   * Decides after each failed attempt: milliseconds to wait, `"stop"`, or `undefined` for the
   * default (`failure.delay`).
   */
  onFailure?: (failure: Failure) => number | "stop" | undefined | Promise<number | "stop" | undefined>;
  /** Called on every state change. */
  onState?: (state: ConnectionState) => void;
  /** In browsers: disconnect while the page is hidden, resume (with the last event id) when shown. */
  pauseWhenHidden?: boolean;
  /** The event name of the server's reset. @default {"sse-hub:reset"} */
  resetEvent?: string;
}

/** A listener for `connection.on(name, …)`: resets and invalid events by their reserved names. */
export type Listener<E, K extends string> = K extends "sse-hub:reset" ? (item: ResetItem) => void
  : K extends "sse-hub:invalid" ? (item: InvalidItem) => void
  : K extends keyof E ? (data: E[K], item: EventItem<E, K>) => void
  : never;
