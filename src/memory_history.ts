/**
 * The default history: a bounded ring of encoded events per topic, in memory.
 *
 * @module
 */
import type { HistoryEntry, HistoryStore, Replay } from "./history.ts";
import { Ring } from "./_ring.ts";
import { lastIssued } from "./_issued_id.ts";
import { positive } from "./_positive.ts";

/** Options for {@linkcode MemoryHistory}. */
export interface MemoryHistoryOptions {
  /**
   * Events kept per topic.
   * @default {1000}
   */
  maxEvents?: number;
  /**
   * Bytes of encoded events kept per topic (the newest event is kept whatever its size).
   * @default {1048576}
   */
  maxBytes?: number;
  /**
   * Topics kept; past this the topic published to least recently is forgotten.
   * @default {10000}
   */
  maxTopics?: number;
  /**
   * Memory the whole history may hold, in bytes: every event's encoded bytes plus
   * 384 bytes for its bookkeeping, plus 1 KiB and its name's length a topic (measured on
   * Deno and Bun, rounded up). Past it, the oldest events of the topic published to least recently go
   * first.
   * @default {67108864}
   */
  maxTotalBytes?: number;
}

// What the store keeps of an event: the counted bytes and the few fields needed to rebuild
// its payload, never the published `data` object (a parsed body can take 20 times its size).
interface Kept {
  /** The id as a number, for the ring's order and `since`. */
  seq: number;
  id: string;
  topic: string;
  bytes: Uint8Array;
  event: string | undefined;
  json: boolean | undefined;
}

// A topic's ring and its place in the recency list.
interface Topic {
  readonly name: string;
  readonly ring: Ring<Kept>;
  older: Topic | undefined;
  newer: Topic | undefined;
}

const NUMERIC_ID = /^\d{1,16}$/;
// What one event costs beyond its encoded bytes (the kept object, its id string, the
// Uint8Array and its buffer's bookkeeping, the ring's slots) and what one topic costs beyond
// its events (map entry, name, ring): heap plus external memory after a full GC, per
// event/topic, measured on Deno 2.9 and Bun 1.4 (tests/memory_history_test.ts), rounded up.
// Measured: 333 bytes an event on Deno 2.9, 248 on Bun 1.4; 740 and 900 bytes a topic.
const ENTRY_OVERHEAD = 384;
const TOPIC_OVERHEAD = 1024;

/**
 * The default history: a bounded ring per topic, in memory. It needs the
 * increasing numeric ids a hub assigns. It keeps each event's encoded bytes (and
 * its id, topic and type), not the published object; a replay to a filtered or
 * in-process subscriber rebuilds the payload from the bytes, so it gets
 * `deserialize(serialize(data))` (as across a bridge), not the object itself.
 * What it holds is what it counts: at most `maxTotalBytes` (64 MiB) in all.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hub, MemoryHistory } from "@sse-hub/sse-hub";
 *
 * const history = new MemoryHistory({ maxEvents: 2, maxTotalBytes: 1024 * 1024 });
 * const hub = new Hub<string>({ history });
 * for (const text of ["a", "b", "c"]) hub.publish("news", text);
 * const { entries, complete } = history.since(["news"], "0");
 * assert.equal(entries.length, 2); // "a" was evicted…
 * assert.equal(complete, false); // …and the replay says so
 * hub.close();
 * ```
 */
export class MemoryHistory implements HistoryStore {
  readonly #maxEvents: number;
  readonly #maxBytes: number;
  readonly #maxTopics: number;
  readonly #maxTotalBytes: number;
  readonly #topics = new Map<string, Topic>();
  // The topics in publish recency, a doubly linked list: a publish moves its topic to the
  // newest end in O(1), and the bounds forget from the oldest end. (Re-inserting into the Map
  // instead leaves holes its iterator must skip: O(topics) to find the oldest.)
  #oldest: Topic | undefined;
  #newest: Topic | undefined;
  #totalBytes = 0;
  #firstSeq = 0;
  #lastSeq = 0;
  #forgottenUpTo = 0;

  /**
   * Creates an empty history.
   *
   * @param options Bounds per topic, on the number of topics and on the total.
   * @throws {RangeError} When a bound is not a positive integer.
   */
  constructor(options: MemoryHistoryOptions = {}) {
    this.#maxEvents = positive("maxEvents", options.maxEvents ?? 1000);
    this.#maxBytes = positive("maxBytes", options.maxBytes ?? 1024 * 1024);
    this.#maxTopics = positive("maxTopics", options.maxTopics ?? 10_000);
    this.#maxTotalBytes = positive("maxTotalBytes", options.maxTotalBytes ?? 64 * 1024 * 1024);
  }

  /**
   * The memory it holds by its own count (encoded bytes plus the overheads), in bytes;
   * never more than `maxTotalBytes` once an append returns, unless one event alone is larger.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { MemoryHistory } from "@sse-hub/sse-hub";
   *
   * const history = new MemoryHistory({ maxTotalBytes: 4096 });
   * for (let id = 1; id <= 100; id++) history.append({ id: String(id), topic: `t${id}`, bytes: new Uint8Array(100) });
   * assert.ok(history.retainedBytes <= 4096);
   * ```
   */
  get retainedBytes(): number {
    return this.#totalBytes;
  }

