// The receiving side of RedisBridge: subscribe, deliver live messages in stream order, and
// catch up from the stream after the subscriber connection dropped, without losing, repeating or
// reordering anything. A gap it cannot close is reported with `recovered: false`.
import type { BridgeSink } from "./bridge.ts";
import { compareStreamIds, parseBody, STREAM_ID, timed } from "./_redis.ts";
import type { RedisCommandClient, RedisSubscriberClient } from "./_redis.ts";
import { watchLink } from "./_redis_link.ts";
import { PAGE, probe, readPage } from "./_redis_scripts.ts";

/** Consecutive failed catch-ups, with live messages held meanwhile, before the feed gives up on them. */
const GIVE_UP_AFTER = 5;

export interface FeedOptions {
  client: RedisCommandClient;
  subscriber: RedisSubscriberClient;
  key: string;
  /** Held live messages past this many are let go (and read from the stream instead). */
  maxLen: number;
  timeout: number;
}

/**
 * The state machine, in short: live messages are delivered as they come while the feed is
 * live. From a drop (or a reconnect, for clients that give no drop signal) they are held; once
 * the connection is back and subscribed, the feed reads the stream after the last id it
 * delivered, page by page, then delivers the held messages it has not delivered yet. Ids only
 * grow, so "not delivered yet" is "larger than the last id".
 */
export class RedisFeed {
  /** Resolves once the feed knows its starting id (the stream's newest, or "0-0"). */
  readonly baseline: Promise<void>;
  /** Resolves once subscribed and caught up for the first time. */
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

  constructor(options: FeedOptions) {
    this.#client = options.client;
    this.#subscriber = options.subscriber;
    this.#key = options.key;
    this.#maxLen = options.maxLen;
    this.#timeout = options.timeout;
    this.baseline = new Promise((resolve) => (this.#started = resolve));
    this.ready = new Promise((resolve) => (this.#isReady = resolve));
  }

  /** Whether the feed knows its starting id (publishing before it would lose the own echo). */
  get started(): boolean {
    return this.#last !== undefined;
  }

  /** Whether it was started (a feed serves one hub). */
  get running(): boolean {
    return this.#sink !== undefined;
  }

  start(sink: BridgeSink): void {
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

  /** Stops receiving: detaches the hooks, unsubscribes. Calling it again returns the same promise. */
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
      this.#wake?.(); // waiting to retry after a failure: the connection is back, retry now
      return;
    }
    this.#syncing = true;
    void this.#catchUp().finally(() => (this.#syncing = false));
  }

  async #catchUp(): Promise<void> {
    const sink = this.#sink!;
    for (let delay = 100, failures = 0; !this.#closing;) {
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
        return this.#goLive();
      } catch (error) {
        sink.error(error);
        // Live events keep arriving but the stream cannot be read: holding them longer helps no
        // one. Say the gap is lost (the hub resets its clients) and go live with what is held.
        if (++failures >= GIVE_UP_AFTER && this.#holdingLive()) {
          sink.gap({
            from: this.#last!,
            reason:
              `catching up from the Redis stream failed ${failures} times in a row: live again without it`,
            recovered: false,
          });
          return this.#goLive();
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          this.#wake = () => (clearTimeout(timer), resolve());
        });
        this.#wake = undefined;
        delay = Math.min(delay * 2, 5000);
      }
    }
  }

  // Subscribed and up, with live messages waiting on a catch-up.
  #holdingLive(): boolean {
    return this.#last !== undefined && this.#subscribed && !this.#down &&
      ((this.#held?.length ?? 0) > 0 || this.#heldDropped);
  }

  // Delivers the held messages not delivered yet (those the catch-up read are skipped), then live.
  #goLive(): void {
    const held = this.#held ?? [];
    this.#held = undefined;
    this.#heldDropped = false;
    for (const message of held) this.#handle(message);
    this.#isReady();
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
