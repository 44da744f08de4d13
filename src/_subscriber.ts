// The subscriber contract. Kept small: a hub may hold tens of thousands of subscribers. The
// HTTP one, which carries encoded bytes and coalesces them per read, is `_byte_subscriber.ts`;
// the in-process one (a stream of messages) is `_message_subscriber.ts`.
//
// A subscriber only says what happened to an offer; what to do with one that is full (close
// it or drop the event) is decided in one place, `_fan_out.ts`.
import type { HubMessage, SubscriberInfo } from "./message.ts";

/** What happened to one offer (numbers, not objects: this is the hot path). */
export const DELIVERED = 0;
export const FILTERED = 1;
export const FULL = 2;
export const FAILED = 3;
export type Offer = 0 | 1 | 2 | 3;

export type Filter<T> = (message: HubMessage<T>) => boolean;

/** A live event held while a replay is under way; the replay de-duplicates by `id`. */
export interface Held<T> {
  id: string;
  topic: string;
  bytes: Uint8Array;
  message: HubMessage<T>;
}

/** What only some subscribers need: kept in one object, made on first need. */
interface Rare<T> {
  filter: Filter<T> | undefined;
  held: Held<T>[] | undefined;
  /** What `held` counts against the budget (bytes or messages). */
  heldSize: number;
  closing: { last: Uint8Array | undefined } | undefined;
  info: SubscriberInfo | undefined;
  onGone: (() => void) | undefined;
  /** After a replay: live events up to `through` are ones the client has (see `skipThrough`). */
  skip: { through: string; compare: (a: string, b: string) => number } | undefined;
  /** A start put off until the runtime first reads (see `hold`). */
  pending: (() => void) | undefined;
}

export abstract class Subscriber<T> {
  /** Set once, in the stream's `start`. */
  controller!: ReadableStreamDefaultController<any>;
  /** False once unsubscribed; an inactive subscriber is never offered anything again. */
  active = true;
  /** Something was sent since the last keep-alive tick. */
  wrote = true;
  // Filter, replay, hooks and abort listener state, in one field: most subscribers have none,
  // and a hub may hold tens of thousands of subscribers (8 bytes a field each, on Deno).
  #rare: Rare<T> | undefined;

  constructor(
    /** Its topics; the fan-out may swap a one-topic list for an equal one it shares. */
    public topics: readonly string[],
    filter: Filter<T> | undefined,
    /** Bytes (HTTP) or messages (in-process) that may wait unread. */
    readonly budget: number,
  ) {
    if (filter !== undefined) this.#more().filter = filter;
  }

  /** Which events it wants (none: all of its topics'). */
  get filter(): Filter<T> | undefined {
    return this.#rare?.filter;
  }

  /** While an async replay is under way, live events wait here (then are de-duplicated). */
  get held(): Held<T>[] | undefined {
    return this.#rare?.held;
  }

  /**
   * Set when the hub closed during this subscriber's replay: the replay and the held events
   * still go out, then this last chunk (if any), then the stream ends.
   */
  get closing(): { last: Uint8Array | undefined } | undefined {
    return this.#rare?.closing;
  }
  set closing(closing: { last: Uint8Array | undefined } | undefined) {
    this.#set("closing", closing);
  }

  /** Who it is, for the lifecycle hooks (set only when the hub has hooks). */
  get info(): SubscriberInfo | undefined {
    return this.#rare?.info;
  }
  set info(info: SubscriberInfo | undefined) {
    this.#set("info", info);
  }

  /** Runs once when this subscriber is gone for good (e.g. removes an abort listener). */
  get onGone(): (() => void) | undefined {
    return this.#rare?.onGone;
  }
  set onGone(onGone: (() => void) | undefined) {
    this.#set("onGone", onGone);
  }

  // Clearing a field that was never set makes no object.
  #set<K extends "closing" | "info" | "onGone">(key: K, value: Rare<T>[K]): void {
    if (value !== undefined || this.#rare !== undefined) this.#more()[key] = value;
  }

