/**
 * One connection's event stream without a hub, for request-scoped work (LLM
 * tokens, job progress): {@linkcode createEventStream} to push events by hand,
 * {@linkcode eventStreamResponse} to pull them from an async iterable.
 *
 * @module
 */
import { encodeEvent, formatComment } from "./encode.ts";
import type { EncodeOptions, Serializer } from "./encode.ts";
import type { SseEvent } from "./event.ts";
import { sseHeaders } from "./response.ts";
import type { HeadersLike } from "./headers.ts";

const encoder = new TextEncoder();
const OPENING = encoder.encode(":\n\n");
const PING = encoder.encode(":\n");
const RESOLVED: Promise<void> = Promise.resolve();

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

const toEvent = (event: StreamEvent): SseEvent => typeof event === "string" ? { data: event } : event;

class Connection<T> implements EventStream<T> {
  readonly response: Response;
  readonly closed: Promise<void>;
  readonly #abort = new AbortController();
  readonly #encode: EncodeOptions | undefined;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #open = true;
  #wrote = true;
  #timer: ReturnType<typeof setInterval> | undefined;
  #done!: () => void;
  #ready: Promise<void> | undefined;
  #wake: (() => void) | undefined;

  constructor(
    options: EventStreamOptions,
    highWaterMark: number,
    pull?: () => Promise<void>,
    cancel?: () => void,
  ) {
    const opening = options.retry === undefined ? OPENING : encodeEvent({ retry: options.retry });
    this.#encode = options.serialize ? { serialize: options.serialize } : undefined;
    this.closed = new Promise((resolve) => this.#done = resolve);
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#controller = controller;
        controller.enqueue(opening);
      },
      pull: () => {
        this.#wake?.();
        return pull?.();
      },
      cancel: () => {
        this.#end(new DOMException("the client went away", "AbortError"));
        cancel?.();
      },
    }, new ByteLengthQueuingStrategy({ highWaterMark }));
    this.response = new Response(body, { headers: sseHeaders(options.headers) });
    const interval = options.keepAlive ?? 4000;
    if (interval !== false) {
      this.#timer = setInterval(() => {
        if (!this.#wrote) this.#write(PING);
        this.#wrote = false;
      }, interval);
    }
  }

  get open(): boolean {
    return this.#open;
  }

  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  get desiredSize(): number {
    return this.#open ? this.#controller.desiredSize ?? 0 : 0;
  }

  get ready(): Promise<void> {
    if (!this.#open || this.desiredSize > 0) return RESOLVED;
    return this.#ready ??= new Promise<void>((resolve) => {
      this.#wake = () => {
        this.#ready = this.#wake = undefined;
        resolve();
      };
    });
  }

  send(event: StreamEvent<T>): boolean {
    return this.#open && this.#write(this.#bytes(event));
  }

  comment(text: string): boolean {
    return this.#open && this.#write(encoder.encode(formatComment(text)));
  }

  close(final?: StreamEvent): void {
    if (!this.#open) return;
    if (final !== undefined) this.#write(this.#bytes(final)); // encodes before anything ends
    this.#controller.close();
    this.#end(new DOMException("the stream was closed", "AbortError"));
  }

  /** Errors the stream (the runtime aborts the connection). */
  fail(error: unknown): void {
    if (!this.#open) return;
    this.#controller.error(error);
    this.#end(error);
  }

  #bytes(event: StreamEvent): Uint8Array {
    return encodeEvent(toEvent(event), this.#encode);
  }

  #write(bytes: Uint8Array): boolean {
    this.#controller.enqueue(bytes);
    this.#wrote = true;
    return true;
  }

  #end(reason: unknown): void {
    if (!this.#open) return;
    this.#open = false;
    clearInterval(this.#timer);
    this.#abort.abort(reason);
    this.#wake?.();
    this.#done();
  }
}

/**
 * Opens one event stream without a hub: return `response`, then `send` events
 * until you `close` it or the client leaves (`signal` aborts, `send` returns `false`).
 *
 * @typeParam T The type of `data` in the events sent.
 * @param options Headers, a `retry` hint, keep-alive, the byte budget behind `ready`.
 * @returns The stream: its `response`, `send`, `comment`, `close`, `ready`, `signal`, `closed`.
 *
 * @example Stream LLM tokens, at the pace the client reads
 * ```ts
 * import { createEventStream } from "@sse-hub/sse-hub";
 *
 * async function* tokens(_signal: AbortSignal) { yield "Hel"; yield "lo"; }
 * function handler(_request: Request): Response {
 *   const stream = createEventStream();
 *   (async () => {
 *     for await (const token of tokens(stream.signal)) {
 *       await stream.ready; // backpressure: wait while the client is behind
 *       if (!stream.send(token)) return; // the client left
 *     }
 *     stream.close({ event: "done", data: "" });
 *   })();
 *   return stream.response;
 * }
 * ```
 */
export function createEventStream<T = unknown>(options: EventStreamOptions = {}): EventStream<T> {
  return new Connection<T>(options, options.bufferBytes ?? 65536);
}

/**
 * Streams an async iterable as an SSE response, pulling the next event only when
 * the client has read the previous one. When the client leaves, the iterator's
 * `return()` runs (a generator's `finally` blocks) and the signal given to a
 * `source` function aborts.
 *
 * @typeParam T The type of `data` in the events yielded.
 * @param source The events (strings are data), or a function of an `AbortSignal` returning them.
 * @param options A `final` event, `onError`, headers, a `retry` hint, keep-alive.
 * @returns The response to return from your `fetch` handler.
 * @throws {EventFieldError} When `final` cannot be encoded.
 *
 * @example
 * ```ts
 * import { eventStreamResponse } from "@sse-hub/sse-hub";
 *
 * async function* progress() {
 *   for (let done = 0; done <= 100; done += 50) yield { event: "progress", data: { done } };
 * }
 * const response = eventStreamResponse(progress(), { final: { event: "end", data: "" }, keepAlive: false });
 * console.log(await response.text()); // ':\n\nevent: progress\ndata: {"done":0}\n\n…event: end\ndata: \n\n'
 * ```
 */
export function eventStreamResponse<T = unknown>(
  source: AsyncIterable<StreamEvent<T>> | ((signal: AbortSignal) => AsyncIterable<StreamEvent<T>>),
  options: EventStreamResponseOptions = {},
): Response {
  if (options.final !== undefined) encodeEvent(toEvent(options.final), options); // throws now, not at the end
  let iterator: AsyncIterator<StreamEvent<T>> | undefined;
  const start = () =>
    iterator ??= (typeof source === "function" ? source(stream.signal) : source)[Symbol.asyncIterator]();
  // Releases the source: a generator's `finally` runs. A source function never called has nothing to release.
  const stop = () => {
    if (iterator === undefined && typeof source === "function") return;
    void Promise.resolve().then(() => start().return?.()).catch(() => {}); // its error has nowhere to go now
  };
  const stream: Connection<unknown> = new Connection<unknown>(options, 0, async () => {
    let yielded = false;
    try {
      const result = await start().next();
      yielded = !result.done;
      if (!stream.open) return;
      if (result.done) stream.close(options.final);
      else stream.send(result.value);
    } catch (error) {
      if (yielded) stop(); // the event it yielded was invalid: let it clean up
      if (!stream.open) return;
      let last: StreamEvent | undefined;
      try {
        last = options.onError?.(error);
      } catch (cause) {
        return stream.fail(cause);
      }
      if (last === undefined) return stream.fail(error);
      try {
        stream.close(last);
      } catch (cause) {
        stream.fail(cause);
      }
    }
  }, stop);
  return stream.response;
}
