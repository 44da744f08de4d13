/**
 * What a {@linkcode Hub} gives back: the messages subscribers and filters see, what a
 * publish did, and the hub's counters.
 *
 * @module
 */

/** One published event as in-process subscribers and filters see it. */
export interface HubMessage<T> {
  /** The topic it was published to. */
  topic: string;
  /** Its id (sent as `id:`). */
  id: string;
  /** Its event type, when one was given. */
  event: string | undefined;
  /** The payload as published. */
  data: T;
}

/** What a publish did. */
export interface PublishResult {
  /** The topic. */
  topic: string;
  /** The id assigned to the event. */
  id: string;
  /** How many subscribers it was enqueued to. */
  delivered: number;
}

/** The hub's counters; `subscribers` and `topics` are current, the rest are totals. */
export interface HubStats {
  /** Open subscriptions (HTTP and in-process). */
  subscribers: number;
  /** Topics with at least one subscriber. */
  topics: number;
  /**
   * Timers the hub holds: the shared keep-alive (1 while there are subscribers), or one per
   * HTTP subscriber with `keepAliveTimer: "per-connection"`, plus the linger's one (while
   * streams are being handed data) and the echo sweeper of a bridged hub. A bridge's own
   * timers (command deadlines, a replay's wait for the channel) are not the hub's.
   */
  timers: number;
  /** Events published. */
  published: number;
  /** Event deliveries (one event to one subscriber). */
  delivered: number;
  /** Deliveries skipped under the `"drop"` overflow policy. */
  dropped: number;
  /** Subscribers closed for falling behind under the `"close"` overflow policy. */
  slowDisconnects: number;
  /** Events sent from history to reconnecting clients. */
  replayed: number;
  /** Requests refused (bad topic, unauthorized, full, closed). */
  rejected: number;
  /** Failures the bridge reported (the hub kept serving locally). */
  bridgeErrors: number;
  /** Times the bridge said messages may have been missed. */
  bridgeGaps: number;
}

/** Who joined or left, as `HubOptions.onJoin` and `onLeave` see it. */
export interface SubscriberInfo {
  /** The topics it follows. */
  topics: readonly string[];
  /** The key the app gave it (`HubResponseOptions.key`, `HubSubscribeOptions.key`): a user or session. */
  key: string | undefined;
  /** The SSE request, for an HTTP subscriber. */
  request: Request | undefined;
}
