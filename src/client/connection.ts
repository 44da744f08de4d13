/**
 * The reconnecting event-stream client: `fetch`, the spec-exact decoder, resume by last
 * event id, and a retry policy the application can steer.
 *
 * @module
 */
import { retryDelay } from "./retry.ts";
import { isHidden, watchVisibility } from "./_visibility.ts";
import { sleep } from "./_sleep.ts";
import { toItem } from "./_exchange.ts";
import { connectOnce, noop } from "./_attempt.ts";
import type { ClientItem, ConnectionState, ConnectOptions, Listener, TextEvents } from "./types.ts";

/**
 * One logical event stream over any number of HTTP connections. Iterate it (one consumer),
 * or listen with {@linkcode Connection.on}; {@linkcode Connection.close} ends it. Made by `connect`.
 *
 * @typeParam E The event map: event name → data type.
 *
 * @example State, listeners and the end of a stream
 * ```ts
 * import { connect } from "@sse-hub/sse-hub/client";
 * import assert from "node:assert/strict";
 *
 * const fetch = () => Promise.resolve(new Response("id: 1\nevent: greeting\ndata: hi\n\n", { headers: { "content-type": "text/event-stream" } }));
 * const states: string[] = [];
 * const connection = connect("http://example.test/", { fetch, onState: (state) => states.push(state) });
 * connection.on("greeting", (data, item) => {
 *   assert.equal(data, "hi");
 *   assert.equal(item.id, "1");
 *   connection.close();
 * });
 * await connection.closed;
 * assert.deepEqual(states, ["open", "closed"]);
 * assert.equal(connection.lastEventId, "1");
 * assert.equal(connection.error, undefined);
 * ```
 */
export class Connection<E = TextEvents> implements AsyncIterable<ClientItem<E>> {
  /** Settles (never rejects) when the connection is closed; then `error` says why, if it failed. */
  readonly closed: Promise<void>;
  readonly #url: string | URL;
  readonly #options: ConnectOptions<E>;
  readonly #stop = new AbortController();
  readonly #listeners = new Map<string, Set<(...args: any[]) => void>>();
  #attempt: AbortController | undefined;
  #state: ConnectionState = "connecting";
  #reconnects = 0;
  #lastEventId: string;
  #retry: number | undefined;
  #error: unknown;
  #queue: ClientItem<E>[] | undefined = [];
  #iterated = false;
  #changed: Promise<void> | undefined;
  #wake: (() => void) | undefined;

  /**
   * Starts connecting at once; prefer `connect(url, options)`.
   *
   * @param url The stream's URL (relative URLs resolve against the page in browsers).
   * @param options Headers, method, body, resume, parsing and the retry policy.
   */
  constructor(url: string | URL, options: ConnectOptions<E> = {}) {
    this.#url = url;
    this.#options = options;
    this.#lastEventId = options.lastEventId ?? "";
    const signal = options.signal;
    if (signal?.aborted) this.close();
    else signal?.addEventListener("abort", () => this.close(), { once: true });
    this.closed = this.#run();
  }

  /** `"connecting"` (also while waiting to retry, or paused), `"open"`, or `"closed"` for good. */
  get state(): ConnectionState {
    return this.#state;
  }

  /** How many attempts were made after the first one. */
  get reconnects(): number {
    return this.#reconnects;
  }

  /** The last event id seen: sent on every reconnect. */
  get lastEventId(): string {
    return this.#lastEventId;
  }

  /** Why the connection stopped: a `ClientError`, or what a listener or hook threw; `undefined` if it did not fail. */
  get error(): unknown {
    return this.#error;
  }

