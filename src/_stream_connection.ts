// One connection's event stream without a hub: the stream, its byte budget behind `ready`,
// its own keep-alive timer, and how it ends (closed by the app, or the client leaving).
import { encodeEvent, formatComment } from "./encode.ts";
import type { EncodeOptions } from "./encode.ts";
import type { SseEvent } from "./event.ts";
import { sseResponseHeaders } from "./response.ts";
import type { EventStream, EventStreamOptions, StreamEvent } from "./stream_options.ts";

const encoder = new TextEncoder();
const OPENING = encoder.encode(":\n\n");
const PING = encoder.encode(":\n");
const RESOLVED: Promise<void> = Promise.resolve();

/** A string is the `data` of one event; an object is the whole event. */
export const toEvent = (event: StreamEvent): SseEvent => typeof event === "string" ? { data: event } : event;

export class Connection<T> implements EventStream<T> {
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
    this.response = new Response(body, { headers: sseResponseHeaders(options.headers) });
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
