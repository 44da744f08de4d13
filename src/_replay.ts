// Last-Event-ID → replay or reset. A store that answers at once (MemoryHistory) is replayed
// before the subscriber joins the fan-out; one that answers later (Redis) makes the subscriber
// hold live events meanwhile, and they go out after the replay, de-duplicated and in order.
import { encodeEvent } from "./encode.ts";
import type { Guard } from "./_guard.ts";
import type { Held, Subscriber } from "./_subscriber.ts";
import type { HistoryEntry, HistoryStore, Replay } from "./history.ts";
import type { HubMessage } from "./message.ts";
import { payloadOf } from "./_payload.ts";

/** Why a client gets a reset event instead of (all of) what it missed. */
export type ResetReason = "unknown-id" | "history-exceeded" | "history-unavailable" | "bus-gap";

/** What a replay needs from its hub. */
export interface ReplayContext<T> {
  readonly history: HistoryStore;
  /** The reset event's type (`HubOptions.resetEvent`). */
  readonly resetEvent: string;
  /** The message a filter sees for a stored entry; `undefined` when the store kept no payload. */
  messageOf(entry: HistoryEntry): HubMessage<T> | undefined;
  /** Counts events sent from history. */
  replayed(count: number): void;
  /** A filter threw: this subscriber fails, alone. */
  failed(subscriber: Subscriber<T>, error: unknown): void;
  /** Marks the hub busy while application callbacks (filters) run: they must not publish. */
  readonly guard: Guard;
  /** The store's id order, when others write it too (see `HistoryStore.compareIds`). */
  readonly compareIds: ((a: string, b: string) => number) | undefined;
}

/** The reset event: `{"reason": …}`, with `id` when the client should resume from it. */
export function encodeReset(event: string, reason: ResetReason, id?: string): Uint8Array {
  return encodeEvent({ event, ...(id === undefined ? {} : { id }), data: { reason } });
}

/** The context a hub's replays share. */
export function replayContext<T>(
  history: HistoryStore,
  resetEvent: string,
  guard: Guard,
  counters: { replayed: number },
  drop: (subscriber: Subscriber<T>) => void,
  deserialize?: (text: string) => unknown,
): ReplayContext<T> {
  return {
    history,
    resetEvent,
    guard,
    compareIds: history.compareIds?.bind(history),
    messageOf: (entry) => {
      // Rebuilt from the bytes when the store kept no payload (MemoryHistory); lazily, per entry.
      const payload = payloadOf(entry, deserialize);
      return payload && { topic: entry.topic, id: entry.id, ...payload } as HubMessage<T>;
    },
    replayed: (count) => void (counters.replayed += count),
    failed: (subscriber, error) => {
      subscriber.fail(error);
      drop(subscriber);
    },
  };
}

const FAILED_STORE: Replay = { entries: [], complete: false };
/** The answer for a client that sent no id: nothing to replay, nothing missing. */
const NOTHING: Replay = { entries: [], complete: true };

/**
 * Replays what `subscriber` missed after `lastEventId` (none: nothing, for a start put off until
 * the first read, whose held events then go out), or holds live events until the store answers.
 */
export function startReplay<T>(
  subscriber: Subscriber<T>,
  lastEventId: string | undefined,
  context: ReplayContext<T>,
): void {
  let replay: Replay | Promise<Replay> = NOTHING;
  if (lastEventId !== undefined) {
    try {
      replay = context.history.since(subscriber.topics, lastEventId);
    } catch {
      replay = FAILED_STORE; // a store that fails cannot vouch for anything: the client gets a reset
    }
  }
  if (!(replay instanceof Promise)) return finish(subscriber, lastEventId, replay, context);
  if (subscriber.held === undefined) subscriber.hold();
  replay.then((answer) => answer, () => FAILED_STORE)
    .then((answer) => finish(subscriber, lastEventId, answer, context))
    .catch((error: unknown) => context.failed(subscriber, error)); // never an unhandled rejection
}

// Sends the answer and what was held meanwhile; then, if the hub closed while the store answered
// (or before the first read), what was published before close still goes out, and the stream ends.
function finish<T>(
  subscriber: Subscriber<T>,
  lastEventId: string | undefined,
  replay: Replay,
  context: ReplayContext<T>,
): void {
  context.guard.run(() => send(subscriber, lastEventId, replay, subscriber.takeHeld(), context));
  const closing = subscriber.closing;
  if (closing === undefined || !subscriber.active) return;
  if (closing.last !== undefined) subscriber.push(closing.last);
  subscriber.end();
}

function send<T>(
  subscriber: Subscriber<T>,
  lastEventId: string | undefined,
  replay: Replay,
  held: Held<T>[],
  context: ReplayContext<T>,
): void {
  if (!subscriber.active) return;
  const { entries } = replay;
  if (!replay.complete) {
    const resume = entries.length === 0 && replay.latestId !== undefined ? replay.latestId : undefined;
    // A store that failed is not an unknown id: the events may well be there once it is back.
    const reason = replay === FAILED_STORE
      ? "history-unavailable"
      : entries.length > 0
      ? "history-exceeded"
      : "unknown-id";
    subscriber.push(encodeReset(context.resetEvent, reason, resume));
  }
  const seen = new Set<string>();
  let sent = 0;
  for (const entry of entries) {
    seen.add(entry.id); // filtered out or not, the replay had it
    let message: HubMessage<T> | undefined;
    try {
      // The payload may be rebuilt here (the hub's `deserialize`), which can throw like a filter.
      if (subscriber.filter !== undefined || !subscriber.wantsBytes) message = context.messageOf(entry);
      // A filtered subscriber only gets what its filter accepts; without the payload, nothing.
      if (subscriber.filter !== undefined && (message === undefined || !subscriber.filter(message))) continue;
    } catch (error) {
      context.failed(subscriber, error);
      return;
    }
    subscriber.replayed(entry.bytes, message);
    sent++;
  }
  context.replayed(sent);
  // Held live events are in publish order. One the replay did not have goes out after it,
  // unless a later held event was in the replay: then it is older than something already
  // sent (the store trimmed it, and its reset said so), and sending it would move the
  // client's id backwards. A store that others write too may be ahead of this hub's bus: what
  // the client has by now (up to `through`) may be held or still to come live. Such a store
  // orders its ids, so those are skipped.
  const compare = context.compareIds;
  const through = compare && resumePoint(replay, lastEventId);
  let start = 0;
  for (let i = 0; i < held.length; i++) if (seen.has(held[i]!.id)) start = i + 1;
  for (let i = start; i < held.length; i++) {
    const event = held[i]!;
    if (seen.has(event.id) || (through !== undefined && compare!(event.id, through) <= 0)) continue;
    subscriber.replayed(event.bytes, event.message);
  }
  if (through !== undefined) subscriber.skipThrough(through, compare!);
}

// The newest id the client has once this answer is sent: the last entry, else its own id if the
// answer vouched for it, else the id a reset tells it to resume from.
function resumePoint(replay: Replay, lastEventId: string | undefined): string | undefined {
  const { entries } = replay;
  if (entries.length > 0) return entries[entries.length - 1]!.id;
  return replay.complete ? lastEventId : replay.latestId;
}
