// What one client received, and the verdict against what was published. Pure bookkeeping: no I/O.
//
// Ids are Redis Stream ids (`<ms>-<seq>`), packed into one number (`ms * 1024 + seq`) so that
// tens of thousands of them per client stay cheap and compare in stream (= publish) order.

/** The counts of one client, or their sum over clients. */
export interface Tally {
  /** Acknowledged publishes the client was owed (from its first event to the fence). */
  published: number;
  /** Distinct acknowledged events it received. */
  delivered: number;
  /** Owed events it never received, with no reset event covering them. */
  lost: number;
  /** Deliveries of an id it had already received. */
  duplicated: number;
  /** Deliveries of an id lower than one it had already received (duplicates excluded). */
  reordered: number;
  /** Reset events received. */
  resets: number;
  /** Owed events missing inside a reset's window: said, so not lost. */
  missedUnderReset: number;
  /** Received events whose publish was not acknowledged (a failed POST that still went out). */
  unacked: number;
}

export const emptyTally = (): Tally => ({
  published: 0,
  delivered: 0,
  lost: 0,
  duplicated: 0,
  reordered: 0,
  resets: 0,
  missedUnderReset: 0,
  unacked: 0,
});

export function addTally(sum: Tally, one: Tally): Tally {
  for (const key of Object.keys(sum) as (keyof Tally)[]) sum[key] += one[key];
  return sum;
}

const SEQ_LIMIT = 1024;

/** `"1764500000000-3"` → a number in stream order. Throws on anything else. */
export function idKey(id: string): number {
  const match = /^(\d+)-(\d+)$/.exec(id);
  if (!match) throw new Error(`not a stream id: ${JSON.stringify(id)}`);
  const seq = Number(match[2]);
  if (seq >= SEQ_LIMIT) throw new Error(`stream id ${id}: sequence over ${SEQ_LIMIT - 1}`);
  return Number(match[1]) * SEQ_LIMIT + seq;
}

export function keyId(key: number): string {
  return `${Math.floor(key / SEQ_LIMIT)}-${key % SEQ_LIMIT}`;
}

interface ResetWindow {
  reason: string;
  /** When the client received it (`performance.now()`). */
  at: number;
  /** The last id received before the reset (-1: none). */
  after: number;
  /** The first id received after it (Infinity: none yet). */
  until: number;
}

/** One client's deliveries, in arrival order. */
export class ClientLedger {
  readonly #seen = new Set<number>();
  readonly #windows: ResetWindow[] = [];
  #first: number | undefined;
  #last = -1;
  #max = -1;
  #duplicated = 0;
  #reordered = 0;
  /** Deliveries without an id, or with one that is not a stream id. */
  malformed = 0;
  /** The first duplicates and reorderings, each with the id received just before: evidence. */
  readonly duplicateIds: string[] = [];
  readonly reorderedIds: string[] = [];

  get received(): number {
    return this.#seen.size;
  }

  has(key: number): boolean {
    return this.#seen.has(key);
  }

  /** Each reset: its reason, the id received before it and the first one after. */
  get resetWindows(): string[] {
    return this.#windows.map((w) =>
      `${w.reason}: after ${w.after < 0 ? "nothing" : keyId(w.after)}, next ${
        w.until === Infinity ? "nothing" : keyId(w.until)
      }`
    );
  }

  /** Reset reasons, in order. */
  get resetReasons(): string[] {
    return this.#windows.map((window) => window.reason);
  }

  deliver(id: string): void {
    let key: number;
    try {
      key = idKey(id);
    } catch {
      this.malformed++;
      return;
    }
    for (const window of this.#windows) if (window.until === Infinity) window.until = key;
    this.#first ??= key;
    if (this.#seen.has(key)) {
      this.#duplicated++;
      if (this.duplicateIds.length < 20) this.duplicateIds.push(`${id} (after ${keyId(this.#last)})`);
    } else if (key < this.#max) {
      this.#reordered++;
      if (this.reorderedIds.length < 20) this.reorderedIds.push(`${id} (after ${keyId(this.#last)})`);
    }
    this.#seen.add(key);
    this.#last = key;
    if (key > this.#max) this.#max = key;
  }

  reset(reason: string, at: number = performance.now()): void {
    this.#windows.push({ reason, at, after: this.#last, until: Infinity });
  }

  /**
   * The verdict: the client is owed every acknowledged id from its first delivery up to and
   * including `fence` (the last acknowledged publish, sent after the faults stopped).
   * `acked` must be sorted ascending. A reset excuses a missing event only when its id falls
   * between the ids received around the reset AND its publish was sent before the client had
   * the reset (`sentAt`, same clock): an event published after a reset is owed like any other.
   */
  tally(
    acked: readonly number[],
    fence: number,
    sentAt: ReadonlyMap<number, number> = new Map(),
  ): Tally & { lostKeys: number[] } {
    const tally = emptyTally();
    const lostKeys: number[] = [];
    const first = this.#first ?? Infinity;
    const ackedSet = new Set(acked);
    for (const key of acked) {
      if (key < first || key > fence) continue;
      tally.published++;
      if (this.#seen.has(key)) tally.delivered++;
      else if (
        this.#windows.some((w) => key > w.after && key < w.until && (sentAt.get(key) ?? Infinity) < w.at)
      ) tally.missedUnderReset++;
      else {
        tally.lost++;
        lostKeys.push(key);
      }
    }
    for (const key of this.#seen) if (!ackedSet.has(key) && key <= fence) tally.unacked++;
    tally.duplicated = this.#duplicated;
    tally.reordered = this.#reordered;
    tally.resets = this.#windows.length;
    return { ...tally, lostKeys };
  }
}
