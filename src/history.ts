/**
 * Replay history: what a reconnecting client missed. The hub appends every
 * published event; on connect with a `Last-Event-ID` it asks the store for the
 * events after that id.
 *
 * @module
 */
import { Ring } from "./_ring.ts";

/** One recorded event: its id, topic and the exact bytes that were sent live. */
export interface HistoryEntry {
  /** The event's id, as sent in its `id:` line. */
  id: string;
  /** The topic it was published to. */
  topic: string;
  /** The encoded event block, replayed byte for byte. */
  bytes: Uint8Array;
  /**
   * The event's type and payload as published, where the store keeps them (the
   * in-memory one does); needed to replay to a subscriber with a filter.
   */
  message?: { event: string | undefined; data: unknown };
}

/** The answer to {@linkcode HistoryStore.since}. */
export interface Replay {
  /** The events after the given id on the asked topics, oldest first. */
  entries: HistoryEntry[];
  /**
   * `false` when the store cannot vouch that `entries` is everything the client
   * missed: the id is unknown, malformed, from before this store's memory, or
   * newer than anything published. The hub then tells the client (see `HubOptions.resetEvent`).
   */
  complete: boolean;
  /** The newest id the store knows (any topic), so a client can resume from it after a reset. */
  latestId?: string;
}

/**
 * Where a hub keeps recent events for `Last-Event-ID` replay. The default is
 * {@linkcode MemoryHistory}; a shared store (Redis Streams) lets a client
 * resume on another instance.
 *
 * @example A store that keeps nothing (every reconnect gets a reset)
 * ```ts
 * import { Hub, type HistoryStore } from "@sse-hub/sse-hub";
 *
 * const forgetful: HistoryStore = {
 *   append() {},
 *   since: () => ({ entries: [], complete: false }),
 * };
 * const hub = new Hub<string>({ history: forgetful });
 * ```
 */
export interface HistoryStore {
  /** Records a published event. Called once per publish, in publish order. */
  append(entry: HistoryEntry): void;
  /**
   * The events of `topics` published after `lastEventId`, oldest first.
   * @param topics The topics the client follows.
   * @param lastEventId The client's `Last-Event-ID` (untrusted: length-capped, otherwise raw).
   */
  since(topics: readonly string[], lastEventId: string): Replay | Promise<Replay>;
}

/** Options for {@linkcode MemoryHistory}. */
export interface MemoryHistoryOptions {
  /**
   * Events kept per topic.
   * @default {1000}
   */
  maxEvents?: number;
  /**
   * Bytes of encoded events kept per topic.
   * @default {1048576}
   */
  maxBytes?: number;
  /**
   * Topics kept; past this the topic published to least recently is forgotten.
   * @default {10000}
   */
  maxTopics?: number;
}

const NUMERIC_ID = /^\d{1,16}$/;

/**
 * The default history: a bounded ring per topic, in memory. It needs the
 * increasing numeric ids a hub assigns.
 *
 * @example
 * ```ts
 * import { Hub, MemoryHistory } from "@sse-hub/sse-hub";
 *
 * const hub = new Hub<string>({ history: new MemoryHistory({ maxEvents: 100, maxBytes: 64 * 1024 }) });
 * ```
 */
export class MemoryHistory implements HistoryStore {
  readonly #maxEvents: number;
  readonly #maxBytes: number;
  readonly #maxTopics: number;
  readonly #rings = new Map<string, Ring>();
  #firstSeq = 0;
  #lastSeq = 0;
  #forgottenUpTo = 0;

  /**
   * Creates an empty history.
   *
   * @param options Bounds per topic and on the number of topics.
   */
  constructor(options: MemoryHistoryOptions = {}) {
    this.#maxEvents = positive("maxEvents", options.maxEvents ?? 1000);
    this.#maxBytes = positive("maxBytes", options.maxBytes ?? 1024 * 1024);
    this.#maxTopics = positive("maxTopics", options.maxTopics ?? 10_000);
  }

  /** Records an event; evicts the oldest ones past the bounds. */
  append(entry: HistoryEntry): void {
    const seq = Number(entry.id);
    if (!NUMERIC_ID.test(entry.id) || seq <= this.#lastSeq) {
      throw new RangeError(
        `MemoryHistory needs increasing numeric ids, got \`id\` ${JSON.stringify(entry.id)}`,
      );
    }
    if (this.#firstSeq === 0) this.#firstSeq = seq;
    this.#lastSeq = seq;
    let ring = this.#rings.get(entry.topic);
    const isNew = ring === undefined;
    if (ring === undefined) this.#rings.set(entry.topic, ring = new Ring());
    ring.push(entry, seq, this.#maxEvents, this.#maxBytes);
    if (isNew && this.#rings.size > this.#maxTopics) this.#forgetLeastRecentTopic();
  }

  /** Events after `lastEventId` on `topics`; `complete: false` when some may be missing. */
  since(topics: readonly string[], lastEventId: string): Replay {
    const latestId = this.#lastSeq === 0 ? undefined : String(this.#lastSeq);
    const base = latestId === undefined ? {} : { latestId };
    if (!NUMERIC_ID.test(lastEventId)) return { entries: [], complete: false, ...base };
    const after = Number(lastEventId);
    // Unknown: newer than anything we have seen, or from before our first event (another process).
    if (after > this.#lastSeq || this.#firstSeq === 0 || after < this.#firstSeq - 1) {
      return { entries: after > this.#lastSeq ? [] : this.#collect(topics, 0), complete: false, ...base };
    }
    let complete = after >= this.#forgottenUpTo;
    for (const topic of topics) {
      const ring = this.#rings.get(topic);
      if (ring && ring.evictedUpTo > after) complete = false;
    }
    return { entries: this.#collect(topics, after), complete, ...base };
  }

  #collect(topics: readonly string[], after: number): HistoryEntry[] {
    const found: { entry: HistoryEntry; seq: number }[] = [];
    for (const topic of new Set(topics)) this.#rings.get(topic)?.collectAfter(after, found);
    if (topics.length > 1) found.sort((a, b) => a.seq - b.seq);
    return found.map((item) => item.entry);
  }

  // Only runs when a new topic passes `maxTopics`: a scan then is cheaper than
  // keeping an LRU order up to date on every publish.
  #forgetLeastRecentTopic(): void {
    let oldest: [string, Ring] | undefined;
    for (const pair of this.#rings) {
      if (oldest === undefined || pair[1].newestSeq < oldest[1].newestSeq) oldest = pair;
    }
    const [topic, ring] = oldest!;
    this.#rings.delete(topic);
    if (ring.newestSeq > this.#forgottenUpTo) this.#forgottenUpTo = ring.newestSeq;
  }
}

function positive(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`\`${name}\` must be a positive integer, got ${value}`);
  }
  return value;
}