  #more(): Rare<T> {
    return this.#rare ??= {
      filter: undefined,
      held: undefined,
      heldSize: 0,
      closing: undefined,
      info: undefined,
      onGone: undefined,
      skip: undefined,
      pending: undefined,
    };
  }

  /** true: the stream carries encoded bytes (HTTP); false: messages (in-process). */
  abstract readonly wantsBytes: boolean;

  /**
   * Offers one published event: the skip after a replay from a shared store, the filter, then
   * the held path during a replay, else the subscriber's own delivery. Synchronous; on the
   * delivered path it allocates nothing.
   */
  offer(bytes: Uint8Array, message: HubMessage<T>): Offer {
    const rare = this.#rare;
    if (rare === undefined) return this.deliver(bytes, message);
    const skip = rare.skip;
    if (skip !== undefined) {
      if (skip.compare(message.id, skip.through) <= 0) return FILTERED; // the client has it
      rare.skip = undefined; // the bus is past it, and its ids only grow
    }
    if (rare.filter !== undefined) {
      try {
        if (!rare.filter(message)) return FILTERED;
      } catch (error) {
        this.fail(error);
        return FAILED;
      }
    }
    if (rare.held !== undefined) {
      const size = this.wantsBytes ? bytes.byteLength : 1;
      if (rare.heldSize > 0 && rare.heldSize + size > this.budget) return FULL;
      rare.held.push({ id: message.id, topic: message.topic, bytes, message });
      rare.heldSize += size;
      return DELIVERED;
    }
    return this.deliver(bytes, message);
  }

  /** Starts holding live events: a replay begins, now or `later` (at `runPending`: the first read). */
  hold(later?: () => void): void {
    const rare = this.#more();
    rare.held = [];
    rare.heldSize = 0;
    rare.pending = later;
  }

  /** Ends holding live events (the replay has arrived): returns what was held. */
  takeHeld(): Held<T>[] {
    const rare = this.#rare;
    if (rare === undefined) return [];
    const held = rare.held ?? [];
    rare.held = undefined;
    rare.heldSize = 0;
    // Nothing else rare: the object goes (most subscribers held only until their first read).
    if (
      rare.filter === undefined && rare.closing === undefined && rare.info === undefined &&
      rare.onGone === undefined && rare.skip === undefined && rare.pending === undefined
    ) this.#rare = undefined;
    return held;
  }

  /** Runs what `hold` put off, once; false when there is none. */
  runPending(): boolean {
    const rare = this.#rare;
    if (rare === undefined || rare.pending === undefined) return false;
    const run = rare.pending;
    rare.pending = undefined;
    run();
    return true;
  }

  /**
   * Skips live events up to `through` (by `compare`), which the client has: a store that others
   * write too can replay events before this hub's bus brings them. Ends at the first newer one.
   */
  skipThrough(through: string, compare: (a: string, b: string) => number): void {
    this.#more().skip = { through, compare };
  }

  /** Sends one event of a replay or a held one, outside the budget. */
  abstract replayed(bytes: Uint8Array, message: HubMessage<T> | undefined): void;
  /** Sends a hub chunk outside the budget (opening, reset, keep-alive, last event); bytes only. */
  abstract push(chunk: Uint8Array): void;
  /** Delivers a live event, within the budget. */
  protected abstract deliver(bytes: Uint8Array, message: HubMessage<T>): Offer;
  /** Drops what waits unread (the stream is being errored). */
  protected abstract discard(): void;
  /** Hands over what waits unread (the stream is ending cleanly). */
  protected abstract flush(): void;

  /**
   * Calls `leave` when `signal` aborts. The listener goes when the subscriber does, by any
   * path: a long-lived signal (a shutdown signal) must not keep every past subscriber reachable.
   */
  leaveOnAbort(signal: AbortSignal | undefined | null, leave: () => void): void {
    if (signal === undefined || signal === null) return;
    if (signal.aborted) return leave();
    signal.addEventListener("abort", leave, { once: true });
    this.onGone = () => signal.removeEventListener("abort", leave);
  }

  /** Ends the stream with an error: the runtime aborts the connection and drops its queue. */
  fail(reason: unknown): void {
    this.active = false;
    this.discard();
    try {
      this.controller.error(reason);
    } catch {
      // Already closed.
    }
  }

  /** Ends the stream after what is waiting. */
  end(): void {
    this.active = false;
    this.flush();
    try {
      this.controller.close();
    } catch {
      // Already closed or errored.
    }
  }

  /** Enqueues one chunk; false when the runtime closed the stream without cancelling it. */
  protected enqueue(chunk: Uint8Array | HubMessage<T>): boolean {
    try {
      this.controller.enqueue(chunk);
      this.wrote = true;
      return true;
    } catch {
      this.active = false;
      return false;
    }
  }
}
