/**
 * The types of one-connection streams ({@linkcode createEventStream},
 * {@linkcode eventStreamResponse}): what they send, their options, and the stream handle.
 *
 * @module
 */
import type { Serializer } from "./encode.ts";
import type { SseEvent } from "./event.ts";
import type { HeadersLike } from "./headers.ts";

/** What a stream sends: a string is the `data` of one event; an object is a whole event. */
export type StreamEvent<T = unknown> = string | SseEvent<T>;

/** Options for {@linkcode createEventStream} and {@linkcode eventStreamResponse}. */
export interface EventStreamOptions {
  /** Extra response headers (e.g. CORS); added to `sseHeaders()`. */
  headers?: HeadersLike;
  /**
   * A `retry:` hint (ms) sent when the stream opens (else an empty comment is).
   * @default {undefined}
   */
  retry?: number;
  /**
   * Milliseconds between keep-alive checks: a stream sent nothing for a whole interval
   * gets a comment. One timer per stream, cleared when it ends; `false` turns it off.
   * The default keeps quiet streams inside Bun.serve's 10 s default `idleTimeout`.
   * @default {4000}
   */
  keepAlive?: number | false;
  /**
   * Bytes that may wait unread before {@linkcode EventStream.ready} stays pending
   * (`createEventStream` only; `eventStreamResponse` reads one event per pull).
   * @default {65536}
   */
  bufferBytes?: number;
  /**
   * Serializes non-string `data`.
   * @default {JSON.stringify}
   */
  serialize?: Serializer;
}

/** Options for {@linkcode eventStreamResponse}. */
export interface EventStreamResponseOptions extends EventStreamOptions {
  /** A last event sent when the iterable is done (not after an error). */
  final?: StreamEvent;
  /**
   * Turns an error of the iterable (or an event it yielded that cannot be encoded) into
   * a last event; the stream then ends cleanly. Without it, or when it returns `undefined`,
   * the stream is errored and the runtime aborts the connection (the client sees a network error).
   * @default {undefined}
   */
  onError?: (error: unknown) => StreamEvent | undefined;
}

/** One connection's event stream, from {@linkcode createEventStream}. */
export interface EventStream<T = unknown> {
  /** The SSE response to return from your `fetch` handler. */
  readonly response: Response;
  /** `true` until {@linkcode EventStream.close} is called or the client leaves. */
  readonly open: boolean;
  /** Resolves when the stream ends: closed by you or by the client leaving. */
  readonly closed: Promise<void>;
  /** Aborts when the stream ends (client left, or `close()`): pass it to the work that feeds it. */
  readonly signal: AbortSignal;
  /** Bytes that may still be queued within `bufferBytes` (≤ 0: the client is behind; 0 once ended). */
  readonly desiredSize: number;
  /** Resolves when the queue is below `bufferBytes`, or the stream ended: `await` it before each send. */
  readonly ready: Promise<void>;
  /**
   * Sends one event. It is always queued while the stream is open: respect `ready` to stay in budget.
   * @returns `true` when queued, `false` when the stream has ended (nothing is sent, nothing thrown).
   * @throws {EventFieldError} When the event cannot be encoded (nothing is written).
   */
  send(event: StreamEvent<T>): boolean;
  /** Sends a comment (clients ignore it). @returns `false` when the stream has ended. */
  comment(text: string): boolean;
  /**
   * Ends the stream after what is queued, with an optional last event. Does nothing once ended.
   * @throws {EventFieldError} When `final` cannot be encoded (the stream stays open).
   */
  close(final?: StreamEvent): void;
}
