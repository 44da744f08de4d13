/**
 * Event → spec-exact event-stream text and bytes. Every field is validated
 * before anything is produced, so an invalid event never yields a partial or
 * forged block.
 *
 * @see {@link https://html.spec.whatwg.org/multipage/server-sent-events.html#parsing-an-event-stream}
 * @module
 */
import { EventFieldError } from "./errors.ts";
import { assertLineField, assertPublishedEvent, assertRetry, assertWellFormed } from "./event.ts";
import type { SseEvent } from "./event.ts";

/**
 * Turns a non-string `data` value into the string to send. It may return text
 * with line breaks: each line becomes its own `data:` line.
 *
 * @example
 * ```ts
 * import type { Serializer } from "@sse-hub/sse-hub";
 *
 * const pretty: Serializer = (value) => JSON.stringify(value, null, 2);
 * console.log(pretty({ a: 1 }));
 * ```
 */
export type Serializer = (value: unknown) => string;

/** Options for {@linkcode formatEvent}, {@linkcode encodeEvent} and {@linkcode EventEncoderStream}. */
export interface EncodeOptions {
  /**
   * Serializes non-string `data`.
   * @default {JSON.stringify}
   */
  serialize?: Serializer;
}

const LINE_BREAK = /\r\n|\r|\n/;
const encoder = new TextEncoder();

/**
 * Formats one event as event-stream text: comment lines, then `event`, `id`,
 * `retry`, one `data: ` line per line of the data (split on CRLF, CR and LF),
 * then the blank line that dispatches it. Lines end in `\n`.
 *
 * @param event The event to format.
 * @param options How to serialize non-string data.
 * @returns The text of one complete event block.
 * @throws {EventFieldError} When a field cannot reach the wire unchanged.
 * @throws {TypeError} When `event` is not an object or has no field at all.
 *
 * @example
 * ```ts
 * import { formatEvent } from "@sse-hub/sse-hub";
 *
 * formatEvent({ event: "greeting", id: "1", data: "hello\nworld" });
 * // "event: greeting\nid: 1\ndata: hello\ndata: world\n\n"
 * ```
 */
export function formatEvent(event: SseEvent, options?: EncodeOptions): string {
  if (typeof event !== "object" || event === null) {
    throw new TypeError(`an event must be an object, got ${event === null ? "null" : typeof event}`);
  }
  let text = "";
  if (event.comment !== undefined) text += formatComment(event.comment);
  if (event.event !== undefined) {
    assertLineField("event", event.event);
    text += `event: ${event.event}\n`;
  }
  if (event.id !== undefined) {
    assertLineField("id", event.id);
    text += `id: ${event.id}\n`;
  }
  if (event.retry !== undefined) {
    assertRetry(event.retry);
    text += `retry: ${event.retry}\n`;
  }
  if (event.data !== undefined) text += formatData(event.data, options?.serialize);
  if (text === "") {
    throw new TypeError("an event needs at least one of `data`, `event`, `id`, `retry` or `comment`");
  }
  return text + "\n";
}

/**
 * Encodes one event to UTF-8 bytes, ready to enqueue. See {@linkcode formatEvent}.
 *
 * @param event The event to encode.
 * @param options How to serialize non-string data.
 * @returns The bytes of one complete event block.
 * @throws {EventFieldError} When a field cannot reach the wire unchanged.
 *
 * @example
 * ```ts
 * import { encodeEvent } from "@sse-hub/sse-hub";
 *
 * const bytes = encodeEvent({ data: { n: 1 } });
 * console.log(new TextDecoder().decode(bytes)); // 'data: {"n":1}\n\n'
 * ```
 */
export function encodeEvent(event: SseEvent, options?: EncodeOptions): Uint8Array {
  return encoder.encode(formatEvent(event, options));
}

/**
 * Formats a comment: one `: ` line per line of `text`. Clients ignore comments;
 * servers send them to keep idle connections open.
 *
 * @param text The comment; may span several lines.
 * @returns The comment lines, each ending in `\n` (no blank line after them).
 * @throws {EventFieldError} When `text` is not a well-formed string.
 *
 * @example
 * ```ts
 * import { formatComment } from "@sse-hub/sse-hub";
 *
 * formatComment("keep-alive"); // ": keep-alive\n"
 * ```
 */
