// One subscriber of a hub: the controller of its stream, what it follows, and its
// delivery state. Kept small: a hub may hold tens of thousands of these.
import type { HubMessage } from "./hub_options.ts";

/** What happened to one offer (numbers, not objects: this is the hot path). */
export const DELIVERED = 0;
export const FILTERED = 1;
export const DROPPED = 2;
export const OVERFLOW = 3;
export const FAILED = 4;
export type Offer = 0 | 1 | 2 | 3 | 4;

export type Filter<T> = (message: HubMessage<T>) => boolean;

export class Subscriber<T> {
  /** Set once, in the stream's `start`. */
  controller!: ReadableStreamDefaultController<Uint8Array | HubMessage<T>>;
  /** False once unsubscribed; an inactive subscriber is never offered anything again. */
  active = true;
  /** Something was enqueued since the last keep-alive tick. */
  wrote = true;
  /** While an async replay is under way, live events wait here (then are de-duplicated). */
  pending: { id: string; chunk: Uint8Array | HubMessage<T> }[] | undefined;

  constructor(
    readonly topics: readonly string[],
    readonly filter: Filter<T> | undefined,
    /** true: the stream carries encoded bytes (HTTP); false: messages (in-process). */
    readonly wantsBytes: boolean,
    readonly dropWhenFull: boolean,
    /** The stream's high-water mark: bytes (HTTP) or messages (in-process). */
    readonly budget: number,
  ) {}

  /**
   * Enqueues one published event unless the filter refuses it or the budget is spent.
   * Synchronous, no allocation on the delivered path.
   */
  offer(bytes: Uint8Array, message: HubMessage<T>): Offer {
    if (this.filter !== undefined) {
      try {
        if (!this.filter(message)) return FILTERED;
      } catch (error) {
        this.fail(error);
        return FAILED;
      }
    }
    const chunk = this.wantsBytes ? bytes : message;
    if (this.pending !== undefined) {
      this.pending.push({ id: message.id, chunk });
      return DELIVERED;
    }
    const room = this.controller.desiredSize ?? 0;
    const size = this.wantsBytes ? bytes.byteLength : 1;
    // An event bigger than the whole budget still goes through to an idle subscriber.
    if (room < size && room < this.budget) return this.dropWhenFull ? DROPPED : OVERFLOW;
    try {
      this.controller.enqueue(chunk);
    } catch {
      // The runtime closed the stream without cancelling it: treat it as gone.
      this.active = false;
      return FAILED;
    }
    this.wrote = true;
    return DELIVERED;
  }

  /** Enqueues a chunk that bypasses the budget (opening, replay, keep-alive, final event). */
  push(chunk: Uint8Array | HubMessage<T>): void {
    try {
      this.controller.enqueue(chunk);
      this.wrote = true;
    } catch {
      // The stream is already closed or errored: the cancel path unsubscribes it.
    }
  }

  /** Ends the stream with an error (the runtime aborts the connection, dropping the queue). */
  fail(reason: unknown): void {
    this.active = false;
    try {
      this.controller.error(reason);
    } catch {
      // Already closed.
    }
  }

  /** Ends the stream after what is queued. */
  end(): void {
    this.active = false;
    try {
      this.controller.close();
    } catch {
      // Already closed or errored.
    }
  }
}
