// A bounded log: items in arrival order, each carrying an increasing sequence number and its
// bytes (whose length is its size): one array slot an item. It evicts only when told to (the
// owner decides the bounds) and imports nothing. Appends and evictions are amortised O(1):
// evicted slots are cleared and the array is compacted only once the dead prefix is as long
// as the live part.

/** What a ring holds: an item that knows its sequence number and its bytes. */
export interface Sequenced {
  readonly seq: number;
  readonly bytes: Uint8Array;
}

export class Ring<T extends Sequenced> {
  readonly #items: (T | undefined)[] = [];
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

  /** Appends `item`; its seq must be larger than every earlier one. */
  push(item: T): void {
    this.#items.push(item);
    this.bytes += item.bytes.byteLength;
    this.newestSeq = item.seq;
  }

  /** Evicts the oldest item; returns its size (0 when empty). */
  shift(): number {
    if (this.length === 0) return 0;
    const item = this.#items[this.#head]!;
    this.bytes -= item.bytes.byteLength;
    this.evictedUpTo = item.seq;
    this.#items[this.#head] = undefined;
    this.#head++;
    if (this.#head >= 64 && this.#head * 2 >= this.#items.length) {
      this.#items.splice(0, this.#head);
      this.#head = 0;
    }
    return item.bytes.byteLength;
  }

  /** Appends this ring's items with a seq above `after` to `out`, oldest first. */
  collectAfter(after: number, out: T[]): void {
    let i = this.#items.length;
    while (i > this.#head && this.#items[i - 1]!.seq > after) i--;
    for (; i < this.#items.length; i++) out.push(this.#items[i]!);
  }
}
