// The HTTP subscriber: its stream carries encoded bytes and is pull-driven. When the runtime
// asks for data and none is waiting, the next event is enqueued straight away (the same bytes
// object every subscriber gets); while the runtime is still writing, events wait in `#chunks`
// and its next read takes them all as ONE chunk. A busy connection thus costs one enqueue and
// one socket write per read, not per event, and the budget counts exactly the bytes waiting.
import { DELIVERED, FAILED, FULL, type Offer, Subscriber } from "./_subscriber.ts";
import type { HubMessage } from "./message.ts";

// Deno.serve (2.x) aborts `request.signal` after every completed response and warns when a
// listener sees it ("legacy behavior"); it calls the stream's `cancel` on disconnect anyway.
// Elsewhere (Bun.serve, workerd) an abort means the client left: listen there too.
const SIGNAL_MEANS_CLIENT_LEFT = !("Deno" in globalThis);

/** The most bytes one read takes from what waits (one event may be bigger on its own). */
const MAX_CHUNK = 64 * 1024;

export class ByteSubscriber<T> extends Subscriber<T> {
  readonly wantsBytes = true;
  #chunks: Uint8Array[] = [];
  #queued = 0;
  /** The runtime asked for data (our `pull` ran) and has not been given any yet. */
  #reading = false;

  /**
   * Its stream: `start` enqueues `opening` then calls `joined` (replay, then fan-out); the
   * client leaving calls `left` (the stream's `cancel`, or the request's `signal` where it
   * means that; `left(true)` then ends the stream too). The stream itself queues nothing
   * (high-water mark 0): this subscriber keeps what waits and hands it over, coalesced, when
   * the runtime reads.
   */
  open(
    opening: Uint8Array,
    request: Request,
    joined: () => void,
    left: (endStream: boolean) => void,
  ): ReadableStream<Uint8Array> {
    const stream = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.controller = controller;
        // Straight into the stream's queue: an idle connection never allocates a backlog of its own.
        controller.enqueue(opening);
        joined();
      },
      pull: () => this.pull(),
      cancel: () => left(false),
    }, { highWaterMark: 0 });
    // After `start` ran: a signal that aborted already ends a stream that exists.
    // Not even read on Deno: reading `request.signal` there is what prints the warning.
    if (SIGNAL_MEANS_CLIENT_LEFT) this.leaveOnAbort(request.signal, () => left(true));
    return stream;
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

  /** The stream's `pull`: the runtime wants data. Hands it everything waiting, as one chunk. */
  pull(): void {
    if (this.#queued === 0) {
      this.#reading = true;
      return;
    }
    this.enqueue(this.#takeChunks());
  }

  protected discard(): void {
    this.#chunks.length = 0;
    this.#queued = 0;
  }

  protected flush(): void {
    while (this.#queued > 0) this.enqueue(this.#takeChunks());
  }

  #send(bytes: Uint8Array): boolean {
    this.wrote = true;
    if (this.#reading) {
      this.#reading = false;
      return this.enqueue(bytes);
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
