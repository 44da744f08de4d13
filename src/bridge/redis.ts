/**
 * A {@linkcode Bridge} over Redis: one Lua call appends each event to a Redis
 * Stream and publishes it on a channel, atomically, so the stream id is the
 * event id on every instance and pub/sub order is stream order. The stream is
 * the shared replay history, and the way an instance catches up after its
 * subscriber connection dropped.
 *
 * @module
 */
import type { Bridge, BridgeMessage, BridgeSink } from "./bridge.ts";
import { compareStreamIds, parseBody, STREAM_ID, timed } from "./_redis.ts";
import type { RedisCommandClient } from "./_redis.ts";
import { watchLink } from "./_redis_link.ts";
import { evalScript, PAGE, probe, PUBLISH_SCRIPT, readPage } from "./_redis_scripts.ts";
import { RedisHistory } from "./redis_history.ts";

export type { RedisCommandClient } from "./_redis.ts";

/**
 * A dedicated Redis connection for pub/sub. Bun's `RedisClient` and a
 * node-redis client fit as they are. The bridge notices drops and reconnects by
 * itself: node-redis's `"error"`, `"reconnecting"` and `"end"` (the drop) and
 * `"ready"` (back), or Bun's `onconnect` and `onclose` (chained to any handler
 * you set). Connection errors are reported through the hub's `onBridgeEvent`.
 */
