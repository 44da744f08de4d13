/**
 * Replay history kept in a Durable Object's storage, so a client resumes with
 * its `Last-Event-ID` even after the object was evicted and rebuilt.
 *
 * @module
 */
import type { HistoryEntry, HistoryStore, Replay } from "./history.ts";

/**
 * The part of a Durable Object's storage (`ctx.storage`) this store uses; a
 * Cloudflare `DurableObjectStorage` fits it as it is. Writes must be applied in
 * the order they are made, as Durable Object storage does.
 */
export interface DurableObjectStorageLike {
  /** Stores `value` (structured-cloned) under `key`. */
  put(key: string, value: unknown): Promise<unknown>;
  /** Deletes `keys`. */
  delete(keys: string[]): Promise<unknown>;
  /** The stored pairs whose keys start with `options.prefix`. */
  list(options: { prefix: string }): Promise<Map<string, unknown>>;
}

/** Options for {@linkcode DurableObjectHistory}. */
export interface DurableObjectHistoryOptions {
  /**
   * Prefix of every key this store writes; the rest of the object's storage is left alone.
   * @default {"sse-hub:"}
   */
  prefix?: string;
  /**
   * Events kept, all topics together.
   * @default {1000}
   */
  maxEvents?: number;
  /**
   * Bytes of encoded events kept, all topics together (in storage, and again in memory).
   * @default {1048576}
   */
  maxBytes?: number;
}

/** What one key holds. `message` is there when the hub gave one (filters need it on replay). */
interface StoredEvent {
  topic: string;
  bytes: Uint8Array;
  message?: NonNullable<HistoryEntry["message"]>;
}

// Hub ids: increasing integers (µs since the epoch), 16 digits until the year 2286.
const NUMERIC_ID = /^[1-9]\d{0,15}$/;

/**
 * A {@linkcode HistoryStore} in Durable Object storage: every published event
 * is one key (`<prefix><16-digit id>`), the oldest are deleted past
 * `maxEvents` / `maxBytes`. The same events are kept in memory, so a replay
 * reads nothing from storage; after an eviction, {@linkcode DurableObjectHistory.load}
 * reads them back once. `append` is synchronous, as the hub needs: it starts the
 * storage write without awaiting it (Durable Object storage applies writes in
 * order, and its output gate holds the response to the publisher until they are
 * durable); {@linkcode DurableObjectHistory.flush} awaits them. It needs the
 * increasing numeric ids a hub assigns (not a bridge's).
 *
 * @example A hub in a Durable Object (here with a `Map` standing in for `ctx.storage`)
 * ```ts
 * import assert from "node:assert/strict";
 * import { DurableObjectHistory, Hub } from "@sse-hub/sse-hub";
 *
 * const data = new Map<string, unknown>();
 * const storage = {
 *   put: async (key: string, value: unknown) => void data.set(key, value),
 *   delete: async (keys: string[]) => keys.forEach((key) => data.delete(key)),
 *   list: async ({ prefix }: { prefix: string }) =>
 *     new Map([...data].filter(([key]) => key.startsWith(prefix)).sort(([a], [b]) => a < b ? -1 : 1)),
 * };
 * // In a Durable Object: ctx.blockConcurrencyWhile(() => history.load()) in its constructor.
 * const history = new DurableObjectHistory(storage, { maxEvents: 100 });
 * await history.load();
 * const hub = new Hub<string>({ history });
 * const first = hub.publish("news", "one");
 * hub.publish("news", "two");
 * await history.flush();
 * assert.deepEqual(data.size, 2);
 *
 * // The object is evicted; a new one reads the same storage back.
 * const revived = new DurableObjectHistory(storage, { maxEvents: 100 });
 * await revived.load();
 * const replay = await revived.since(["news"], first.id);
 * assert.deepEqual(replay.complete, true);
 * assert.deepEqual(replay.entries.map((entry) => entry.message?.data), ["two"]);
 * hub.close();
 * ```
 */
