/**
 * Replay history kept in a Durable Object's storage, so a client resumes with
 * its `Last-Event-ID` even after the object was evicted and rebuilt.
 *
 * @module
 */
import { EventLog } from "./_event_log.ts";
import type { HistoryEntry, HistoryStore, Replay } from "./history.ts";
import { positive } from "./_positive.ts";
import { isStoredEvent, NUMERIC_ID } from "./_durable_object_stored_event.ts";
import type { StoredEvent } from "./_durable_object_stored_event.ts";

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
  readonly #log = new EventLog();
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
   * @throws {DOMException} `DataCloneError` when the payload cannot be stored (a function, say).
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
    if (!NUMERIC_ID.test(entry.id) || seq <= this.#log.newestSeq) {
      throw new RangeError(
        `DurableObjectHistory needs increasing numeric ids, got \`id\` ${JSON.stringify(entry.id)}`,
      );
    }
    const { topic, bytes, message } = entry;
    // Storage rejects a payload it cannot clone only later (workerd 2026-11-17), when the event
    // is out: clone it now, so that such a publish fails before anything is sent or kept.
    if (message !== undefined) structuredClone(message.data);
    const stored: StoredEvent = message === undefined ? { topic, bytes } : { topic, bytes, message };
    this.#track(this.#storage.put(this.#key(seq), stored));
    this.#log.push(seq, { id: entry.id, ...stored });
    this.#evict();
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
    const newest = this.#log.newestSeq;
    const latest = newest === 0 ? {} : { latestId: String(newest) };
    if (!NUMERIC_ID.test(lastEventId)) return { entries: [], complete: false, ...latest };
    const after = Number(lastEventId);
    if (newest === 0 || after > newest) return { entries: [], complete: false, ...latest };
    // An id at or past the newest deleted one missed nothing; without a deletion since `load`,
    // only the oldest kept event vouches for what came before it.
    const { evictedUpTo } = this.#log;
    const complete = after >= (evictedUpTo > 0 ? evictedUpTo : this.#log.oldestSeq - 1);
    return { entries: this.#log.collectAfter(complete ? after : 0, new Set(topics)), complete, ...latest };
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
    return this.#log.size;
  }

  /** Bytes of encoded events kept. */
  get bytes(): number {
    return this.#log.bytes;
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
    for (const [seq, entry] of found) this.#log.push(seq, entry);
    this.#evict();
    this.#log.evictedUpTo = 0; // what was deleted before this wake is unknown: vouch from the oldest kept
    this.#loaded = true;
  }

  #key(seq: number): string {
    return this.#prefix + String(seq).padStart(16, "0");
  }

  // Past the bounds: the oldest events leave memory and storage (one `delete` call for all).
  #evict(): void {
    const evicted = this.#log.evict(this.#maxEvents, this.#maxBytes);
    if (evicted.length > 0) this.#track(this.#storage.delete(evicted.map((seq) => this.#key(seq))));
  }

  #track(write: Promise<unknown>): void {
    const settled: Promise<void> = Promise.resolve(write).then(
      () => void this.#writes.delete(settled),
      (error: unknown) => {
        this.#writes.delete(settled);
        this.#failure ??= { error };
      },
    );
    this.#writes.add(settled);
  }
}
