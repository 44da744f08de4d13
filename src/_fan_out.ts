// Topic → subscribers, the offer loop, and the overflow policy: the one place that decides
// what happens to a subscriber that cannot take an event. Also the hub's one keep-alive timer,
// which runs only while there are subscribers.
import { type Everyone, KeepAlive } from "./_keep_alive.ts";
import { DELIVERED, FAILED, FILTERED, FULL, type Subscriber } from "./_subscriber.ts";
import { HubError } from "./errors.ts";
import type { HubMessage, HubStats, SubscriberInfo } from "./message.ts";

/** `HubOptions.onJoin` / `onLeave`. */
export interface LifecycleHooks {
  onJoin?: (info: SubscriberInfo) => void;
  onLeave?: (info: SubscriberInfo) => void;
}

/** The totals the fan-out keeps (part of `HubStats`). */
export interface FanOutCounters {
  published: number;
  delivered: number;
  dropped: number;
  slowDisconnects: number;
}

/** All of a hub's totals (`HubStats` less the current counts). */
export type HubCounters = Omit<HubStats, "subscribers" | "topics" | "timers">;

/** Fresh totals, in the order `HubStats` shows them. */
export function zeroCounters(): HubCounters {
  return {
    published: 0,
    delivered: 0,
    dropped: 0,
    slowDisconnects: 0,
    replayed: 0,
    rejected: 0,
    bridgeErrors: 0,
    bridgeGaps: 0,
  };
}

export class FanOut<T> {
  // No set of all subscribers besides these: one entry less per connection. A subscriber of
  // several topics is in several sets; `each` visits it once, in the set of its first topic.
  readonly #topics = new Map<string, Set<Subscriber<T>>>();
  /** One `[topic]` list per topic, shared by its one-topic subscribers instead of one each. */
  readonly #oneTopicLists = new Map<string, readonly string[]>();
  #indexed = 0;
  readonly #keepAlive: KeepAlive;
  /** Subscribers that joined while an event was being offered: they start after it. */
  readonly #joining: Subscriber<T>[] = [];
  #offering = false;

  constructor(
    readonly overflow: "close" | "drop",
    keepAlive: number | false,
    keepAlivePerConnection: boolean,
    readonly counters: FanOutCounters,
    readonly hooks: LifecycleHooks = {},
  ) {
    this.#keepAlive = new KeepAlive(keepAlive, this as unknown as Everyone, keepAlivePerConnection);
  }

  /** Subscribers, including those joining during an offer. */
  get size(): number {
    return this.#indexed + this.#joining.length;
  }

  /** Topics with at least one subscriber. */
  get topicCount(): number {
    return this.#topics.size;
  }

  /** Keep-alive timers running. */
  get timers(): number {
    return this.#keepAlive.timers;
  }

  /** Subscribers of `topic` on this instance. */
  count(topic: string): number {
    return this.#topics.get(topic)?.size ?? 0;
  }

  /** Whether `topic` has subscribers (its name passed the topic rule when they joined). */
  follows(topic: string): boolean {
    return this.#topics.has(topic);
  }

  /** Keeps who a subscriber is, for the lifecycle hooks only: without them idle subscribers stay small. */
  identify(subscriber: Subscriber<T>, key: string | undefined, request: Request | undefined): void {
    if (this.hooks.onJoin || this.hooks.onLeave) {
      subscriber.info = { topics: subscriber.topics, key, request };
    }
  }

