/**
 * The server-sent event as this library writes it, and the rules a field must
 * follow to reach the wire unchanged.
 *
 * @see {@link https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation}
 * @module
 */
import { EventFieldError, HubError } from "./errors.ts";
import type { EventField } from "./errors.ts";

/**
 * One server-sent event. Every field is optional, but an event needs at least
 * one of them.
 *
 * @typeParam T The type of `data`; strings are sent as they are, anything else
 * goes through the serializer (JSON by default).
 *
 * @example
 * ```ts
 * import type { SseEvent } from "@sse-hub/sse-hub";
 *
 * const event: SseEvent<{ price: number }> = { event: "tick", id: "42", data: { price: 3 } };
 * console.log(event.event); // "tick"
 * ```
 */
export interface SseEvent<T = unknown> {
  /** The payload: a string as it is, anything else serialized. `undefined` sends no `data:` line. */
  data?: T;
  /** The event type (`event:` field); no CR, LF or NUL. Clients default it to `"message"`. */
  event?: string;
  /** The event id (`id:` field); no CR, LF or NUL. `""` resets the client's last event id. */
  id?: string;
  /** The reconnection time hint in milliseconds (`retry:` field); a non-negative safe integer. */
  retry?: number;
  /** A comment (lines starting with `:`); clients ignore it. May span several lines. */
  comment?: string;
}

// One scan for every character class a field may have to refuse.
const FORBIDDEN_IN_LINE_FIELD = /[\r\n\0]/;

/**
 * Internal: checks that `value` can be the whole value of a one-line field (`event`, `id`):
 * a string with no CR, LF or NUL and no lone surrogate.
 *
 * @param field The field's name, for the error.
 * @param value The value to check.
 * @throws {EventFieldError} When the value would change or forge the stream.
 */
export function assertLineField(field: "event" | "id", value: unknown): asserts value is string {
  if (typeof value !== "string") {
    throw new EventFieldError(field, "type", `\`${field}\` must be a string, got ${typeof value}`);
  }
  const match = FORBIDDEN_IN_LINE_FIELD.exec(value);
  if (match !== null) {
    const isNul = match[0] === "\0";
    throw new EventFieldError(
      field,
      isNul ? "nul" : "line-break",
      `\`${field}\` must not contain ${isNul ? "NUL" : "CR or LF"} (found at index ${match.index}): ` +
        (isNul ? "clients ignore such a field" : "it would forge a field or an event"),
    );
  }
  assertWellFormed(field, value);
}

/**
 * Internal: checks that a string survives UTF-8 encoding unchanged (no lone surrogate).
 *
 * @param field The field's name, for the error.
 * @param value The string to check.
 * @throws {EventFieldError} With type `"lone-surrogate"`.
 */
export function assertWellFormed(field: EventField, value: string): void {
  if (!isWellFormed(value)) {
    throw new EventFieldError(
      field,
      "lone-surrogate",
      `\`${field}\` contains a lone surrogate, which UTF-8 cannot carry unchanged`,
    );
  }
}

/**
 * Internal: checks a `retry` value: a non-negative safe integer (milliseconds).
 *
 * @param value The value to check.
 * @throws {EventFieldError} With type `"retry"`.
 */
export function assertRetry(value: unknown): asserts value is number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new EventFieldError(
      "retry",
      "retry",
      `\`retry\` must be a non-negative safe integer of milliseconds, got ${String(value)}`,
    );
  }
}

// String.prototype.isWellFormed is ES2024 (Deno 1.38+, Bun 1.0+, Node 20); the
// regex fallback keeps older engines correct.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const nativeIsWellFormed = (String.prototype as { isWellFormed?: () => boolean }).isWellFormed;

function isWellFormed(value: string): boolean {
  return nativeIsWellFormed ? nativeIsWellFormed.call(value) : !LONE_SURROGATE.test(value);
}

/** The prefix of the event types the hub itself sends (`sse-hub:reset`); no publisher may use it. */
export const RESERVED_EVENT_PREFIX = "sse-hub:";

/**
 * Internal: checks the event type of a published event: a valid one-line field, and not one
 * of the hub's own (a publisher sending `sse-hub:reset` would make every client reload).
 *
 * @throws {EventFieldError} When it would change or forge the stream.
 * @throws {HubError} `"reserved-event"` when it starts with `sse-hub:`.
 */
export function assertPublishedEvent(event: unknown): asserts event is string {
  assertLineField("event", event);
  if (event.startsWith(RESERVED_EVENT_PREFIX)) {
    throw new HubError(
      "reserved-event",
      `event types starting with "${RESERVED_EVENT_PREFIX}" are the hub's own; choose another name`,
    );
  }
}
