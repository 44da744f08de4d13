/**
 * A spec-exact event-stream parser: bytes or text in, the events a browser's
 * `EventSource` would dispatch out. For clients, relays and tests.
 *
 * @see {@link https://html.spec.whatwg.org/multipage/server-sent-events.html#parsing-an-event-stream}
 * @module
 */
import { LineSplitter } from "./_line_splitter.ts";
import { ParseError } from "./errors.ts";

/** One dispatched event, as a browser's `EventSource` would see it. */
export interface DecodedEvent {
  /** The event type: the block's last `event` field, or `"message"` when it had none (or an empty one). */
  event: string;
  /** The block's `data` lines joined with LF (the spec's data buffer without its final LF). */
  data: string;
  /** The last event id after this block; carried over from earlier blocks, as browsers do. */
  id: string;
  /**
   * The reconnection time from this block's last valid `retry` field (ASCII digits, at most
   * `Number.MAX_SAFE_INTEGER`); absent when it had none.
   */
  retry?: number;
}

/** Options for {@linkcode EventDecoderStream} and {@linkcode parseEventStream}. */
export interface DecoderOptions {
  /**
   * The last event id before the stream starts (as a reconnecting client sent it).
   * @default {""}
   */
  lastEventId?: string;
  /**
   * The longest line, in UTF-16 code units, the parser accepts or buffers; a longer one errors
   * with a {@linkcode ParseError} of type `"line-too-long"`. `Infinity` lifts the cap.
   * @default {1_048_576}
   */
  maxLineLength?: number;
  /**
   * The largest data buffer (each `data` line plus its LF), in UTF-16 code units, of one event;
   * a larger one errors with a {@linkcode ParseError} of type `"event-too-large"`.
   * @default {16_777_216}
   */
  maxEventSize?: number;
  /**
   * Called with every valid `retry` field (ASCII digits only, a safe integer), whether or not
   * its event is dispatched.
   */
  onRetry?: (ms: number) => void;
  /** Called with every comment line's text after the `:`, one leading space removed. */
  onComment?: (text: string) => void;
}

const DIGITS = /^[0-9]+$/;

/**
 * A `TransformStream` from an event stream (UTF-8 bytes or text chunks) to the
 * events it dispatches, exact to the WHATWG parsing rules: CRLF, LF and CR line
 * ends (a CRLF split across chunks is one), one leading BOM stripped, invalid
 * UTF-8 replaced by U+FFFD, an unterminated last event discarded. The parser
 * never throws on malformed input; only a broken cap errors the stream.
 *
 * @see {@link https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation}
 *
 * @example Read the events of a response
 * ```ts
 * import assert from "node:assert/strict";
 * import { type DecodedEvent, EventDecoderStream } from "@sse-hub/sse-hub";
 *
 * const response = new Response("event: greeting\nid: 1\ndata: hello\ndata: world\n\n");
 * const events: DecodedEvent[] = [];
 * for await (const event of response.body!.pipeThrough(new EventDecoderStream())) events.push(event);
 * assert.deepEqual(events, [{ event: "greeting", data: "hello\nworld", id: "1" }]);
 * ```
 */
export class EventDecoderStream extends TransformStream<string | Uint8Array, DecodedEvent> {
  /**
   * Creates a decoder; write bytes or text to `writable`, read events from `readable`.
   *
   * @param options The initial last event id, the caps, and the `retry` and comment callbacks.
   * @throws {RangeError} When a cap is negative or not a number.
   */
  constructor(options?: DecoderOptions) {
    let sink: TransformStreamDefaultController<DecodedEvent> | undefined;
    const lines = eventParser(options, (event) => sink?.enqueue(event));
    super({
      start(controller) {
        sink = controller;
      },
      transform(chunk) {
        lines.push(chunk); // a ParseError thrown here errors both sides of the stream
      },
      flush() {
        lines.end();
      },
    });
  }
}

/**
 * Parses a whole event stream at once, by the same rules as
 * {@linkcode EventDecoderStream}: an event not followed by a blank line is discarded.
 *
 * @param text The event-stream text (a leading BOM is stripped).
 * @param options The initial last event id, the caps, and the `retry` and comment callbacks.
 * @returns The dispatched events, in order.
 * @throws {ParseError} When a line or an event breaks its cap.
 * @throws {RangeError} When a cap is negative or not a number.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseEventStream } from "@sse-hub/sse-hub";
 *
 * assert.deepEqual(parseEventStream("data: a\n\nid: 7\nevent: b\ndata: c\r\n\r\ndata: lost"), [
 *   { event: "message", data: "a", id: "" },
 *   { event: "b", data: "c", id: "7" },
 * ]);
 * ```
 */
export function parseEventStream(text: string, options?: DecoderOptions): DecodedEvent[] {
  const events: DecodedEvent[] = [];
  const lines = eventParser(options, (event) => events.push(event));
  lines.push(text);
  lines.end();
  return events;
}

// The spec's "interpret an event stream": one call per line, the buffers in closure variables.
function eventParser(options: DecoderOptions | undefined, emit: (event: DecodedEvent) => void): LineSplitter {
  const maxLineLength = cap("maxLineLength", options?.maxLineLength, 1_048_576);
  const maxEventSize = cap("maxEventSize", options?.maxEventSize, 16_777_216);
  const onRetry = options?.onRetry;
  const onComment = options?.onComment;
  let lastEventId = options?.lastEventId ?? "";
  let eventType = "";
  let data = "";
  let retry: number | undefined;

  return new LineSplitter(maxLineLength, (line) => {
    if (line === "") {
      // Dispatch. The last event id buffer is never reset, so it is the id every later event carries.
      if (data !== "") {
        const event: DecodedEvent = {
          event: eventType || "message",
          data: data.slice(0, -1),
          id: lastEventId,
        };
        if (retry !== undefined) event.retry = retry;
        emit(event);
      }
      data = "";
      eventType = "";
      retry = undefined;
      return;
    }
    const colon = line.indexOf(":");
    if (colon === 0) {
      onComment?.(line.slice(line.charCodeAt(1) === 32 ? 2 : 1));
      return;
    }
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? "" : line.slice(line.charCodeAt(colon + 1) === 32 ? colon + 2 : colon + 1);
    switch (field) {
      case "event":
        eventType = value;
        break;
      case "data":
        if (data.length + value.length + 1 > maxEventSize) {
          throw new ParseError(
            "event-too-large",
            `an event's data is larger than \`maxEventSize\` (${maxEventSize} characters)`,
          );
        }
        data += value + "\n";
        break;
      case "id":
        if (!value.includes("\0")) lastEventId = value;
        break;
      case "retry": {
        // ASCII digits in base ten (the spec), and small enough to hold exactly: browsers ignore
        // a value that overflows their integer, and 400 digits must not become Infinity.
        const ms = DIGITS.test(value) ? Number(value) : NaN;
        if (Number.isSafeInteger(ms)) {
          retry = ms;
          onRetry?.(ms);
        }
        break;
      }
        // Any other field is ignored.
    }
  });
}

function cap(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !(value >= 0)) {
    throw new RangeError(`\`${name}\` must be a non-negative number, got ${String(value)}`);
  }
  return value;
}