export interface RedisSubscriberClient {
  /** Subscribes `listener` to `channel`. */
  subscribe(channel: string, listener: (message: string, channel: string) => void): Promise<unknown>;
  /** Unsubscribes from `channel`. */
  unsubscribe(channel: string): Promise<unknown>;
}

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
 * id were trimmed from the stream, or Redis restarted without its data) it
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
  readonly #subscriber: RedisSubscriberClient;
  readonly #key: string;
  readonly #maxLen: number;
  readonly #timeout: number;
  readonly #listener = (message: string): void => this.#onMessage(message);
  #unwatch: (() => void) | undefined;
  #sink: BridgeSink | undefined;
  /** The id of the last event delivered ("0-0": the stream was empty when we started). */
  #last: string | undefined;
  /** Live messages held from a drop until the catch-up is done (at most `maxLen`). */
  #held: string[] | undefined;
  /** Held messages were let go (too many): read the stream again before going live. */
  #heldDropped = false;
  /** The subscriber connection dropped and is not back yet. */
  #down = false;
  #subscribed = false;
  #resubscribe = false;
  #syncing = false;
  #again = false;
  #wake: (() => void) | undefined;
  #closing: Promise<void> | undefined;
  #started!: () => void;
  #isReady!: () => void;
  readonly #baseline: Promise<void>;

  /**
   * Creates a bridge over two connections you opened; nothing is sent until a hub starts it.
   *
   * @param options The two connections, the stream key and its bounds.
   * @throws {RangeError} When `maxLen`, `maxReplay` or `maxReplayBytes` is not a positive integer.
   */
  constructor(options: RedisBridgeOptions) {
    this.#client = options.client;
    this.#subscriber = options.subscriber;
    this.#key = options.key ?? "sse-hub";
    this.#maxLen = options.maxLen ?? 10_000;
    this.#timeout = options.timeout ?? 2000;
    if (!Number.isSafeInteger(this.#maxLen) || this.#maxLen < 1) {
      throw new RangeError(`\`maxLen\` must be a positive integer, got ${this.#maxLen}`);
    }
    this.#baseline = new Promise((resolve) => (this.#started = resolve));
    this.ready = new Promise((resolve) => (this.#isReady = resolve));
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
    if (this.#sink !== undefined) throw new TypeError("a RedisBridge serves one hub: it was already started");
    this.#sink = sink;
    this.#unwatch = watchLink(this.#subscriber, this.#client, {
      down: () => {
        this.#down = true;
        this.#held ??= [];
      },
      up: (resubscribed) => {
        this.#down = false;
        if (!this.#subscribed) return this.#sync(); // still starting: it subscribes anyway
        if (!resubscribed) this.#resubscribe = true;
        this.#sync("the Redis subscriber connection was lost and is back: catching up from the stream");
      },
      error: (error) => sink.error(error),
    });
    this.#sync();
  }

  /**
   * Appends the event to the stream and publishes it, in one atomic Lua call.
   *
   * @param message The event without its id.
   * @returns The stream id Redis assigned.
   */
  async publish(message: Omit<BridgeMessage, "id">): Promise<string> {
    const { topic, event, data, json, origin } = message;
    if (this.#closing) throw new Error("the RedisBridge is closed");
    // Publish only once the bridge knows where it starts, so its own events always come back.
    if (this.#last === undefined) await timed(this.#baseline, this.#timeout, "(the bridge is starting)");
    const body = JSON.stringify([topic, event ?? null, data, json ? 1 : 0, origin]);
    let id: unknown;
    try {
      id = await evalScript(this.#client, PUBLISH_SCRIPT, [this.#key], [
        String(this.#maxLen),
        topic,
        body,
        this.#key,
      ], this.#timeout);
    } catch (cause) {
      throw new Error(`Redis refused the event for \`${topic}\`: ${(cause as Error)?.message ?? cause}`, {
        cause,
      });
    }
    if (typeof id !== "string" || !STREAM_ID.test(id)) {
      throw new TypeError(`unexpected reply to the publish script: ${id}`);
    }
    return id;
  }

  /**
   * Stops receiving: unsubscribes and detaches its listeners. The clients stay
   * open (they are yours). Calling it again returns the same promise.
   *
   * @returns Resolves once unsubscribed.
   */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#wake?.();
    this.#unwatch?.();
    this.#held = undefined;
    this.#closing = this.#subscribed
      ? timed(this.#subscriber.unsubscribe(this.#key), this.#timeout, "UNSUBSCRIBE").then(() => {})
      : Promise.resolve();
    return this.#closing;
  }

  // Catch up from the stream, then go live. One run at a time; a reconnect during a run asks for another.
  #sync(gap?: string): void {
    if (this.#closing || this.#sink === undefined) return;
    this.#held ??= [];
    if (gap !== undefined) {
      this.#sink.gap(
        this.#last === undefined || this.#last === "0-0"
          ? { reason: gap }
          : { from: this.#last, reason: gap },
      );
    }
    if (this.#syncing) {
      this.#again = true;
      return;
    }
    this.#syncing = true;
    void this.#catchUp().finally(() => (this.#syncing = false));
  }

  async #catchUp(): Promise<void> {
    const sink = this.#sink!;
    for (let delay = 100; !this.#closing;) {
      this.#again = false;
      try {
        if (this.#last === undefined) {
          this.#last = (await probe(this.#client, this.#key, "", this.#timeout)).last ?? "0-0";
          this.#started();
        }
        if (this.#resubscribe && this.#subscribed) {
          await timed(this.#subscriber.unsubscribe(this.#key), this.#timeout, "UNSUBSCRIBE");
        }
        if (this.#resubscribe || !this.#subscribed) {
          this.#subscribed = false;
          await timed(this.#subscriber.subscribe(this.#key, this.#listener), this.#timeout, "SUBSCRIBE");
          this.#subscribed = true;
          this.#resubscribe = false;
        }
        if (this.#down) return; // its "up" runs the next catch-up, on the new connection
        await this.#readStream(sink);
        if (this.#again || this.#heldDropped) {
          this.#heldDropped = false;
          continue;
        }
        if (this.#down) return; // dropped while reading: keep holding
        const held = this.#held ?? [];
        this.#held = undefined;
        for (const message of held) this.#handle(message); // those already read are skipped
        this.#isReady();
        return;
      } catch (error) {
        sink.error(error);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          this.#wake = () => (clearTimeout(timer), resolve());
        });
        delay = Math.min(delay * 2, 5000);
      }
    }
  }

  // Delivers every entry after the last delivered id, one bounded page per call.
  async #readStream(sink: BridgeSink): Promise<void> {
    for (;;) {
      const from = this.#last!;
      const page = await readPage(this.#client, this.#key, "asc", from, from, [], this.#timeout);
      if (this.#closing) return;
      if (!page.continuous) {
        sink.gap({
          from,
          reason: "events after it are no longer in the Redis stream (trimmed, or Redis lost its data)",
          recovered: false,
        });
      }
      for (const [id, body] of page.entries) this.#handle(`${id} ${body}`);
      // Past entries that are not ours too, so a page of them cannot stop the walk.
      if (page.cursor !== undefined && compareStreamIds(page.cursor, this.#last!) > 0) {
        this.#last = page.cursor;
      }
      if (page.scanned < PAGE) return;
    }
  }

  #onMessage(message: string): void {
    if (this.#closing) return;
    if (this.#held === undefined) return this.#handle(message);
    if (this.#held.length >= this.#maxLen) {
      // More than the stream keeps: let them go, and read them from the stream instead.
      this.#held = [];
      this.#heldDropped = true;
    }
    this.#held.push(message);
  }

  // Delivers one `<id> <body>` message unless it was already delivered (ids only grow).
  #handle(message: string): void {
    const space = message.indexOf(" ");
    const id = message.slice(0, space);
    if (space === -1 || !STREAM_ID.test(id)) {
      this.#sink!.error(
        new TypeError(`not an sse-hub bridge message on \`${this.#key}\`: ${message.slice(0, 80)}`),
      );
      return;
    }
    if (this.#last !== undefined && compareStreamIds(id, this.#last) <= 0) return;
    let body;
    try {
      body = parseBody(message.slice(space + 1));
    } catch (error) {
      return this.#sink!.error(error);
    }
    this.#last = id;
    const [topic, event, data, json, origin] = body;
    const base = { topic, id, data, json: json === 1, origin };
    this.#sink!.deliver(event === null ? base : { ...base, event });
  }
}