  /**
   * Records an event; evicts the oldest ones past the bounds. Keeps `entry.json`
   * (or, when only `entry.message` is given, whether its `data` is a string), not
   * the payload.
   *
   * @param entry The event, with the increasing numeric id the hub assigned.
   * @throws {RangeError} When the id is not larger than the last one, or not 1 to 16 digits.
   */
  append(entry: HistoryEntry): void {
    // The id the hub just made comes with its number; anything else is checked and parsed.
    const seq = entry.id === lastIssued.id
      ? lastIssued.seq
      : NUMERIC_ID.test(entry.id)
      ? Number(entry.id)
      : 0;
    if (seq <= this.#lastSeq) {
      throw new RangeError(
        `MemoryHistory needs increasing numeric ids, got \`id\` ${JSON.stringify(entry.id)}`,
      );
    }
    if (this.#firstSeq === 0) this.#firstSeq = seq;
    this.#lastSeq = seq;
    const { id, topic, bytes, message } = entry;
    const kept: Kept = {
      seq,
      id,
      topic,
      bytes,
      event: entry.event ?? message?.event,
      json: entry.json ?? (message === undefined ? undefined : typeof message.data !== "string"),
    };
    const ring = this.#touch(topic);
    ring.push(kept);
    this.#totalBytes += bytes.byteLength + ENTRY_OVERHEAD;
    while (ring.length > this.#maxEvents || (ring.bytes > this.#maxBytes && ring.length > 1)) {
      this.#totalBytes -= ring.shift() + ENTRY_OVERHEAD;
    }
    if (this.#topics.size > this.#maxTopics) this.#forget(this.#oldest!);
    while (this.#totalBytes > this.#maxTotalBytes) {
      const oldest = this.#oldest!;
      if (oldest.ring === ring && ring.length === 1) break; // the newest event stays, whatever its size
      if (oldest.ring.length === 1) this.#forget(oldest);
      else this.#totalBytes -= oldest.ring.shift() + ENTRY_OVERHEAD;
    }
  }

  /**
   * Events after `lastEventId` on `topics`, oldest first; `complete: false` when some may be missing.
   *
   * @param topics The topics the client follows.
   * @param lastEventId The client's `Last-Event-ID`.
   * @returns The entries (with `event` and `json`, never `message`) and whether they are all it missed.
   */
  since(topics: readonly string[], lastEventId: string): Replay {
    const latestId = this.#lastSeq === 0 ? undefined : String(this.#lastSeq);
    const base = latestId === undefined ? {} : { latestId };
    if (!NUMERIC_ID.test(lastEventId)) return { entries: [], complete: false, ...base };
    const after = Number(lastEventId);
    // Unknown: newer than anything we have seen, or from before our first event (another process).
    if (after > this.#lastSeq || this.#firstSeq === 0 || after < this.#firstSeq - 1) {
      return { entries: after > this.#lastSeq ? [] : this.#collect(topics, 0), complete: false, ...base };
    }
    let complete = true;
    for (const topic of topics) {
      // A topic without a ring may have been forgotten; one with a ring knows what it lost.
      const lostUpTo = this.#topics.get(topic)?.ring.evictedUpTo ?? this.#forgottenUpTo;
      if (lostUpTo > after) complete = false;
    }
    return { entries: this.#collect(topics, after), complete, ...base };
  }

  #collect(topics: readonly string[], after: number): HistoryEntry[] {
    const found: Kept[] = [];
    for (const topic of new Set(topics)) this.#topics.get(topic)?.ring.collectAfter(after, found);
    if (topics.length > 1) found.sort((a, b) => a.seq - b.seq);
    return found;
  }

  // The topic's ring, its topic moved to the newest end of the recency list (created when new).
  #touch(name: string): Ring<Kept> {
    let topic = this.#topics.get(name);
    if (topic === undefined) {
      topic = { name, ring: new Ring(), older: undefined, newer: undefined };
      topic.ring.evictedUpTo = this.#forgottenUpTo; // it may have had events before it was forgotten
      this.#topics.set(name, topic);
      this.#totalBytes += TOPIC_OVERHEAD + name.length;
    } else if (topic === this.#newest) {
      return topic.ring;
    } else {
      this.#unlink(topic);
    }
    topic.older = this.#newest;
    if (this.#newest === undefined) this.#oldest = topic;
    else this.#newest.newer = topic;
    this.#newest = topic;
    return topic.ring;
  }

  #unlink(topic: Topic): void {
    if (topic.older === undefined) this.#oldest = topic.newer;
    else topic.older.newer = topic.newer;
    if (topic.newer === undefined) this.#newest = topic.older;
    else topic.newer.older = topic.older;
    topic.older = topic.newer = undefined;
  }

  // Drops a whole topic; an id older than its newest event can no longer be vouched for.
  #forget(topic: Topic): void {
    const { name, ring } = topic;
    this.#topics.delete(name);
    this.#unlink(topic);
    this.#totalBytes -= ring.bytes + ring.length * ENTRY_OVERHEAD + TOPIC_OVERHEAD + name.length;
    if (ring.newestSeq > this.#forgottenUpTo) this.#forgottenUpTo = ring.newestSeq;
  }
}
