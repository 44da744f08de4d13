// A bounded log: items in arrival order, each with an increasing sequence number and a
// size. It evicts only when told to (the owner decides the bounds) and imports nothing.
// Appends and evictions are amortised O(1): evicted slots are cleared and the arrays
// are compacted only once the dead prefix is as long as the live part.

/** An item and its sequence number, as {@linkcode Ring.collectAfter} hands them out. */
export interface Sequenced<T> {
  item: T;
  seq: number;
}

export class Ring<T> {
  readonly #items: (T | undefined)[] = [];
  readonly #seqs: number[] = [];
  readonly #sizes: number[] = [];
  #head = 0;
  /** The sum of the sizes of the items held. */
  bytes = 0;
  /** The seq of the newest item this ring has evicted (0: none). */
  evictedUpTo = 0;
  /** The seq of the newest item ever appended. */
  newestSeq = 0;

  /** How many items it holds. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Appends `item`; `seq` must be larger than every earlier one. */
  push(item: T, seq: number, size: number): void {
    this.#items.push(item);
    this.#seqs.push(seq);
    this.#sizes.push(size);
    this.bytes += size;
    this.newestSeq = seq;
  }

  /** Evicts the oldest item; returns its size (0 when empty). */
  shift(): number {
    if (this.length === 0) return 0;
    const size = this.#sizes[this.#head]!;
    this.bytes -= size;
    this.evictedUpTo = this.#seqs[this.#head]!;
    this.#items[this.#head] = undefined;
    this.#head++;
    if (this.#head >= 64 && this.#head * 2 >= this.#items.length) {
      this.#items.splice(0, this.#head);
      this.#seqs.splice(0, this.#head);
      this.#sizes.splice(0, this.#head);
      this.#head = 0;
    }
    return size;
  }

  /** Appends this ring's items with a seq above `after` to `out`, oldest first. */
  collectAfter(after: number, out: Sequenced<T>[]): void {
    let i = this.#items.length;
    while (i > this.#head && this.#seqs[i - 1]! > after) i--;
    for (; i < this.#items.length; i++) out.push({ item: this.#items[i]!, seq: this.#seqs[i]! });
  }
}
