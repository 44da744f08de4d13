// The HTTP subscriber: its stream carries encoded bytes and is pull-driven. When the runtime
// asks for data and none is waiting, the next event is enqueued straight away (the same bytes
// object every subscriber gets); while the runtime is still writing, events wait in `#chunks`
// and its next read takes them all as ONE chunk. A busy connection thus costs one enqueue and
// one socket write per read, not per event, and the budget counts exactly the bytes waiting.
// With a linger, a stream also keeps back what comes within one window of its last write.
//
// The subscriber is its stream's underlying source (`start`, `pull`, `cancel` are its own
// methods): no closure per connection, nothing that keeps the request alive.
import { DELIVERED, FAILED, FULL, type Offer, Subscriber } from "./_subscriber.ts";
import { endOverdueLingers, type Linger, type Lingering } from "./_linger.ts";
import type { HubMessage } from "./message.ts";

// Deno.serve (2.x) aborts `request.signal` after every completed response and warns when a
// listener sees it ("legacy behavior"); on Bun.serve, merely reading it costs about 0.6 KB per
// connection. Both call the stream's `cancel` on a disconnect, so it is not even read there.
// Elsewhere (workerd, Node adapters) an abort means the client left: listen there too.
const SIGNAL_MEANS_CLIENT_LEFT = !("Deno" in globalThis) && !("Bun" in globalThis);

/**
 * The most bytes one read takes from what waits (one event may be bigger on its own). Bun keeps
 * a copy of what a socket did not take yet, per connection: with 64 KiB chunks a burst of 1,000
 * events to 10k slow readers peaked at 886 MB against the raw ceiling's 271 MB; with 8 KiB, 319
 * MB, at 9 % fewer events/s (`npm run bench:memory`). Each chunk still carries ~70 small events.
 */
const MAX_CHUNK = 8 * 1024;

/**
 * Where the stream being constructed starts (not a field: one less per connection): the
 * caller's `Last-Event-ID`, or the request to read it from once the runtime reads.
 */
let startingFrom: string | Request | undefined;

/** What the hub gives each of its HTTP streams (one object per hub). */
export interface ByteStreamOwner<T> {
  /** What every stream starts with. */
  readonly opening: Uint8Array;
  readonly linger: Linger | undefined;
  /**
   * The stream started: it begins (the opening), replays from `from` (an id, or the request whose
   * `Last-Event-ID` is read at the runtime's first read) and goes live.
   */
  joined(subscriber: ByteSubscriber<T>, from: string | Request): void;
  /** The client left (`endStream`: end the stream too). */
  left(subscriber: ByteSubscriber<T>, endStream: boolean): void;
}

export class ByteSubscriber<T> extends Subscriber<T> implements Lingering {
  #chunks: Uint8Array[] | undefined; // made on first need: most connections are idle
  #queued = 0;
  /** The runtime asked for data (our `pull` ran) and has not been given any yet. */
  #reading = false;
  /** The linger window of the last hand-off, and whether bytes wait for the window's end. */
  #window = 0;
  #lingering = false;

  constructor(
    topics: readonly string[],
    filter: ((message: HubMessage<T>) => boolean) | undefined,
    budget: number,
    readonly owner: ByteStreamOwner<T>,
  ) {
    super(topics, filter, budget);
  }

  /**
   * Its stream: `start` enqueues the opening, then replays from `lastEventId` and goes live;
   * `cancel` (or the request's `signal` where it means the client left) unsubscribes. The
   * stream itself queues nothing (high-water mark 0): this subscriber keeps what waits and
   * hands it over, coalesced, when the runtime reads.
   */
  open(request: Request, from: string | Request): ReadableStream<Uint8Array> {
    startingFrom = from; // for `start`, which the constructor calls at once
    const stream = new ReadableStream<Uint8Array>(this, { highWaterMark: 0 });
    // After `start` ran: a signal that aborted already ends a stream that exists.
    if (SIGNAL_MEANS_CLIENT_LEFT) this.leaveOnAbort(request.signal, () => this.owner.left(this, true));
    return stream;
  }

  /** The stream's `start`. */
  start(controller: ReadableStreamDefaultController<Uint8Array>): void {
    this.controller = controller;
    const from = startingFrom!;
    startingFrom = undefined;
    this.owner.joined(this, from);
  }

  /** Sends the opening: the stream's first chunk. */
  begin(): void {
    // Straight into the stream's queue: an idle connection never allocates a backlog of its own.
    this.enqueue(this.owner.opening);
  }

  /** The stream's `cancel`: the client left. */
  cancel(): void {
    this.owner.left(this, false);
  }

  /** The stream's `pull`: the runtime wants data. Hands it everything waiting, as one chunk. */
  pull(): void {
    if (this.runPending()) return; // the first read of a put-off start takes its opening
    this.#reading = true;
    endOverdueLingers(); // a busy loop runs the lingers' timers late
    if (this.#queued > 0 && !this.#lingering) this.#handOver(); // kept-back bytes wait for their window
  }

  /** The linger window ended: hands over what was kept back, if the runtime is reading. */
  lingerEnded(): void {
    this.#lingering = false;
    if (this.#reading && this.#queued > 0) this.#handOver();
  }

  protected deliver(bytes: Uint8Array, _message: HubMessage<T>): Offer {
    // An event bigger than the whole budget still goes to a subscriber with nothing waiting.
    if (this.#queued > 0 && this.#queued + bytes.byteLength > this.budget) return FULL;
    return this.#send(bytes) ? DELIVERED : FAILED;
  }

  replayed(bytes: Uint8Array): void {
    this.#send(bytes);
  }

  push(chunk: Uint8Array): void {
    this.#send(chunk);
  }

  get wantsBytes(): true {
    return true;
  }

  protected discard(): void {
    this.#chunks = undefined;
    this.#queued = 0;
  }

  protected flush(): void {
    while (this.#queued > 0) this.enqueue(this.#takeChunks());
  }

  #send(bytes: Uint8Array): boolean {
    this.wrote = true;
    if (this.#reading && this.#queued === 0) {
      const linger = this.owner.linger;
      if (linger === undefined || !linger.isHot(this.#window)) {
        this.#reading = false;
        if (linger !== undefined) this.#window = linger.handedOver();
        return this.enqueue(bytes);
      }
      // A hot stream (handed data in the current window) keeps back what comes until it ends.
      linger.wait(this);
      this.#lingering = true;
    }
    (this.#chunks ??= []).push(bytes);
    this.#queued += bytes.byteLength;
    return true;
  }

  #handOver(): void {
    this.#reading = false;
    this.#noteHandOver();
    this.enqueue(this.#takeChunks());
  }

  #noteHandOver(): void {
    const linger = this.owner.linger;
    if (linger !== undefined) this.#window = linger.handedOver();
  }

  // At most about MAX_CHUNK bytes per read: a long backlog (a big replay) goes out in
  // slices instead of one copy of all of it (which Bun kept alive for clients that had left).
  #takeChunks(): Uint8Array {
    const chunks = this.#chunks!;
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
