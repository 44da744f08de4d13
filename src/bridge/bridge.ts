/**
 * The contract between a {@linkcode Hub} and a cross-process bus. A bridged
 * hub never fans out its own publishes directly: it puts them on the bus, and
 * every instance (its own included, exactly once) fans out what the bus
 * delivers, with the id the bus assigned. Ids are therefore the same on every
 * instance, and a shared {@linkcode HistoryStore} can replay them anywhere.
 *
 * @module
 */
import type { HistoryStore } from "../history.ts";

/** One event as it travels on the bus. */
export interface BridgeMessage {
  /** The topic. */
  topic: string;
  /** The id the bus assigned (the same on every instance). */
  id: string;
  /** The event type, if any. */
  event?: string;
  /** The payload as text: the string itself, or its serialized form when `json` is true. */
  data: string;
  /** Whether `data` is the hub's serialization of a non-string payload. */
  json: boolean;
  /** Which publish this is: `<instance>:<counter>`, so the publisher can match its own echo. */
  origin: string;
}

/** What a hub hands its bridge to receive messages and report trouble. */
export interface BridgeSink {
  /** Fans out one message from the bus locally. */
  deliver(message: BridgeMessage): void;
  /** Reports a bridge failure (connection lost, bad message); the hub keeps serving locally. */
  error(error: unknown): void;
  /**
   * Reports that messages may have been missed while the bus was unreachable:
   * `from` is the last id delivered before the gap, when known. `recovered: false` says the
   * bridge could not deliver what it missed (it was trimmed from the stream, or the store is
   * gone): the hub then sends every local subscriber a reset event (reason `"bus-gap"`), so no
   * client stays silently behind. Leave it out while the bridge is still catching up.
   */
  gap(info: { from?: string; reason: string; recovered?: boolean }): void;
}

/**
 * A cross-process bus for a hub. Implementations: {@linkcode RedisBridge}
 * (Redis pub/sub + Streams) and {@linkcode BroadcastChannelBridge}.
 *
 * @example A loopback bridge (one process): ids from a counter
 * ```ts
 * import { Hub, type Bridge, type BridgeSink } from "@sse-hub/sse-hub";
 *
 * let sink: BridgeSink | undefined;
 * let next = 0;
 * const loopback: Bridge = {
 *   start(s) { sink = s; },
 *   async publish(message) {
 *     const id = String(++next);
 *     queueMicrotask(() => sink?.deliver({ ...message, id }));
 *     return id;
 *   },
 *   close() {},
 * };
 * const hub = new Hub<string>({ bridge: loopback, history: false });
 * await hub.publishAsync("news", "hello"); // { topic: "news", id: "1", delivered: 0 }
 * hub.close();
 * ```
 */
export interface Bridge {
  /** Called once by the hub's constructor: start receiving and deliver every bus message to `sink`. */
  start(sink: BridgeSink): void;
  /**
   * Puts one event on the bus; resolves with the id the bus assigned. Rejects when
   * the bus cannot take it (the event is then delivered nowhere).
   */
  publish(message: Omit<BridgeMessage, "id">): Promise<string>;
  /** A replay store shared by every instance; the hub uses it unless given its own `history`. */
  readonly history?: HistoryStore;
  /** Stops receiving and releases connections the bridge opened itself. */
  close(): void | Promise<void>;
}
