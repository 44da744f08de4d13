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
import {
  compareStreamIds,
  evalScript,
  newestId,
  parseBody,
  PUBLISH_SCRIPT,
  readAfter,
  STREAM_ID,
  timed,
} from "./_redis.ts";
import type { RedisCommandClient } from "./_redis.ts";
import { RedisHistory } from "./redis_history.ts";

export type { RedisCommandClient } from "./_redis.ts";

/**
 * A dedicated Redis connection for pub/sub. Bun's `RedisClient` and a
 * node-redis client fit as they are. The bridge notices reconnects by itself:
 * node-redis's `"ready"` event, or Bun's `onconnect` (chained to any handler you
 * set). Reconnect errors are reported through the hub's `onBridgeEvent`.
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

type Listener = (...args: any[]) => void;
interface EventedClient {
  on(event: string, listener: Listener): unknown;
  off?(event: string, listener: Listener): unknown;
  removeListener?(event: string, listener: Listener): unknown;
}
interface BunStyleClient {
  onconnect: Listener | null;
  onclose: Listener | null;
}

/**
 * Fans a hub's events out to every instance through one Redis. Ids are Redis
 * Stream ids (`<ms>-<seq>`), globally ordered; every instance delivers every
 * event exactly once and in stream order. When the subscriber connection drops
 * and comes back, the bridge reports a gap (`onBridgeEvent`, `bridgeGaps`) and
 * replays what it missed from the stream, in order, before going live again.
 * It never closes the clients you give it.
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
  readonly #unwatch: (() => void)[] = [];
  #sink: BridgeSink | undefined;
  /** The id of the last event delivered ("0-0": the stream was empty when we started). */
  #last: string | undefined;
  /** Live messages held while catching up from the stream. */
  #held: string[] | undefined;
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
   * @throws {RangeError} When `maxLen` is not a positive integer.
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
    this.#watch();
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
    for (const unwatch of this.#unwatch.splice(0)) unwatch();
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
          this.#last = (await newestId(this.#client, this.#key, this.#timeout)) ?? "0-0";
          this.#started();
        }
        if (this.#resubscribe && this.#subscribed) await this.#subscriber.unsubscribe(this.#key);
        if (this.#resubscribe || !this.#subscribed) {
          this.#subscribed = false;
          await this.#subscriber.subscribe(this.#key, this.#listener);
          this.#subscribed = true;
          this.#resubscribe = false;
        }
        const from = this.#last;
        const read = await readAfter(this.#client, this.#key, from, 0, [], this.#timeout);
        for (const [id, body] of read.entries) this.#handle(`${id} ${body}`);
        if (!read.known && from !== "0-0") {
          sink.gap({
            from,
            reason: "events after it are no longer in the Redis stream (trimmed or lost): not recovered",
          });
        }
        const held = this.#held ?? [];
        this.#held = undefined;
        for (const message of held) this.#handle(message);
        this.#isReady();
        if (!this.#again) return;
        this.#held = [];
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

  #onMessage(message: string): void {
    if (this.#closing) return;
    if (this.#held !== undefined) this.#held.push(message);
    else this.#handle(message);
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

  // Reconnects and connection errors, from whichever hooks the clients have.
  #watch(): void {
    const sink = this.#sink!;
    const reconnected = (resubscribe: boolean) => () => {
      if (!this.#subscribed) return this.#sync(); // still starting: it (re)subscribes anyway
      if (resubscribe) this.#resubscribe = true;
      this.#sync("the Redis subscriber connection was lost and is back: catching up from the stream");
    };
    const onError: Listener = (error) => sink.error(error);
    for (const client of new Set<object>([this.#subscriber, this.#client])) {
      if (typeof (client as Partial<EventedClient>).on === "function") {
        // node-redis: "ready" after every reconnect, once its own resubscribe is done.
        const evented = client as EventedClient;
        const onReady = reconnected(false);
        const off = (event: string, fn: Listener) =>
          (evented.off ?? evented.removeListener)?.call(evented, event, fn);
        evented.on("error", onError);
        this.#unwatch.push(() => off("error", onError));
        if (client !== this.#subscriber) continue;
        evented.on("ready", onReady);
        this.#unwatch.push(() => off("ready", onReady));
      } else if (client === this.#subscriber && "onconnect" in client) {
        // Bun (1.x): reconnects by itself but does not resubscribe; `onclose` only when it gives up.
        const bun = client as BunStyleClient;
        const { onconnect, onclose } = bun;
        const onReconnect = reconnected(true);
        bun.onconnect = function (this: unknown, ...args: unknown[]) {
          onReconnect();
          return onconnect?.apply(this, args);
        };
        const onClosed = (cause: unknown) => {
          onError(new Error("the Redis subscriber connection closed", { cause }));
          this.#resubscribe = true;
          this.#sync("the Redis subscriber connection closed: catching up once it is back");
        };
        bun.onclose = function (this: unknown, ...args: unknown[]) {
          onClosed(args[0]);
          return onclose?.apply(this, args);
        };
        this.#unwatch.push(() => {
          bun.onconnect = onconnect;
          bun.onclose = onclose;
        });
      }
    }
  }
}