export class DurableObjectHistory implements HistoryStore {
  readonly #storage: DurableObjectStorageLike;
  readonly #prefix: string;
  readonly #maxEvents: number;
  readonly #maxBytes: number;
  // Oldest first; `#head` is the first live slot (compacted once half the array is dead).
  #seqs: number[] = [];
  #entries: HistoryEntry[] = [];
  #head = 0;
  #bytes = 0;
  /** Newest id deleted since `load` (0: none): an id at or past it missed nothing. */
  #evictedUpTo = 0;
  #loading: Promise<void> | undefined;
  #loaded = false;
  readonly #writes = new Set<Promise<void>>();
  #failure: { error: unknown } | undefined;

  /**
   * Creates a store over `storage`; call {@linkcode DurableObjectHistory.load} before the first publish.
   *
   * @param storage The object's storage (`ctx.storage`), or anything of that shape.
   * @param options The key prefix and the bounds.
   * @throws {RangeError} When a bound is not a positive integer.
   */
  constructor(storage: DurableObjectStorageLike, options: DurableObjectHistoryOptions = {}) {
    this.#storage = storage;
    this.#prefix = options.prefix ?? "sse-hub:";
    this.#maxEvents = positive("maxEvents", options.maxEvents ?? 1000);
    this.#maxBytes = positive("maxBytes", options.maxBytes ?? 1024 * 1024);
  }

