// Every topic's recent events in one log, oldest first, bounded by count and bytes: what
// DurableObjectHistory keeps in memory. `evict` returns the ids it dropped, so that the caller
// drops them from storage too. Evicted slots are compacted away once half the array is dead.
import type { HistoryEntry } from "./history.ts";

export class EventLog {
  #seqs: number[] = [];
  #entries: HistoryEntry[] = [];
  #head = 0;
  /** Bytes of the encoded events kept. */
  bytes = 0;
  /** The newest id evicted (0: none). */
  evictedUpTo = 0;

  get size(): number {
    return this.#seqs.length - this.#head;
  }

  /** The newest id kept (0: empty). */
  get newestSeq(): number {
    return this.size > 0 ? this.#seqs[this.#seqs.length - 1]! : 0;
  }

  /** The oldest id kept (0: empty). */
  get oldestSeq(): number {
    return this.size > 0 ? this.#seqs[this.#head]! : 0;
  }

  /** Appends an event; its id must be greater than every kept one. */
  push(seq: number, entry: HistoryEntry): void {
    this.#seqs.push(seq);
    this.#entries.push(entry);
    this.bytes += entry.bytes.byteLength;
  }

  /** Drops the oldest events past the bounds, always keeping the newest; returns their ids. */
  evict(maxEvents: number, maxBytes: number): number[] {
    const evicted: number[] = [];
    while (this.size > maxEvents || (this.bytes > maxBytes && this.size > 1)) {
      const seq = this.#seqs[this.#head]!;
      this.bytes -= this.#entries[this.#head]!.bytes.byteLength;
      this.evictedUpTo = seq;
      evicted.push(seq);
      this.#head++;
    }
    if (this.#head >= 64 && this.#head * 2 >= this.#seqs.length) {
      this.#seqs = this.#seqs.slice(this.#head);
      this.#entries = this.#entries.slice(this.#head);
      this.#head = 0;
    }
    return evicted;
  }

  /** The kept events of `topics` newer than `after`, oldest first. */
  collectAfter(after: number, topics: ReadonlySet<string>): HistoryEntry[] {
    // Binary search for the first id past `after`: ids increase.
    let low = this.#head;
    let high = this.#seqs.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.#seqs[middle]! > after) high = middle;
      else low = middle + 1;
    }
    const found: HistoryEntry[] = [];
    for (let i = low; i < this.#seqs.length; i++) {
      if (topics.has(this.#entries[i]!.topic)) found.push(this.#entries[i]!);
    }
    return found;
  }
}
