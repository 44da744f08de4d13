/**
 * The options a {@linkcode Hub} takes (checked by its constructor, see `_check_options.ts`).
 *
 * @module
 */
import type { Serializer } from "./encode.ts";
import type { HubMessage, SubscriberInfo } from "./message.ts";
import type { HistoryStore } from "./history.ts";
import type { Bridge } from "./bridge/bridge.ts";
import type { HeadersLike } from "./headers.ts";

/** Options for {@linkcode Hub}. Every field is optional. */
export interface HubOptions {
  /**
   * Serializes non-string payloads.
   * @default {JSON.stringify}
   */
  serialize?: Serializer;
  /**
   * Where events are kept for `Last-Event-ID` replay; `false` keeps none.
   * @default {new MemoryHistory()}
   */
  history?: HistoryStore | false;
  /**
   * Bytes that may wait in one HTTP subscriber's queue. Past it the overflow policy acts.
   * @default {262144}
   */
  bufferBytes?: number;
  /**
   * Milliseconds (0 to 1000) an HTTP stream keeps back events that follow one it was just
   * sent, so that events published on consecutive event-loop turns (separate requests,
   * timers) share one socket write, like `TCP_CORK`. A stream sent nothing in the current
   * window gets its next event at once, and nothing is kept back unless the hub had more than
   * one event in the last window (and stops once keeping back merged nothing); a kept-back
   * event waits at most about `linger` ms (past that, the next publish or a read of any
   * stream in the process hands it over; other work in the same turn delays its timer), and
   * nothing is kept back while the server is still writing what came before. Worth it when
   * many clients each get several events per few ms (1,000 clients, one event per turn: 4 to
   * 12 times the events/s of 0, bench/README.md); 0 writes every event as it comes. Its window
   * timer is shared by the hub's streams: in a plain Cloudflare Worker
   * (`keepAliveTimer: "per-connection"`) keep it 0.
   * @default {0}
   */
  linger?: number;
  /**
   * What to do with a subscriber whose queue is full: `"close"` ends its stream (it
   * reconnects with `Last-Event-ID` and is replayed from history); `"drop"` skips the
   * event for it and counts it. A stream still waiting for its replay (a slow store, or
   * before the runtime's first read) is closed either way: a skip there could reorder events.
   * @default {"close"}
   */
  overflow?: "close" | "drop";
  /**
   * Milliseconds between keep-alive checks; a subscriber sent nothing for a whole
   * interval gets a comment. `false` turns it off. The default keeps quiet streams
   * inside Bun.serve's 10 s default `idleTimeout`.
   * @default {4000}
   */
  keepAlive?: number | false;
  /**
   * Where keep-alive timers live. `"shared"`: one timer for the whole hub. `"per-connection"`:
   * one per HTTP stream, created in its own request: a plain Cloudflare Worker needs it
   * (workerd ends a streaming response whose own request has no pending timer or I/O);
   * a Durable Object, Deno, Bun and Node do not.
   * @default {"shared"}
   */
  keepAliveTimer?: "shared" | "per-connection";
  /**
   * Called when a subscriber joins (after its replay), with its topics, key and request;
   * for presence ("who is here"). Runs in a microtask, so it may publish.
   * @default {undefined}
   */
  onJoin?: (info: SubscriberInfo) => void;
  /**
   * Called when a subscriber leaves, by any path (disconnect, cancel, overflow, close).
   * Runs in a microtask, so it may publish.
   * @default {undefined}
   */
  onLeave?: (info: SubscriberInfo) => void;
  /**
   * Subscribers allowed at once; past it requests get 503 with `Retry-After`.
   * @default {Infinity}
   */
  maxSubscribers?: number;
  /**
   * Topics one subscriber may follow.
   * @default {32}
   */
  maxTopicsPerSubscriber?: number;
  /**
   * A `retry:` hint (ms) sent when a stream opens.
   * @default {undefined}
   */
  retry?: number;
  /**
   * Which topic names are valid.
   * @default {/^(?!.*\.\.)[A-Za-z0-9_][A-Za-z0-9_.:-]{0,127}$/}
   */
  topicPattern?: RegExp;
  /**
   * Decides whether a request may subscribe to its topics, before anything is
   * subscribed: `true` allows, `false` answers 403, a `Response` is sent as it is
   * (e.g. a 401).
   * @default {undefined}
   */
  authorize?: (
    request: Request,
    topics: readonly string[],
  ) => boolean | Response | Promise<boolean | Response>;
  /**
   * The status for requests after {@linkcode Hub.close}: 204 tells `EventSource` to stop
   * reconnecting; 503 says "try elsewhere".
   * @default {204}
   */
  closedStatus?: 204 | 503;
  /**
   * Seconds in the `Retry-After` header of a 503.
   * @default {5}
   */
  retryAfter?: number;
  /**
   * The event type sent to a client whose `Last-Event-ID` cannot be fully replayed
   * (unknown, malformed, older than the history, or the store failed), or whose instance lost
   * bus events. Its data is JSON `{"reason": …}`: `"unknown-id"`, `"history-exceeded"`,
   * `"history-unavailable"` or `"bus-gap"` (see docs/guarantees.md).
   * @default {"sse-hub:reset"}
   */
  resetEvent?: string;
  /**
   * A cross-process bus (Redis, BroadcastChannel). With one, publish through
   * {@linkcode Hub.publishAsync}: ids come from the bus, and every instance fans out.
   * @default {undefined}
   */
  bridge?: Bridge;
  /**
   * Turns bridged text back into a payload for in-process subscribers and filters.
   * @default {JSON.parse}
   */
  deserialize?: (text: string) => unknown;
  /**
   * Told about every bridge failure and gap; the hub keeps serving local subscribers either way.
   * A gap with `recovered: false` was not caught up: the hub sent its clients a `bus-gap` reset.
   * @default {undefined}
   */
  onBridgeEvent?: (
    event: { type: "error"; error: unknown } | {
      type: "gap";
      from?: string;
      reason: string;
      recovered?: boolean;
    },
  ) => void;
  /**
   * The longest `Last-Event-ID` considered; a longer one is treated as unknown.
   * @default {128}
   */
  maxLastEventIdLength?: number;
}