  /**
   * Reads the stored events into memory (once; later calls share the first), and
   * deletes those past the bounds. In a Durable Object, run it inside
   * `ctx.blockConcurrencyWhile` in the constructor, so no request comes first.
   *
   * @throws {TypeError} When a key under the prefix does not hold an event of this store.
   */
  load(): Promise<void> {
    this.#loading ??= this.#read().catch((error: unknown) => {
      this.#loading = undefined; // a failed read may be retried
      throw error;
    });
    return this.#loading;
  }

  /**
   * Records an event: starts its storage write and keeps it in memory.
   *
   * @param entry The event, as the hub recorded it.
   * @throws {TypeError} Before {@linkcode DurableObjectHistory.load}, or after a storage write failed.
   * @throws {RangeError} When the id is not a number greater than every stored one.
   */
  append(entry: HistoryEntry): void {
    if (!this.#loaded) {
      throw new TypeError("DurableObjectHistory: `await history.load()` before the first publish");
    }
    if (this.#failure !== undefined) {
      throw new TypeError("DurableObjectHistory: an earlier storage write failed", {
        cause: this.#failure.error,
      });
    }
    const seq = Number(entry.id);
    if (!NUMERIC_ID.test(entry.id) || seq <= this.#newestSeq) {
      throw new RangeError(
        `DurableObjectHistory needs increasing numeric ids, got \`id\` ${JSON.stringify(entry.id)}`,
      );
    }
    const { topic, bytes, message } = entry;
    const stored: StoredEvent = message === undefined ? { topic, bytes } : { topic, bytes, message };
    // A value storage refuses (too large, not cloneable) throws here: the publish fails, nothing is kept.
    this.#track(this.#storage.put(this.#key(seq), stored));
    this.#push(seq, { id: entry.id, ...stored });
    const evicted = this.#evict();
    if (evicted.length > 0) this.#track(this.#storage.delete(evicted));
  }

  /**
   * The events of `topics` after `lastEventId`, oldest first, from memory.
   *
   * @param topics The topics the client follows.
   * @param lastEventId The client's `Last-Event-ID`.
   * @returns The entries, and whether they are all the client missed.
   */
  since(topics: readonly string[], lastEventId: string): Replay | Promise<Replay> {
    if (!this.#loaded) return this.load().then(() => this.since(topics, lastEventId));
    const newest = this.#newestSeq;
    const latest = newest === 0 ? {} : { latestId: String(newest) };
    if (!NUMERIC_ID.test(lastEventId)) return { entries: [], complete: false, ...latest };
    const after = Number(lastEventId);
    if (newest === 0 || after > newest) return { entries: [], complete: false, ...latest };
    // Without a deletion since `load`, only the oldest kept event vouches for what came before.
    const floor = this.#evictedUpTo > 0 ? this.#evictedUpTo : this.#seqs[this.#head]! - 1;
    const complete = after >= floor;
    const wanted = new Set(topics);
    const entries: HistoryEntry[] = [];
    for (let i = this.#firstAfter(complete ? after : 0); i < this.#seqs.length; i++) {
      const entry = this.#entries[i]!;
      if (wanted.has(entry.topic)) entries.push(entry);
    }
    return { entries, complete, ...latest };
  }

  /**
   * Resolves once every storage write started so far is done. A Durable Object
   * need not call it (its output gate waits); elsewhere, await it before saying "saved".
   *
   * @throws {TypeError} When a write failed (its error is the `cause`).
   */
  async flush(): Promise<void> {
    while (this.#writes.size > 0) await Promise.all(this.#writes);
    if (this.#failure !== undefined) {
      throw new TypeError("DurableObjectHistory: a storage write failed", { cause: this.#failure.error });
    }
  }

  /** Events kept. */
  get size(): number {
    return this.#seqs.length - this.#head;
  }

  /** Bytes of encoded events kept. */
  get bytes(): number {
    return this.#bytes;
  }

  async #read(): Promise<void> {
    const stored = await this.#storage.list({ prefix: this.#prefix });
    const found: [number, HistoryEntry][] = [];
    for (const [key, value] of stored) {
      const id = key.slice(this.#prefix.length).replace(/^0+/, "");
      if (!key.startsWith(this.#prefix) || !NUMERIC_ID.test(id) || !isStoredEvent(value)) {
        throw new TypeError(`DurableObjectHistory: key ${JSON.stringify(key)} does not hold an event`);
      }
      const { topic, bytes, message } = value;
      found.push([Number(id), message === undefined ? { id, topic, bytes } : { id, topic, bytes, message }]);
    }
    found.sort((a, b) => a[0] - b[0]);
    for (const [seq, entry] of found) this.#push(seq, entry);
    const evicted = this.#evict();
    this.#evictedUpTo = 0; // deleted at load, not by a publish this session saw
    this.#loaded = true;
    if (evicted.length > 0) this.#track(this.#storage.delete(evicted));
  }

  get #newestSeq(): number {
    return this.#seqs.length > this.#head ? this.#seqs[this.#seqs.length - 1]! : 0;
  }

  #key(seq: number): string {
    return this.#prefix + String(seq).padStart(16, "0");
  }

  #push(seq: number, entry: HistoryEntry): void {
    this.#seqs.push(seq);
    this.#entries.push(entry);
    this.#bytes += entry.bytes.byteLength;
  }

  // Drops the oldest events past the bounds (always keeping the newest); returns their keys.
  #evict(): string[] {
    const keys: string[] = [];
    while (this.size > this.#maxEvents || (this.#bytes > this.#maxBytes && this.size > 1)) {
      const seq = this.#seqs[this.#head]!;
      this.#bytes -= this.#entries[this.#head]!.bytes.byteLength;
      this.#evictedUpTo = seq;
      keys.push(this.#key(seq));
      this.#head++;
    }
    if (this.#head >= 64 && this.#head * 2 >= this.#seqs.length) {
      this.#seqs = this.#seqs.slice(this.#head);
      this.#entries = this.#entries.slice(this.#head);
      this.#head = 0;
    }
    return keys;
  }

  // The index of the first kept event newer than `after` (binary search: ids increase).
  #firstAfter(after: number): number {
    let low = this.#head;
    let high = this.#seqs.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.#seqs[middle]! > after) high = middle;
      else low = middle + 1;
    }
    return low;
  }

  #track(write: Promise<unknown>): void {
    const settled: Promise<void> = write.then(
      () => void this.#writes.delete(settled),
      (error: unknown) => {
        this.#writes.delete(settled);
        this.#failure ??= { error };
      },
    );
    this.#writes.add(settled);
  }
}

function isStoredEvent(value: unknown): value is StoredEvent {
  const event = value as StoredEvent | null;
  return typeof event === "object" && event !== null && typeof event.topic === "string" &&
    event.bytes instanceof Uint8Array;
}

function positive(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`\`${name}\` must be a positive integer, got ${value}`);
  }
  return value;
}