  /**
   * Calls `listener` for every event of that name: `(data, item)` for an application event,
   * `(item)` for `"sse-hub:reset"` and `"sse-hub:invalid"`. A connection with a listener keeps no
   * queue for iteration unless iteration started first (an event that arrived before the first
   * listener goes to the listeners added in that turn). A listener that throws closes the connection.
   *
   * @param name The event name.
   * @param listener The function to call.
   * @returns A function that removes the listener.
   */
  on<K extends (keyof E & string) | "sse-hub:reset" | "sse-hub:invalid">(
    name: K,
    listener: Listener<E, K>,
  ): () => void {
    let set = this.#listeners.get(name);
    if (!set) this.#listeners.set(name, set = new Set());
    set.add(listener);
    const pending = this.#iterated ? undefined : this.#queue;
    if (pending) {
      // Listened to, not iterated: no queue from now on. What arrived before goes to the listeners
      // added in this same turn (so `on("a", …); on("b", …)` both see it), then reading goes on.
      this.#queue = undefined;
      queueMicrotask(() => {
        pending.forEach((item) => this.#emit(item));
        this.#notify();
      });
    }
    return () => set.delete(listener);
  }

  /** Closes the connection for good (`state` is `"closed"` at once): aborts the request in flight and any wait. */
  close(): void {
    this.#stop.abort();
    this.#attempt?.abort();
    this.#setState("closed"); // wakes every wait
  }

  /**
   * Yields every item in order; ends when the connection closes, throws its `error` if it failed.
   * Leaving the loop early closes the connection.
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<ClientItem<E>, void, undefined> {
    this.#iterated = true;
    const queue = this.#queue ??= [];
    try {
      for (;;) {
        if (queue.length > 0) {
          const item = queue.shift()!;
          this.#notify(); // the reader may take the next event off the network
          yield item;
        } else if (this.#state === "closed") {
          if (this.#error !== undefined) throw this.#error;
          return;
        } else await this.#change();
      }
    } finally {
      this.close();
    }
  }

  async #run(): Promise<void> {
    const { pauseWhenHidden, onFailure, backoff } = this.#options;
    const stopped = this.#stop.signal;
    const unwatch = pauseWhenHidden
      ? watchVisibility((hidden) => {
        if (hidden) this.#attempt?.abort();
        this.#notify();
      })
      : noop;
    let failures = 0;
    try {
      for (let first = true; !stopped.aborted; first = false) {
        if (pauseWhenHidden && isHidden()) {
          this.#setState("connecting");
          await this.#change();
          continue;
        }
        if (!first) this.#reconnects++;
        this.#setState("connecting");
        const attempt = this.#attempt = new AbortController();
        const error = await connectOnce(
          this.#url,
          this.#options,
          this.#lastEventId,
          attempt.signal,
          () => this.#setState("open"),
          (ms) => this.#retry = ms,
          async (decoded) => {
            failures = 0;
            this.#lastEventId = decoded.id;
            const item = await toItem<E>(decoded, this.#options);
            this.#emit(item);
            this.#queue?.push(item);
            this.#notify();
            // Backpressure: while an item waits for the iterator, read no further, so a slow consumer
            // leaves events in the socket (and in the server's bounded buffer), not in this queue.
            while (this.#queue?.length && !attempt.signal.aborted) await this.#change();
          },
        );
        if (stopped.aborted) break;
        if (attempt.signal.aborted) continue; // hidden: not a failure
        const delay = retryDelay(error, failures, this.#retry, backoff);
        const decision = (await onFailure?.({ error, attempt: failures, delay })) ?? delay;
        failures++;
        if (decision === undefined || decision === "stop") {
          if (error.status !== 204) this.#error = error;
          break;
        }
        this.#setState("connecting");
        await sleep(decision, stopped);
      }
    } catch (error) {
      this.#error = error; // the `onFailure` hook threw
    } finally {
      unwatch();
      this.#setState("closed");
    }
  }

  // Calls the listeners of the item's name; one that throws closes the connection with its error.
  #emit(item: ClientItem<E>): void {
    try {
      const name = item.type === "event" ? item.event : `sse-hub:${item.type}`;
      this.#listeners.get(name)?.forEach((listener) =>
        item.type === "event" ? listener(item.data, item) : listener(item)
      );
    } catch (error) {
      this.#error = error;
      this.close();
    }
  }

  #setState(state: ConnectionState): void {
    if (this.#state === state || this.#state === "closed") return;
    this.#state = state;
    this.#notify();
    try {
      this.#options.onState?.(state);
    } catch (error) {
      this.#error ??= error;
      this.close();
    }
  }

  // One wake-up for every wait (the iterator for items, the reader for the iterator, a paused
  // connection for the page): each waits in a loop that checks its own condition again.
  #change(): Promise<void> {
    return this.#changed ??= new Promise((resolve) => this.#wake = resolve);
  }

  #notify(): void {
    const wake = this.#wake;
    this.#changed = this.#wake = undefined;
    wake?.();
  }
}
