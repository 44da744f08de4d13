// Group commit for RedisBridge's publishes. Each event used to be its own script call (one
// round trip and one script run in Redis per event: ~63k events/s with 256 in flight against
// ~160k/s for plain PUBLISH). Now the publishes waiting when a call can go out go as ONE call
// of the publish script, which appends and publishes them in call order. Up to three calls are
// in flight, the waiting publishes shared among them: while Redis runs one, this process reads
// the answer and echoes of another (with one at a time they took turns, each idle about half
// the time: 256 in flight ran at ~110k events/s on Bun with node-redis, now ~200k). One
// connection runs its commands in the order sent, so the order of the calls is the order in
// Redis; after a NOSCRIPT, every call in flight fails alike and is sent again, in the order the
// failures come back. A lone publish on an idle bridge still goes out at once (after the
// current microtasks). While calls are in flight, publishes that trickle in (a hub's
// publishAsync resolves on its echo, and echoes arrive a few at a time) wait for a call to end
// unless MIN_FOLLOW_UP of them wait: sent as they came, calls carried ~50 events instead of ~85.
import { STREAM_ID, timed } from "./_redis.ts";
import type { RedisCommandClient } from "./_redis.ts";
import { evalScript, PUBLISH_SCRIPT } from "./_redis_scripts.ts";

/** Events one script call appends at most: Redis runs one script at a time, so one call stays short. */
export const MAX_BATCH_EVENTS = 256;
/** Characters of event bodies one call carries at most (a single larger event goes alone). */
export const MAX_BATCH_CHARS = 1024 * 1024;
/**
 * Script calls in flight at once. Measured 1 to 4 (256 publishes in flight, Bun): 2 to 4 all
 * nearly double what 1 does; with 16 in flight, 3 and 4 add ~10 % with Bun's client, and
 * node-redis gains nothing from any.
 */
export const MAX_CALLS_IN_FLIGHT = 3;
/**
 * Publishes that must wait before another call joins those in flight (a call that ends sends
 * what waits whatever its number). 256 hub.publishAsync in flight, Bun's RedisClient, medians of
 * 6: 133k events/s with 1 (each trickle its own call), 169k with 32 or 64; node-redis unchanged.
 */
export const MIN_FOLLOW_UP = 64;

export interface PublishQueueOptions {
  client: RedisCommandClient;
  key: string;
  maxLen: number;
  timeout: number;
  /** Resolves once the feed knows where it starts: nothing is sent before (its echo would be lost). */
  started: () => boolean;
  baseline: Promise<void>;
}

interface Pending {
  topic: string;
  body: string;
  /** `performance.now()` past which it is rejected unsent (it waited `timeout` ms behind others). */
  deadline: number;
  resolve(id: string): void;
  reject(error: unknown): void;
}

/** The waiting publishes of one bridge, sent in call order, as many per round trip as are waiting. */
export class PublishQueue {
  readonly #options: PublishQueueOptions;
  #waiting: Pending[] = [];
  #calls = 0;
  #scheduled = false;

  constructor(options: PublishQueueOptions) {
    this.#options = options;
  }

  /** Queues one event body (`[topic, event, data, json, origin]` as JSON); resolves with its stream id. */
  publish(topic: string, body: string): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      this.#waiting.push({
        topic,
        body,
        deadline: performance.now() + this.#options.timeout,
        resolve,
        reject,
      });
      this.#schedule();
    });
  }

  // After the current microtasks, so that the publishes of this turn share one call; and only
  // while a call may go out (else the call that ends takes them).
  #schedule(): void {
    if (this.#scheduled || this.#calls >= MAX_CALLS_IN_FLIGHT) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      if (this.#calls === 0 || this.#waiting.length >= MIN_FOLLOW_UP) this.#drain();
    });
  }

  #drain(): void {
    while (this.#calls < MAX_CALLS_IN_FLIGHT && this.#waiting.length > 0) {
      const batch = this.#take();
      if (batch.length === 0) continue; // every one of them had expired
      this.#calls++;
      void this.#send(batch).finally(() => {
        this.#calls--;
        this.#drain(); // what waits goes now, however few
      });
    }
  }

  // The oldest waiting publishes that fit in one call (at least one, unless all expired). Those
  // that waited `timeout` ms behind earlier calls fail here, never sent: a hung Redis fails each
  // publish within about 2 × timeout, not one timeout per call queued before it.
  #take(): Pending[] {
    const now = performance.now();
    let expired = 0;
    while (expired < this.#waiting.length && this.#waiting[expired]!.deadline <= now) expired++;
    for (const { topic, reject } of this.#waiting.splice(0, expired)) {
      reject(
        new Error(
          `Redis refused the event for \`${topic}\`: not sent, it waited ${this.#options.timeout} ms behind earlier publishes`,
        ),
      );
    }
    // Shared among the calls that may go out now, so that they overlap: a closed loop of 256
    // publishes would otherwise all wait on one call, and Redis and this process take turns.
    const share = Math.ceil(this.#waiting.length / (MAX_CALLS_IN_FLIGHT - this.#calls));
    const most = Math.min(MAX_BATCH_EVENTS, share);
    let count = 0;
    let chars = 0;
    for (const { body } of this.#waiting) {
      if (count === most || (count > 0 && chars + body.length > MAX_BATCH_CHARS)) break;
      count++;
      chars += body.length;
    }
    return this.#waiting.splice(0, count);
  }

  // One script call for the batch; every publish in it resolves with its own id, or all reject.
  async #send(batch: Pending[]): Promise<void> {
    const { client, key, maxLen, timeout, started, baseline } = this.#options;
    try {
      if (!started()) await timed(baseline, timeout, "(the bridge is starting)");
    } catch (error) {
      for (const pending of batch) pending.reject(error);
      return;
    }
    const args = [String(maxLen), key];
    for (const { topic, body } of batch) args.push(topic, body);
    let reply: unknown;
    try {
      reply = await evalScript(client, PUBLISH_SCRIPT, [key], args, timeout);
    } catch (cause) {
      const reason = (cause as Error)?.message ?? String(cause);
      for (const { topic, reject } of batch) {
        reject(new Error(`Redis refused the event for \`${topic}\`: ${reason}`, { cause }));
      }
      return;
    }
    if (
      !Array.isArray(reply) || reply.length !== batch.length ||
      !reply.every((id) => typeof id === "string" && STREAM_ID.test(id))
    ) {
      const text = String(reply).slice(0, 80);
      for (const { reject } of batch) {
        reject(new TypeError(`unexpected reply to the publish script: ${text}`));
      }
      return;
    }
    for (let i = 0; i < batch.length; i++) batch[i]!.resolve(reply[i] as string);
  }
}
