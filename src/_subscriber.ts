// One subscriber of a hub: the controller of its stream, what it follows, and its
// delivery state. Kept small: a hub may hold tens of thousands of these.
//
// HTTP subscribers (bytes) are pull-driven: when the runtime asks for data and none is
// waiting, the next event is enqueued straight away (the same bytes object every subscriber
// gets); while the runtime is still writing, events wait in `#chunks` and its next read takes
// them all as ONE chunk. A busy connection thus costs one enqueue and one socket write per
// read, not per event, and the budget counts exactly the bytes waiting for it.
// In-process subscribers (messages) use the stream's own queue and a count budget.
import type { HubMessage } from "./hub_options.ts";

/** What happened to one offer (numbers, not objects: this is the hot path). */
export const DELIVERED = 0;
export const FILTERED = 1;
export const DROPPED = 2;
export const OVERFLOW = 3;
export const FAILED = 4;
export type Offer = 0 | 1 | 2 | 3 | 4;

export type Filter<T> = (message: HubMessage<T>) => boolean;

type Chunk<T> = Uint8Array | HubMessage<T>;

/** The most bytes one read takes from what waits (one event may be bigger on its own). */
const MAX_CHUNK = 64 * 1024;

export class Subscriber<T> {
  /** Set once, in the stream's `start`. */
  controller!: ReadableStreamDefaultController<Chunk<T>>;
  /** False once unsubscribed; an inactive subscriber is never offered anything again. */
  active = true;
  /** Something was sent since the last keep-alive tick. */
  wrote = true;
  /** While an async replay is under way, live events wait here (then are de-duplicated). */
  pending: { id: string; topic: string; chunk: Chunk<T> }[] | undefined;
  /** Bytes (HTTP) or messages (in-process) held in `pending`: they count against the budget. */
  #held = 0;
  #chunks: Uint8Array[] = [];
  #queued = 0;
  /** The runtime asked for data (our `pull` ran) and has not been given any yet. */
  #reading = false;

  constructor(
    readonly topics: readonly string[],
    readonly filter: Filter<T> | undefined,
    /** true: the stream carries encoded bytes (HTTP); false: messages (in-process). */
    readonly wantsBytes: boolean,
    readonly dropWhenFull: boolean,
    /** Bytes (HTTP) or messages (in-process) that may wait unread. */
    readonly budget: number,
  ) {}

  /**
   * Sends one published event unless the filter refuses it or the budget is spent.
   * Synchronous; on the delivered path it allocates nothing.
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
    if (this.pending !== undefined) {
      const size = this.wantsBytes ? bytes.byteLength : 1;
      // Held past the budget: closed whatever the policy (dropping here would lose or reorder
      // events around the replay); the client reconnects and resumes from its Last-Event-ID.
      if (this.#held > 0 && this.#held + size > this.budget) return OVERFLOW;
      this.pending.push({ id: message.id, topic: message.topic, chunk: this.wantsBytes ? bytes : message });
      this.#held += size;
      return DELIVERED;
    }
    if (this.wantsBytes) {
      // An event bigger than the whole budget still goes to a subscriber with nothing waiting.
      if (this.#queued > 0 && this.#queued + bytes.byteLength > this.budget) {
        return this.dropWhenFull ? DROPPED : OVERFLOW;
      }
      return this.#send(bytes) ? DELIVERED : FAILED;
    }
    const room = this.controller.desiredSize ?? 0;
    if (room < 1 && room < this.budget) return this.dropWhenFull ? DROPPED : OVERFLOW;
    return this.#enqueue(message) ? DELIVERED : FAILED;
  }

  /** Sends a chunk outside the budget (opening, replay, keep-alive, last event). */
  push(chunk: Chunk<T>): void {
    if (this.wantsBytes) this.#send(chunk as Uint8Array);
    else this.#enqueue(chunk);
  }

  /** Ends holding live events (the replay has arrived): returns what was held. */
  takePending(): { id: string; topic: string; chunk: Chunk<T> }[] {
    const pending = this.pending ?? [];
    this.pending = undefined;
    this.#held = 0;
    return pending;
  }

  /** The stream's `pull`: the runtime wants data. Hands it everything waiting, as one chunk. */
  pull(): void {
    if (this.#queued === 0) {
      this.#reading = true;
      return;
    }
    this.#enqueue(this.#takeChunks());
  }

  /** Ends the stream with an error: the runtime aborts the connection and drops its queue. */
  fail(reason: unknown): void {
    this.active = false;
    this.#chunks.length = 0;
    this.#queued = 0;
    try {
      this.controller.error(reason);
    } catch {
      // Already closed.
    }
  }

  /** Ends the stream after what is waiting. */
  end(): void {
    this.active = false;
    while (this.#queued > 0) this.#enqueue(this.#takeChunks());
    try {
      this.controller.close();
    } catch {
      // Already closed or errored.
    }
  }

  #send(bytes: Uint8Array): boolean {
    this.wrote = true;
    if (this.#reading) {
      this.#reading = false;
      return this.#enqueue(bytes);
    }
    this.#chunks.push(bytes);
    this.#queued += bytes.byteLength;
    return true;
  }

  // At most about MAX_CHUNK bytes per read: a long backlog (a big replay) goes out in
  // slices instead of one copy of all of it (which Bun kept alive for clients that had left).
  #takeChunks(): Uint8Array {
    const chunks = this.#chunks;
    let count = 0;
    let byteLength = 0;
    while (count < chunks.length && (count === 0 || byteLength + chunks[count]!.byteLength <= MAX_CHUNK)) {
      byteLength += chunks[count++]!.byteLength;
    }
    const chunk = count === 1 ? chunks[0]! : joinShared(chunks, count, byteLength);
    if (count === chunks.length) chunks.length = 0;
    else chunks.splice(0, count);
    this.#queued -= byteLength;
    return chunk;
  }

  #enqueue(chunk: Chunk<T>): boolean {
    try {
      this.controller.enqueue(chunk);
      this.wrote = true;
      return true;
    } catch {
      // The runtime closed the stream without cancelling it: treat it as gone.
      this.active = false;
      return false;
    }
  }
}

// Under a broadcast, the subscribers of a topic fall behind by the same events: the last
// join is kept so that they all get one shared buffer instead of a copy each.
let lastJoined: { parts: Uint8Array[]; joined: Uint8Array } | undefined;

function joinShared(parts: Uint8Array[], count: number, byteLength: number): Uint8Array {
  const last = lastJoined;
  if (last !== undefined && last.parts.length === count && last.joined.byteLength === byteLength) {
    let same = true;
    for (let i = 0; i < count && same; i++) same = last.parts[i] === parts[i];
    if (same) return last.joined;
  }
  const joined = new Uint8Array(byteLength);
  let offset = 0;
  for (let i = 0; i < count; i++) {
    joined.set(parts[i]!, offset);
    offset += parts[i]!.byteLength;
  }
  lastJoined = { parts: parts.slice(0, count), joined };
  return joined;
}