/** Options for {@linkcode Hub.response}. */
export interface HubResponseOptions<T> {
  /** The topic or topics to follow. */
  topics: string | readonly string[];
  /** Only events for which this returns `true` are sent. */
  filter?: (message: HubMessage<T>) => boolean;
  /** Extra response headers (e.g. CORS). */
  headers?: HeadersLike;
  /**
   * The response status.
   * @default {200}
   */
  status?: number;
  /**
   * Overrides the id taken from the request's `Last-Event-ID` (or `lastEventId` query), which is
   * otherwise read at the runtime's first read of the stream; this one replays at once.
   */
  lastEventId?: string;
  /**
   * Who this subscriber is (a user or session id), handed to `onJoin`/`onLeave`. To reach one
   * user, give each a topic of its own too (e.g. `user:<id>`, see the README).
   */
  key?: string;
}

/** Options for {@linkcode Hub.subscribe}. */
export interface HubSubscribeOptions<T> {
  /** Only events for which this returns `true` are delivered. */
  filter?: (message: HubMessage<T>) => boolean;
  /**
   * Messages that may wait unread; past it the hub's overflow policy acts.
   * @default {1024}
   */
  bufferMessages?: number;
  /** Unsubscribes when aborted. */
  signal?: AbortSignal;
  /** Who this subscriber is, handed to `onJoin`/`onLeave`. */
  key?: string;
}

/** Options for {@linkcode Hub.close}. */
export interface HubCloseOptions<T> {
  /** A last event sent to every subscriber before its stream ends. */
  event?: { event?: string; data?: T };
  /** A `retry:` hint (ms) sent with the last event: how long clients should wait. */
  retry?: number;
}
