// One topic's recent events, oldest first, bounded by count and bytes. Appends and
// evictions are amortised O(1): evicted slots are cleared and the array is compacted
// only once the dead prefix is as long as the live part.
import type { HistoryEntry } from "./history.ts";

export class Ring {
  readonly #entries: (HistoryEntry | undefined)[] = [];
  readonly #seqs: number[] = [];
  #head = 0;
  bytes = 0;
  /** The seq of the newest entry this ring has evicted (0: none). */
  evictedUpTo = 0;
  /** The seq of the newest entry ever appended. */
  newestSeq = 0;

  get size(): number {
    return this.#entries.length - this.#head;
  }

  push(entry: HistoryEntry, seq: number, maxEvents: number, maxBytes: number): void {
    this.#entries.push(entry);
    this.#seqs.push(seq);
    this.bytes += entry.bytes.byteLength;
    this.newestSeq = seq;
    while (this.size > maxEvents || (this.bytes > maxBytes && this.size > 1)) this.#evictOldest();
  }

  /** Appends this ring's entries newer than `after` to `out`, with their seqs. */
  collectAfter(after: number, out: { entry: HistoryEntry; seq: number }[]): void {
    let i = this.#entries.length;
    while (i > this.#head && this.#seqs[i - 1]! > after) i--;
    for (; i < this.#entries.length; i++) out.push({ entry: this.#entries[i]!, seq: this.#seqs[i]! });
  }

  #evictOldest(): void {
    const old = this.#entries[this.#head]!;
    this.bytes -= old.bytes.byteLength;
    this.evictedUpTo = this.#seqs[this.#head]!;
    this.#entries[this.#head] = undefined;
    this.#head++;
    if (this.#head >= 64 && this.#head * 2 >= this.#entries.length) {
      this.#entries.splice(0, this.#head);
      this.#seqs.splice(0, this.#head);
      this.#head = 0;
    }
  }
}
