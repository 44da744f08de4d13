/**
 * Replay from a Redis Stream: the history of a {@linkcode RedisBridge}, shared
 * by every instance, so a client can resume on any of them.
 *
 * @module
 */
import { encodeEvent } from "../encode.ts";
import type { HistoryEntry, HistoryStore, Replay } from "../history.ts";
import { compareStreamIds, isStreamId, newestId, parseBody, readAfter } from "./_redis.ts";
import type { RedisCommandClient } from "./_redis.ts";

/** Options for {@linkcode RedisHistory}. */
export interface RedisHistoryOptions {
  /** The connection that runs commands (Bun's `RedisClient` or a node-redis client). */
  client: RedisCommandClient;
  /**
   * The stream key.
   * @default {"sse-hub"}
   */
  key?: string;
  /**
   * The most events one replay sends; a client that missed more gets the newest
   * ones after a reset event (`complete: false`).
   * @default {1000}
   */
  maxReplay?: number;
  /**
   * Turns JSON payloads back into values for subscribers with a filter; use the hub's `deserialize`.
   * @default {JSON.parse}
   */
  deserialize?: (text: string) => unknown;
  /**
   * Milliseconds to wait for Redis before the replay fails (the hub then sends a reset).
   * @default {2000}
   */
  timeout?: number;
}

/**
 * The events after a `Last-Event-ID`, read from the Redis Stream that
 * {@linkcode RedisBridge} writes. Ids are Redis Stream ids (`<ms>-<seq>`), the
 * same on every instance. A replay is `complete` only when the client's id is
 * still in the stream: an id that was trimmed (older than `maxLen` events),
 * malformed, newer than the stream, or from another Redis gets
 * `complete: false`. The bridge records events as it publishes them, so
 * {@linkcode RedisHistory.append} refuses to be called.
 *
 * @example Usually made by the bridge (`bridge.history`); on its own it reads the same stream
 * ```ts ignore
 * import { RedisHistory } from "@sse-hub/sse-hub";
 * import { RedisClient } from "bun";
 *
 * const history = new RedisHistory({ client: new RedisClient(process.env.REDIS_URL), key: "sse-hub" });
 * const replay = await history.since(["news"], "1731500000000-0");
 * console.log(replay.complete, replay.entries.length);
 * ```
 */
export class RedisHistory implements HistoryStore {
  readonly #client: RedisCommandClient;
  readonly #key: string;
  readonly #maxReplay: number;
  readonly #deserialize: (text: string) => unknown;
  readonly #timeout: number;

  /**
   * Creates a reader of the stream at `key`.
   *
   * @param options The client and the stream key, both shared with the bridge.
   * @throws {RangeError} When `maxReplay` is not a positive integer.
   */
  constructor(options: RedisHistoryOptions) {
    this.#client = options.client;
    this.#key = options.key ?? "sse-hub";
    this.#maxReplay = options.maxReplay ?? 1000;
    this.#deserialize = options.deserialize ?? JSON.parse;
    this.#timeout = options.timeout ?? 2000;
    if (!Number.isSafeInteger(this.#maxReplay) || this.#maxReplay < 1) {
      throw new RangeError(`\`maxReplay\` must be a positive integer, got ${this.#maxReplay}`);
    }
  }

  /**
   * Refuses: the stream is written by {@linkcode RedisBridge.publish}, atomically
   * with the pub/sub message. Give a hub this history only together with its bridge.
   *
   * @param entry The entry the hub tried to record.
   * @throws {TypeError} Always.
   */
  append(entry: HistoryEntry): void {
    throw new TypeError(
      `RedisHistory is written by RedisBridge.publish, not by \`append\` (event ${entry.id}): ` +
        "use it only as the history of a hub bridged by the same RedisBridge",
    );
  }

  /**
   * The events of `topics` after `lastEventId`, oldest first, from the stream.
   *
   * @param topics The topics the client follows.
   * @param lastEventId The client's `Last-Event-ID`.
   * @returns The entries and whether they are all the client missed.
   */
  async since(topics: readonly string[], lastEventId: string): Promise<Replay> {
    if (!isStreamId(lastEventId)) {
      const newest = await newestId(this.#client, this.#key, this.#timeout);
      return { entries: [], complete: false, ...(newest === undefined ? {} : { latestId: newest }) };
    }
    const read = await readAfter(
      this.#client,
      this.#key,
      lastEventId,
      this.#maxReplay,
      topics,
      this.#timeout,
    );
    if (read.newest === undefined) return { entries: [], complete: false };
    const latest = { latestId: read.newest };
    if (compareStreamIds(lastEventId, read.newest) > 0) return { entries: [], complete: false, ...latest };
    let complete = read.known && !read.more;
    const entries: HistoryEntry[] = [];
    for (const [id, text] of read.entries) {
      const entry = this.#toEntry(id, text);
      if (entry === undefined) complete = false;
      else entries.push(entry);
    }
    return { entries, complete, ...latest };
  }

  // A stored body → the exact bytes the live fan-out sent. An entry that is not ours is skipped.
  #toEntry(id: string, text: string): HistoryEntry | undefined {
    try {
      const [topic, event, data, json] = parseBody(text);
      const bytes = encodeEvent(event === null ? { id, data } : { event, id, data });
      let message: HistoryEntry["message"];
      try {
        message = { event: event ?? undefined, data: json === 1 ? this.#deserialize(data) : data };
      } catch {
        // Without its payload the entry still replays to subscribers without a filter.
      }
      return message === undefined ? { id, topic, bytes } : { id, topic, bytes, message };
    } catch {
      return undefined;
    }
  }
}
