/**
 * Replay history: what a reconnecting client missed. The hub appends every
 * published event; on connect with a `Last-Event-ID` it asks the store for the
 * events after that id. This file holds the contract only; the default store is
 * `MemoryHistory` (memory_history.ts).
 *
 * @module
 */
/**
 * One recorded event: its id, topic and the exact bytes that were sent live.
 *
 * A subscriber with a filter needs the payload too. A store gives it back in one
 * of two ways: `json` (the payload is rebuilt from `bytes` when a filter asks:
 * their `data` lines joined by LF, as a client decodes them, through the hub's
 * `deserialize` when `json` is `true`), or `message` (the payload as published,
 * kept beside the bytes). An entry with neither reaches no filtered and no
 * in-process subscriber.
 */
export interface HistoryEntry {
  /** The event's id, as sent in its `id:` line. */
  id: string;
  /** The topic it was published to. */
  topic: string;
  /** The encoded event block, replayed byte for byte. */
  bytes: Uint8Array;
  /** The event type (`event:` field), when it had one. */
  event?: string | undefined;
  /**
   * Whether the payload was serialized (anything but a string): `true` sends
   * the `data` text through the hub's `deserialize` to rebuild it, `false` means
   * the text is the payload. Absent when the store does not know.
   */
  json?: boolean | undefined;
  /**
   * The event's type and payload as published, for a store that keeps them
   * (costly: a parsed object can take many times its encoded size; `MemoryHistory`
   * keeps `json` instead).
   */
  message?: { event: string | undefined; data: unknown };
}

/** The answer to {@linkcode HistoryStore.since}. */
export interface Replay {
  /** The events after the given id on the asked topics, oldest first. */
  entries: HistoryEntry[];
  /**
   * `false` when the store cannot vouch that `entries` is everything the client
   * missed: the id is unknown, malformed, from before this store's memory, or
   * newer than anything published. The hub then tells the client (see `HubOptions.resetEvent`).
   */
  complete: boolean;
  /** The newest id the store knows (any topic), so a client can resume from it after a reset. */
  latestId?: string;
}

/**
 * Where a hub keeps recent events for `Last-Event-ID` replay. The default is
 * `MemoryHistory`; a shared store (Redis Streams) lets a client resume on
 * another instance.
 *
 * @example A store that keeps nothing (every reconnect gets a reset)
 * ```ts
 * import { Hub, type HistoryStore } from "@sse-hub/sse-hub";
 *
 * const forgetful: HistoryStore = {
 *   append() {},
 *   since: () => ({ entries: [], complete: false }),
 * };
 * const hub = new Hub<string>({ history: forgetful });
 * ```
 */
export interface HistoryStore {
  /** Records a published event. Called once per publish, in publish order. */
  append(entry: HistoryEntry): void;
  /**
   * The events of `topics` published after `lastEventId`, oldest first.
   * @param topics The topics the client follows.
   * @param lastEventId The client's `Last-Event-ID` (untrusted: length-capped, otherwise raw).
   */
  since(topics: readonly string[], lastEventId: string): Replay | Promise<Replay>;
  /**
   * Orders two ids (negative: `a` is older), for a store that others write too. Such a store
   * (`RedisHistory`, shared by every instance of a bus; a `BroadcastChannelBridge`'s, fed by
   * the channel) can answer a replay with events this hub has not fanned out yet, or vouch for
   * a client's id this hub has not reached yet: the bus brings those events later. With this
   * order the hub skips them, so the client gets each once. A store only this hub appends to
   * (`MemoryHistory`) needs none. Called with the ids of an answer, a `lastEventId` it answered
   * `complete`, and the ids of live events.
   */
  compareIds?(a: string, b: string): number;
}