export function formatComment(text: string): string {
  if (typeof text !== "string") {
    throw new EventFieldError("comment", "type", `\`comment\` must be a string, got ${typeof text}`);
  }
  assertWellFormed("comment", text);
  return formatLines(": ", text);
}

/**
 * A `TransformStream` from events to event-stream bytes, for writing a stream
 * by hand or piping an async source into a `Response`.
 *
 * @example
 * ```ts
 * import { EventEncoderStream } from "@sse-hub/sse-hub";
 *
 * const events = new ReadableStream({
 *   start(controller) {
 *     controller.enqueue({ data: "one" });
 *     controller.enqueue({ data: "two" });
 *     controller.close();
 *   },
 * });
 * const body = events.pipeThrough(new EventEncoderStream());
 * const response = new Response(body, { headers: { "content-type": "text/event-stream" } });
 * console.log(await response.text()); // "data: one\n\ndata: two\n\n"
 * ```
 */
export class EventEncoderStream extends TransformStream<SseEvent, Uint8Array> {
  /**
   * Creates the encoder stream.
   *
   * @param options How to serialize non-string data.
   */
  constructor(options?: EncodeOptions) {
    super({
      transform(event, controller) {
        controller.enqueue(encodeEvent(event, options));
      },
    });
  }
}

/** Internal: `data` as the text to send (strings as they are), with the encoder's checks. */
export function serializeData(data: unknown, serialize?: Serializer): string {
  if (typeof data === "string") {
    assertWellFormed("data", data);
    return data;
  }
  const text = runSerializer(data, serialize);
  // JSON.stringify escapes control characters and lone surrogates: its output needs no check.
  if (serialize !== undefined) assertWellFormed("data", text);
  return text;
}

// Characters that send a string down the careful path: line breaks (split there) and
// surrogates (check that they pair). Most payloads have neither: one scan, no split.
const NEEDS_CARE = /[\r\n\uD800-\uDFFF]/;

/** Internal: the `data:` lines of an event, with the fewest scans the checks allow. */
export function formatData(data: unknown, serialize?: Serializer): string {
  if (typeof data === "string") {
    if (!NEEDS_CARE.test(data)) return `data: ${data}\n`;
    assertWellFormed("data", data);
    return formatLines("data: ", data);
  }
  if (serialize === undefined) return `data: ${runSerializer(data, undefined)}\n`;
  return formatLines("data: ", serializeData(data, serialize));
}

function runSerializer(data: unknown, serialize: Serializer = JSON.stringify): string {
  let text: unknown;
  try {
    text = serialize(data);
  } catch (cause) {
    throw new EventFieldError("data", "serialize", `\`data\` could not be serialized: ${String(cause)}`, {
      cause,
    });
  }
  if (typeof text !== "string") {
    throw new EventFieldError(
      "data",
      "serialize",
      `\`data\` serialized to ${typeof text}, not a string (JSON cannot represent a bare ${typeof data})`,
    );
  }
  return text;
}

// Every CR, LF and CRLF starts a new line: the client would split there anyway,
// so we split first and no line break ever reaches the wire inside a value.
function formatLines(prefix: string, value: string): string {
  if (!LINE_BREAK.test(value)) return `${prefix}${value}\n`;
  let text = "";
  for (const line of value.split(LINE_BREAK)) text += `${prefix}${line}\n`;
  return text;
}

/**
 * Internal: one published event on the wire, the ONE encoder for local publishes and bus
 * deliveries alike. The caller has checked `id` and `event` (a hub's own ids are digits).
 */
export function encodePublished(
  id: string,
  event: string | undefined,
  data: unknown,
  serialize: Serializer | undefined,
): Uint8Array {
  return encoder.encode(
    (event === undefined ? "" : `event: ${event}\n`) + `id: ${id}\n` + formatData(data, serialize) + "\n",
  );
}

/**
 * Internal: the last event `Hub.close` sends (with its `retry` hint), or undefined when there is
 * none. Throws on an invalid one, as a publish would.
 */
export function encodeClosing(
  { event, retry }: { event?: { event?: string; data?: unknown }; retry?: number },
  serialize: Serializer | undefined,
): Uint8Array | undefined {
  if (event === undefined && retry === undefined) return undefined;
  if (event?.event !== undefined) assertPublishedEvent(event.event);
  return encodeEvent({ ...event, ...(retry === undefined ? {} : { retry }) }, serialize && { serialize });
}