  add(subscriber: Subscriber<T>): void {
    // Added during an offer, it would be offered the event published before it existed.
    if (this.#offering) this.#joining.push(subscriber);
    else this.#index(subscriber);
  }

  remove(subscriber: Subscriber<T>, endStream = false): void {
    if (endStream && subscriber.active) subscriber.end();
    subscriber.active = false;
    const gone = subscriber.onGone;
    subscriber.onGone = undefined;
    gone?.();
    if (this.#topics.get(subscriber.topics[0]!)?.has(subscriber) !== true) {
      const joining = this.#joining.indexOf(subscriber);
      if (joining !== -1) this.#joining.splice(joining, 1);
      return;
    }
    this.#indexed--;
    for (const topic of subscriber.topics) {
      const set = this.#topics.get(topic);
      if (set === undefined) continue;
      set.delete(subscriber);
      if (set.size > 0) continue;
      this.#topics.delete(topic);
      this.#oneTopicLists.delete(topic);
    }
    this.#keepAlive.left(subscriber as Subscriber<unknown>);
    this.#announce(this.hooks.onLeave, subscriber);
  }

  /** Offers one event to every subscriber of `topic`; returns how many took it. */
  offer(topic: string, bytes: Uint8Array, message: HubMessage<T>): number {
    const counters = this.counters;
    counters.published++;
    const subscribers = this.#topics.get(topic);
    if (subscribers === undefined) return 0;
    let delivered = 0;
    this.#offering = true;
    try {
      for (const subscriber of subscribers) {
        const outcome = subscriber.offer(bytes, message);
        if (outcome === DELIVERED) delivered++;
        else if (outcome === FULL) this.#full(subscriber);
        else if (outcome === FAILED || (outcome !== FILTERED && !subscriber.active)) this.remove(subscriber);
      }
    } finally {
      this.#offering = false;
      counters.delivered += delivered;
      if (this.#joining.length > 0) this.#admitJoining();
    }
    return delivered;
  }

  /** Counts an event that no subscriber here follows, without offering it (nothing to encode). */
  passOver(): void {
    this.counters.published++;
  }

  /** Sends a chunk to every HTTP subscriber, outside its budget (a reset after a bus gap). */
  broadcast(chunk: Uint8Array): void {
    this.each((subscriber) => {
      if (subscriber.wantsBytes) subscriber.push(chunk);
    });
  }

  /** Every indexed subscriber, once each (not those still joining). */
  each(visit: (subscriber: Subscriber<T>) => void): void {
    for (const [topic, subscribers] of this.#topics) {
      for (const subscriber of subscribers) if (subscriber.topics[0] === topic) visit(subscriber);
    }
  }

  /** Indexed subscribers (the keep-alive stops at 0). */
  get indexed(): number {
    return this.#indexed;
  }

  /**
   * Ends every subscriber after `last` (if given). One still waiting for its replay is
   * ended by the replay, after what it holds: close() must not drop events published before it.
   */
  closeAll(last: Uint8Array | undefined): void {
    this.#keepAlive.stop();
    const everyone: Subscriber<T>[] = [];
    this.each((subscriber) => everyone.push(subscriber));
    for (const subscriber of everyone) this.#announce(this.hooks.onLeave, subscriber);
    everyone.push(...this.#joining);
    this.#topics.clear();
    this.#oneTopicLists.clear();
    this.#indexed = 0;
    this.#joining.length = 0;
    for (const subscriber of everyone) {
      const gone = subscriber.onGone;
      subscriber.onGone = undefined;
      gone?.();
      if (subscriber.held !== undefined && subscriber.active) {
        subscriber.closing = { last };
        continue;
      }
      if (last !== undefined) subscriber.push(last);
      subscriber.end();
    }
  }

  // The overflow policy. A subscriber holding events around a replay is closed whatever the
  // policy: dropping there would lose or reorder events around the replay. Closed, it
  // reconnects with its Last-Event-ID and is replayed from history.
  #full(subscriber: Subscriber<T>): void {
    if (this.overflow === "drop" && subscriber.held === undefined) {
      this.counters.dropped++;
      return;
    }
    this.counters.slowDisconnects++;
    subscriber.fail(
      new HubError("slow-subscriber", "the subscriber fell behind by more than its buffer and was closed"),
    );
    this.remove(subscriber);
  }

  #admitJoining(): void {
    for (const subscriber of this.#joining.splice(0)) if (subscriber.active) this.#index(subscriber);
  }

  #index(subscriber: Subscriber<T>): void {
    this.#indexed++;
    const { topics } = subscriber;
    if (topics.length === 1) {
      const shared = this.#oneTopicLists.get(topics[0]!);
      if (shared === undefined) this.#oneTopicLists.set(topics[0]!, topics);
      else subscriber.topics = shared;
    }
    for (const topic of subscriber.topics) {
      let set = this.#topics.get(topic);
      if (set === undefined) this.#topics.set(topic, set = new Set());
      set.add(subscriber);
    }
    this.#keepAlive.joined(subscriber as Subscriber<unknown>);
    this.#announce(this.hooks.onJoin, subscriber);
  }

  // Hooks are application code: they run after the current call (a microtask), so they may
  // publish; one that throws is reported by the runtime like any uncaught error.
  #announce(hook: ((info: SubscriberInfo) => void) | undefined, subscriber: Subscriber<T>): void {
    if (hook === undefined) return;
    const info = subscriber.info ?? { topics: subscriber.topics, key: undefined, request: undefined };
    queueMicrotask(() => hook(info));
  }
}
