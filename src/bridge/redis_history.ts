/**
 * Replay from a Redis Stream: the history of a {@linkcode RedisBridge}, shared
 * by every instance, so a client can resume on any of them.
 *
 * @module
 */
import { encodeEvent } from "../encode.ts";
import type { HistoryEntry, HistoryStore, Replay } from "../history.ts";
import { compareStreamIds, isStreamId, parseBody } from "./_redis.ts";
import type { RedisCommandClient } from "./_redis.ts";
import { PAGE, probe, readPage } from "./_redis_scripts.ts";
import { positive } from "../_positive.ts";

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
   * The most bytes (as sent on the wire) one replay sends; past it, the replay is trimmed to the
   * newest events that fit and the client gets a reset event first (`complete: false`).
   * @default {1048576}
   */
  maxReplayBytes?: number;
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
 * still an entry of the stream and everything after it fits the budgets.
 *
 * What one request may cost Redis is bounded: a first call of three O(log N)
 * lookups answers an id that is malformed, trimmed (older than the stream's
 * first entry), unknown, or newer than the stream at once, with
 * `complete: false` and no entries, so the hub sends a reset event and resumes
 * the client from the newest id. Only a real id is walked, newest first, one
 * page of at most 100 entries per call (never a loop over the stream inside
 * one script, which would stall Redis for every instance), until the id, or
 * until `maxReplay` events or `maxReplayBytes` bytes are collected: then the
 * newest that fit are returned with `complete: false`. The bridge records
 * events as it publishes them, so {@linkcode RedisHistory.append} refuses to
 * be called.
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
  readonly #maxReplayBytes: number;
  readonly #deserialize: (text: string) => unknown;
  readonly #timeout: number;

  /**
   * Creates a reader of the stream at `key`.
   *
   * @param options The client and the stream key, both shared with the bridge.
   * @throws {RangeError} When `maxReplay` or `maxReplayBytes` is not a positive integer.
   */
  constructor(options: RedisHistoryOptions) {
    this.#client = options.client;
    this.#key = options.key ?? "sse-hub";
    this.#maxReplay = positive("maxReplay", options.maxReplay ?? 1000);
    this.#maxReplayBytes = positive("maxReplayBytes", options.maxReplayBytes ?? 1024 * 1024);
    this.#deserialize = options.deserialize ?? JSON.parse;
    this.#timeout = options.timeout ?? 2000;
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
    const valid = isStreamId(lastEventId);
    const bounds = await probe(this.#client, this.#key, valid ? lastEventId : "", this.#timeout);
    if (bounds.last === undefined) return { entries: [], complete: false };
    const latest = { latestId: bounds.last };
    // Malformed, trimmed, unknown or in the future: nothing to walk for, a reset at once.
    if (!valid || !bounds.known) return { entries: [], complete: false, ...latest };
    if (lastEventId === bounds.last) return { entries: [], complete: true, ...latest };
    const newestFirst: HistoryEntry[] = [];
    let bytes = 0;
    let complete = true;
    walk: for (let cursor = "+";;) {
      const page = await readPage(
        this.#client,
        this.#key,
        "desc",
        lastEventId,
        cursor,
        topics,
        this.#timeout,
      );
      if (!page.continuous) { // trimmed while we walked: what was read is the newest, not all
        complete = false;
        break;
      }
      for (const [id, text] of page.entries) {
        const entry = this.#toEntry(id, text);
        if (entry === undefined) {
          complete = false;
          continue;
        }
        if (newestFirst.length >= this.#maxReplay || bytes + entry.bytes.byteLength > this.#maxReplayBytes) {
          complete = false;
          break walk;
        }
        newestFirst.push(entry);
        bytes += entry.bytes.byteLength;
      }
      if (page.scanned < PAGE || page.cursor === undefined) break;
      cursor = `(${page.cursor}`;
    }
    return { entries: newestFirst.reverse(), complete, ...latest };
  }

  /**
   * Orders two stream ids: every instance writes this stream, so a replay can hold events this
   * hub's bus has not brought yet; the hub skips their live copies by this order.
   *
   * @param a A stream id (`<ms>-<seq>`).
   * @param b Another.
   * @returns Negative when `a` is older, zero when equal, positive when newer.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisHistory } from "@sse-hub/sse-hub";
   *
   * const history = new RedisHistory({ client: { send: () => Promise.resolve(null) } });
   * assert.ok(history.compareIds("1700000000000-9", "1700000000001-0") < 0);
   * assert.equal(history.compareIds("5-1", "5-1"), 0);
   * ```
   */
  compareIds(a: string, b: string): number {
    return compareStreamIds(a, b);
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
