/**
 * A {@linkcode Bridge} over Redis: one Lua call appends each event to a Redis
 * Stream and publishes it on a channel, atomically, so the stream id is the
 * event id on every instance and pub/sub order is stream order. Publishes that
 * wait for the connection share a few calls (one round trip for many events). The stream is
 * the shared replay history, and the way an instance catches up after its
 * subscriber connection dropped.
 *
 * @module
 */
import type { Bridge, BridgeMessage, BridgeSink } from "./bridge.ts";
import type { RedisCommandClient, RedisSubscriberClient } from "./_redis.ts";
import { PublishQueue } from "./_redis_batch.ts";
import { RedisFeed } from "./_redis_feed.ts";
import { RedisHistory } from "./redis_history.ts";
import { positive } from "../_positive.ts";

export type { RedisCommandClient, RedisSubscriberClient } from "./_redis.ts";

/** Options for {@linkcode RedisBridge}. */
export interface RedisBridgeOptions {
  /** A connection for commands. Without an offline queue, publishing while Redis is down fails at once. */
  client: RedisCommandClient;
  /** A second, dedicated connection for pub/sub (e.g. `await client.duplicate()`). */
  subscriber: RedisSubscriberClient;
  /**
   * The stream key; also the pub/sub channel. Hubs that share it share events.
   * @default {"sse-hub"}
   */
  key?: string;
  /**
   * Events kept in the stream (approximately: `XADD MAXLEN ~`); older ones can no longer be replayed.
   * @default {10000}
   */
  maxLen?: number;
  /**
   * The most events one replay sends.
   * @default {1000}
   */
  maxReplay?: number;
  /**
   * The most bytes (as sent on the wire) one replay sends; past it, the newest events that fit,
   * after a reset event.
   * @default {1048576}
   */
  maxReplayBytes?: number;
  /**
   * Milliseconds to wait for a Redis reply before a publish or replay fails.
   * @default {2000}
   */
  timeout?: number;
  /**
   * Turns JSON payloads back into values for replayed filters; use the hub's `deserialize`.
   * @default {JSON.parse}
   */
  deserialize?: (text: string) => unknown;
}

/**
 * Fans a hub's events out to every instance through one Redis. Ids are Redis
 * Stream ids (`<ms>-<seq>`), globally ordered; every instance delivers every
 * event exactly once and in stream order.
 *
 * When the subscriber connection drops, the bridge holds live messages from
 * that moment (they do not move its last id). Once it is back, the bridge
 * reports a gap (`onBridgeEvent`, `bridgeGaps`), reads what it missed from the
 * stream after the last id it delivered (pages of 100 entries), then delivers
 * the held messages it has not delivered yet (ids only grow): nothing lost,
 * nothing twice, in order. When that cannot be done (the events after its last
 * id were trimmed from the stream, Redis restarted without its data, or the
 * stream could not be read 5 times in a row while live messages waited) it
 * reports the gap with `recovered: false`, and the hub sends its subscribers a
 * reset event: a gap is never silent. It never closes the clients you give it.
 *
 * @example Bun, with its built-in client (node-redis clients fit too)
 * ```ts ignore
 * import { Hub, RedisBridge } from "@sse-hub/sse-hub";
 * import { RedisClient } from "bun";
 *
 * const client = new RedisClient(process.env.REDIS_URL, { enableOfflineQueue: false });
 * const bridge = new RedisBridge({ client, subscriber: await client.duplicate() });
 * const hub = new Hub<string>({ bridge });
 * await hub.publishAsync("news", "hello"); // every instance's "news" subscribers get it
 * ```
 */
export class RedisBridge implements Bridge {
  /** The stream as replay history; a bridged hub uses it by default. */
  readonly history: RedisHistory;
  /**
   * Resolves once the bridge is subscribed and has caught up for the first time:
   * from then on, events published by any instance reach this one. Await it
   * before taking traffic. Errors meanwhile go to the hub's `onBridgeEvent`.
   */
  readonly ready: Promise<void>;
  readonly #client: RedisCommandClient;
  readonly #feed: RedisFeed;
  readonly #queue: PublishQueue;
  readonly #key: string;
  readonly #maxLen: number;
  readonly #timeout: number;
  #closing: Promise<void> | undefined;

  /**
   * Creates a bridge over two connections you opened; nothing is sent until a hub starts it.
   *
   * @param options The two connections, the stream key and its bounds.
   * @throws {RangeError} When `maxLen`, `maxReplay` or `maxReplayBytes` is not a positive integer.
   */
  constructor(options: RedisBridgeOptions) {
    this.#client = options.client;
    this.#key = options.key ?? "sse-hub";
    this.#maxLen = positive("maxLen", options.maxLen ?? 10_000);
    this.#timeout = options.timeout ?? 2000;
    this.#feed = new RedisFeed({
      client: this.#client,
      subscriber: options.subscriber,
      key: this.#key,
      maxLen: this.#maxLen,
      timeout: this.#timeout,
    });
    this.ready = this.#feed.ready;
    // Publish only once the bridge knows where it starts, so its own events always come back.
    this.#queue = new PublishQueue({
      client: this.#client,
      key: this.#key,
      maxLen: this.#maxLen,
      timeout: this.#timeout,
      started: () => this.#feed.started,
      baseline: this.#feed.baseline,
    });
    this.history = new RedisHistory({
      client: this.#client,
      key: this.#key,
      timeout: this.#timeout,
      ...(options.maxReplay === undefined ? {} : { maxReplay: options.maxReplay }),
      ...(options.maxReplayBytes === undefined ? {} : { maxReplayBytes: options.maxReplayBytes }),
      ...(options.deserialize === undefined ? {} : { deserialize: options.deserialize }),
    });
  }

  /**
   * Subscribes and starts delivering to `sink`. Called by the hub's constructor.
   *
   * @param sink Where bus messages, errors and gaps go.
   * @throws {TypeError} When the bridge was already started (one bridge serves one hub).
   */
  start(sink: BridgeSink): void {
    if (this.#feed.running) throw new TypeError("a RedisBridge serves one hub: it was already started");
    this.#feed.start(sink);
  }

  /**
   * Appends the event to the stream and publishes it, atomically. Publishes that wait for the
   * connection go out together, shared among up to three calls in flight (one round trip and
   * one script run each, at most 256 events), in call order: ids grow in the order of the calls.
   *
   * @param message The event without its id.
   * @returns The stream id Redis assigned to this event.
   */
  publish(message: Omit<BridgeMessage, "id">): Promise<string> {
    const { topic, event, data, json, origin } = message;
    if (this.#closing) return Promise.reject(new Error("the RedisBridge is closed"));
    return this.#queue.publish(topic, JSON.stringify([topic, event ?? null, data, json ? 1 : 0, origin]));
  }

  /**
   * Stops receiving: unsubscribes and detaches its listeners. The clients stay
   * open (they are yours). Calling it again returns the same promise.
   *
   * @returns Resolves once unsubscribed.
   */
  close(): Promise<void> {
    return this.#closing ??= this.#feed.close();
  }
}
