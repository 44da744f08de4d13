/**
 * The error classes sse-hub throws. Each has a stable `name` and a string-union
 * `type`, so callers can branch without parsing messages.
 *
 * @module
 */

/** The event fields an {@linkcode EventFieldError} can name. */
export type EventField = "data" | "event" | "id" | "retry" | "comment";

/**
 * Why an event field was refused:
 * - `"line-break"`: `event` or `id` contains CR or LF (it would forge a field or an event);
 * - `"nul"`: `event` or `id` contains U+0000 (browsers drop such ids);
 * - `"lone-surrogate"`: a string cannot be encoded as UTF-8 without changing it;
 * - `"retry"`: `retry` is not a non-negative safe integer;
 * - `"serialize"`: `data` could not be serialized to a string;
 * - `"type"`: a field has the wrong type.
 */
export type EventFieldErrorType =
  | "line-break"
  | "nul"
  | "lone-surrogate"
  | "retry"
  | "serialize"
  | "type";

/**
 * Thrown when an event cannot be written to the wire exactly as given. Nothing
 * is written when it is thrown: a bad event never corrupts a stream.
 *
 * @example Catch a forged field
 * ```ts
 * import { encodeEvent, EventFieldError } from "@sse-hub/sse-hub";
 *
 * try {
 *   encodeEvent({ event: "x\ndata: forged", data: "hi" });
 * } catch (error) {
 *   if (error instanceof EventFieldError) console.log(error.field, error.type); // "event" "line-break"
 * }
 * ```
 */
export class EventFieldError extends TypeError {
  /** The field that was refused. */
  readonly field: EventField;
  /** Why it was refused. */
  readonly type: EventFieldErrorType;

  /**
   * Creates the error.
   *
   * @param field The refused field.
   * @param type Why it was refused.
   * @param message What went wrong, naming the field.
   * @param options `cause`, when another error led to this one.
   */
  constructor(field: EventField, type: EventFieldErrorType, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "EventFieldError";
    this.field = field;
    this.type = type;
  }
}

/**
 * Why an event stream could not be parsed:
 * - `"line-too-long"`: a line grew past `maxLineLength` without a line break;
 * - `"event-too-large"`: one event's data grew past `maxEventSize`.
 */
export type ParseErrorType = "line-too-long" | "event-too-large";

/**
 * Errors a decoder stream when the input breaks one of its memory caps. The
 * parser never throws on malformed input (the spec says what to do with every
 * byte); it only refuses to buffer without bound.
 *
 * @example
 * ```ts
 * import { ParseError } from "@sse-hub/sse-hub";
 *
 * const error = new ParseError("line-too-long", "a line is longer than `maxLineLength` (8 characters)");
 * console.log(error.name, error.type); // "ParseError" "line-too-long"
 * ```
 */
export class ParseError extends RangeError {
  /** Which cap was broken. */
  readonly type: ParseErrorType;

  /**
   * Creates the error.
   *
   * @param type Which cap was broken.
   * @param message What went wrong.
   * @param options `cause`, when another error led to this one.
   */
  constructor(type: ParseErrorType, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ParseError";
    this.type = type;
  }
}

/**
 * Why a hub refused an operation:
 * - `"closed"`: the hub was closed;
 * - `"invalid-topic"`: a topic name does not pass the hub's topic rule;
 * - `"too-many-subscribers"`: `maxSubscribers` is reached;
 * - `"slow-subscriber"`: a subscriber fell behind by more than its budget and was closed;
 * - `"bridged"`: the operation must go through the hub's bridge;
 * - `"reentrant"`: `publish` was called from inside a filter or serializer while the hub was
 *   delivering another event (publish after it returns, e.g. in `queueMicrotask`);
 * - `"reserved-event"`: the event type starts with `sse-hub:`, a prefix only the hub sends.
 */
export type HubErrorType =
  | "closed"
  | "invalid-topic"
  | "too-many-subscribers"
  | "slow-subscriber"
  | "bridged"
  | "reentrant"
  | "reserved-event";

/**
 * Thrown (or used to end a stream) when a hub refuses an operation.
 *
 * @example Publish after close
 * ```ts
 * import { Hub, HubError } from "@sse-hub/sse-hub";
 *
 * const hub = new Hub<string>();
 * hub.close();
 * try {
 *   hub.publish("news", "late");
 * } catch (error) {
 *   if (error instanceof HubError) console.log(error.type); // "closed"
 * }
 * ```
 */
export class HubError extends Error {
  /** Why the hub refused. */
  readonly type: HubErrorType;

  /**
   * Creates the error.
   *
   * @param type Why the hub refused.
   * @param message What went wrong.
   * @param options `cause`, when another error led to this one.
   */
  constructor(type: HubErrorType, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "HubError";
    this.type = type;
  }
}
