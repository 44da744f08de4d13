// A real fetch client reading an SSE response's byte stream: raw text for wire
// assertions, decoded events (by the library's own spec-exact decoder) for behaviour.
import { EventDecoderStream } from "../../src/decode.ts";
import type { DecodedEvent } from "../../src/decode.ts";
import assert from "node:assert/strict";
import { withDeadline } from "./server.ts";

export class SseClient {
  readonly response: Response;
  /** Everything received so far, as text. */
  text = "";
  /** Comments received (keep-alives are empty comments). */
  readonly comments: string[] = [];
  readonly #events: DecodedEvent[] = [];
  readonly #abort: AbortController;
  #reader: ReadableStreamDefaultReader<DecodedEvent> | undefined;
  #waiters: (() => void)[] = [];
  #ended = false;
  #error: unknown;

  private constructor(response: Response, abort: AbortController) {
    this.response = response;
    this.#abort = abort;
  }

  /** Opens `url`; the response is checked by the caller (status, headers). */
  static async connect(url: string, init: RequestInit = {}): Promise<SseClient> {
    const abort = new AbortController();
    const response = await withDeadline(
      fetch(url, { ...init, signal: abort.signal }),
      10_000,
      `fetch ${url}`,
    );
    const client = new SseClient(response, abort);
    if (response.body && response.headers.get("content-type")?.startsWith("text/event-stream")) {
      client.#pump();
    }
    return client;
  }

  /**
   * Reads a response that never went over a socket (e.g. straight from `hub.response()`):
   * the same reading, with nothing but this client pulling on the body.
   */
  static of(response: Response): SseClient {
    const client = new SseClient(response, new AbortController());
    if (response.body) client.#pump();
    return client;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Events received so far (those not yet taken by `next`/`take`). */
  get buffered(): readonly DecodedEvent[] {
    return this.#events;
  }

  /** The next `n` events, waiting for them (deadline-guarded). */
  async take(n: number, ms = 10_000): Promise<DecodedEvent[]> {
    await withDeadline(
      this.#until(() => this.#events.length >= n),
      ms,
      `${n} events (have ${this.#events.length})`,
    );
    return this.#events.splice(0, n);
  }

  async next(ms = 10_000): Promise<DecodedEvent> {
    return (await this.take(1, ms))[0]!;
  }

  /** Waits until the server ends the stream; resolves with the events that came before the end. */
  async end(ms = 10_000): Promise<DecodedEvent[]> {
    await withDeadline(this.#until(() => this.#ended), ms, "the end of the stream");
    return this.#events.splice(0);
  }

  /** Waits until the raw text satisfies `condition`. */
  async textUntil(condition: (text: string) => boolean, ms = 10_000): Promise<string> {
    await withDeadline(this.#until(() => condition(this.text)), ms, "text condition");
    return this.text;
  }

  /** The error that ended the stream, if it did not end cleanly. */
  get error(): unknown {
    return this.#error;
  }

  /** Disconnects (cancels the body and aborts the request). */
  async close(): Promise<void> {
    try {
      await this.#reader?.cancel();
    } catch {
      // Already errored.
    }
    this.#abort.abort();
  }

  #until(condition: () => boolean): Promise<void> {
    if (condition() || (this.#ended && !condition())) {
      return condition()
        ? Promise.resolve()
        : Promise.reject(new Error("stream ended" + (this.#error ? `: ${this.#error}` : "")));
    }
    return new Promise((resolve, reject) => {
      const check = () => {
        if (condition()) resolve();
        else if (this.#ended) reject(new Error("stream ended" + (this.#error ? `: ${this.#error}` : "")));
        else this.#waiters.push(check);
      };
      this.#waiters.push(check);
    });
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter();
  }

  async #pump(): Promise<void> {
    const textDecoder = new TextDecoder();
    const tee = this.response.body!.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform: (chunk, controller) => {
          this.text += textDecoder.decode(chunk, { stream: true });
          controller.enqueue(chunk);
          queueMicrotask(() => this.#wake());
        },
      }),
    ).pipeThrough(new EventDecoderStream({ onComment: (comment) => this.comments.push(comment) }));
    this.#reader = tee.getReader();
    try {
      for (;;) {
        const { value, done } = await this.#reader.read();
        if (done) break;
        this.#events.push(value);
        this.#wake();
      }
    } catch (error) {
      this.#error = error;
    }
    this.#ended = true;
    this.#wake();
  }
}

/**
 * Reads up to `n` chunks from `stream` (fewer if it ends first), failing with a clear message
 * when they do not all come within `ms`: a missing event is a failure, never a hang. Rejects
 * with the stream's own error if it errors. The lock is released either way.
 */
export async function read<T>(stream: ReadableStream<T>, n: number, ms = 5000): Promise<T[]> {
  const reader = stream.getReader();
  const out: T[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new Error(`timed out after ${ms} ms: read ${out.length} of ${n} chunk(s) from the stream`)),
      ms,
    );
  });
  const reading = (async () => {
    while (out.length < n) {
      const { value, done } = await reader.read();
      if (done) break;
      out.push(value);
    }
  })();
  reading.catch(() => {}); // after a timeout, releasing the lock rejects the pending read
  try {
    await Promise.race([reading, deadline]);
  } finally {
    clearTimeout(timer);
    reader.releaseLock();
  }
  return out;
}

/**
 * Reads a response's first chunk (the opening comment), as a runtime does at once, and no more:
 * a client that stops reading from then on. A stream that reads its `Last-Event-ID` from the
 * request replays at that read. Returns the response, its body unlocked.
 */
export async function readOpening(response: Response): Promise<Response> {
  const [opening] = await read(response.body!, 1);
  assert.match(new TextDecoder().decode(opening), /^:/, "the first chunk is the opening comment");
  return response;
}
