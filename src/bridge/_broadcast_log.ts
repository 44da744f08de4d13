// The replay history of a BroadcastChannelBridge: the events this instance saw, in arrival
// order, bounded by count and by the text it retains; replayed in id order. It keeps each event
// as the text that travelled on the channel (the same strings the hub was handed, not a copy)
// and encodes only what a replay sends: the live path encodes every event once, in the hub.
//
// A client may bring an id this instance has not received yet: it read the event from another
// instance a moment ago, and the channel is still carrying it here. Answered at once, that was a
// reset ("unknown id") and then the same events again, live. So `since` waits for such an id,
// up to ARRIVAL_WAIT_MS (the hub holds the client's live events meanwhile); an id at or below
// what this log has dropped cannot arrive any more and is answered at once.
import { encodeEvent } from "../encode.ts";
import type { HistoryEntry, HistoryStore, Replay } from "../history.ts";
import type { BridgeMessage } from "./bridge.ts";

/**
 * How long `since` waits for an id not seen here yet, which may still arrive: far longer than the
 * channel takes, even from a worker that spends ~130 ms writing one event to 10k connections.
 * An id that never arrives (a forged one, or one from an instance that stopped) gets its reset after it.
 */
export const ARRIVAL_WAIT_MS = 1000;

/** `<clock>-<node>`: a Lamport clock (never below Date.now()) and the publishing instance. */
export const ID = /^(\d{1,16})-([0-9a-z]{1,16})$/;

/** Orders two `<clock>-<node>` ids: by clock, then by node. */
export function compareIds(a: string, b: string): number {
  const dashA = a.indexOf("-");
  const dashB = b.indexOf("-");
  const clocks = Number(a.slice(0, dashA)) - Number(b.slice(0, dashB));
  if (clocks !== 0) return clocks;
  const nodeA = a.slice(dashA + 1);
  const nodeB = b.slice(dashB + 1);
  return nodeA < nodeB ? -1 : nodeA > nodeB ? 1 : 0;
}

type Logged = Omit<BridgeMessage, "origin">;

// What one logged event retains, in bytes: its strings (2 bytes a character at worst in V8)
// and the record holding them.
const RECORD_BYTES = 64;
const retained = (m: Logged): number =>
  RECORD_BYTES + 2 * (m.id.length + m.topic.length + m.data.length + (m.event?.length ?? 0));

export class ArrivalLog implements HistoryStore {
  readonly #entries: Logged[] = [];
  readonly #ids = new Set<string>();
  readonly #deserialize: (text: string) => unknown;
  #bytes = 0;
  #newest: string | undefined;
  #evicted: string | undefined;
  /** Per id not seen yet, the replays waiting for it (each resolves once). */
  readonly #awaited = new Map<string, Set<() => void>>();

  constructor(readonly maxEvents: number, readonly maxBytes: number, deserialize: (text: string) => unknown) {
    this.#deserialize = deserialize;
  }

  /** Records a message from the channel (or an own publish); a repeated id is refused. */
  record(message: BridgeMessage): void {
    const { id, topic, event, data, json } = message;
    if (this.#ids.has(id)) throw new RangeError(`the history already has event ${JSON.stringify(id)}`);
    const entry: Logged = event === undefined ? { id, topic, data, json } : { id, topic, event, data, json };
    this.#entries.push(entry);
    this.#ids.add(id);
    this.#awaited.get(id)?.forEach((arrived) => arrived()); // they answer after this event is delivered
    this.#bytes += retained(entry);
    if (this.#newest === undefined || compareIds(id, this.#newest) > 0) this.#newest = id;
    while (
      this.#entries.length > this.maxEvents || (this.#bytes > this.maxBytes && this.#entries.length > 1)
    ) {
      const old = this.#entries.shift()!;
      this.#ids.delete(old.id);
      this.#bytes -= retained(old);
      if (this.#evicted === undefined || compareIds(old.id, this.#evicted) > 0) this.#evicted = old.id;
    }
  }

  /** Refuses: the bridge records what the channel carries (see `record`). */
  append(entry: HistoryEntry): void {
    throw new TypeError(
      `a BroadcastChannelBridge's history is written by the bridge, not by \`append\` (event ${entry.id})`,
    );
  }

  /** Orders ids as the bridge assigns them (see `HistoryStore.compareIds`). */
  compareIds(a: string, b: string): number {
    return compareIds(a, b);
  }

  /** Ends every wait for an id (the bridge closes): they are answered with what is here. */
  stopWaiting(): void {
    for (const waits of [...this.#awaited.values()]) waits.forEach((arrived) => arrived());
  }

  since(topics: readonly string[], lastEventId: string): Replay | Promise<Replay> {
    if (ID.test(lastEventId) && !this.#ids.has(lastEventId) && this.#mayArrive(lastEventId)) {
      return this.#arrival(lastEventId).then(() => this.#answer(topics, lastEventId));
    }
    return this.#answer(topics, lastEventId);
  }

  // Not seen, but newer than anything this log dropped: it may still be on its way.
  #mayArrive(id: string): boolean {
    return this.#evicted === undefined || compareIds(id, this.#evicted) > 0;
  }

  // Resolves when `id` is recorded, after ARRIVAL_WAIT_MS, or when the bridge closes.
  #arrival(id: string): Promise<void> {
    return new Promise((resolve) => {
      let waits = this.#awaited.get(id);
      if (waits === undefined) this.#awaited.set(id, waits = new Set());
      const arrived = () => {
        clearTimeout(timer);
        waits.delete(arrived);
        if (waits.size === 0) this.#awaited.delete(id);
        resolve();
      };
      const timer = setTimeout(arrived, ARRIVAL_WAIT_MS);
      waits.add(arrived);
    });
  }

  #answer(topics: readonly string[], lastEventId: string): Replay {
    const base = this.#newest === undefined ? {} : { latestId: this.#newest };
    if (!ID.test(lastEventId) || this.#newest === undefined || compareIds(lastEventId, this.#newest) > 0) {
      return { entries: [], complete: false, ...base };
    }
    const wanted = new Set(topics);
    const logged = this.#entries.filter((e) => wanted.has(e.topic) && compareIds(e.id, lastEventId) > 0);
    logged.sort((a, b) => compareIds(a.id, b.id));
    const entries: HistoryEntry[] = [];
    for (const entry of logged) {
      const replayed = this.#toEntry(entry);
      if (replayed !== undefined) entries.push(replayed);
    }
    const complete = this.#ids.has(lastEventId) &&
      (this.#evicted === undefined || compareIds(this.#evicted, lastEventId) <= 0);
    return { entries, complete, ...base };
  }

  // Encoded here, for the replay only. An event that cannot be encoded was refused (and reported)
  // by the hub when it arrived, so it was never sent live either: it is not replayed.
  #toEntry({ id, topic, event, data, json }: Logged): HistoryEntry | undefined {
    let bytes: Uint8Array;
    try {
      bytes = encodeEvent(event === undefined ? { id, data } : { event, id, data });
    } catch {
      return undefined;
    }
    try {
      return { id, topic, bytes, message: { event, data: json ? this.#deserialize(data) : data } };
    } catch {
      return { id, topic, bytes }; // without its payload: replayed to subscribers without a filter only
    }
  }
}
