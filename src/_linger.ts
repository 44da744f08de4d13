// The linger (`HubOptions.linger`): events of consecutive event-loop turns share one write.
// Time is cut into windows of `ms`, by one timer per hub that runs only while streams are
// being handed data. A stream handed data in the current window keeps what comes next until
// the window ends, then gets it all as one chunk; a stream handed nothing for a whole window
// gets its next event at once. So an idle stream keeps its immediate delivery, and a busy one
// costs one write per window instead of one per event, each event waiting at most `ms`.

/** What a linger window's end tells a stream that is keeping bytes back. */
export interface Lingering {
  lingerEnded(): void;
}

export class Linger {
  /** The current window; starts at 1 so that a stream never handed anything (0) is quiet. */
  window = 1;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #waiting: Lingering[] = [];

  constructor(readonly ms: number) {}

  /** A stream was handed data now: the window it belongs to (the timer runs until it ends). */
  handedOver(): number {
    this.#timer ??= setTimeout(this.#end, this.ms);
    return this.window;
  }

  /** A stream keeps bytes back until the current window ends. */
  wait(stream: Lingering): void {
    this.#waiting.push(stream);
  }

  /** Timers running (part of the hub's `timers` stat). */
  get timers(): number {
    return this.#timer === undefined ? 0 : 1;
  }

  /** The hub closed: its streams hand over what waits as they end. */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#waiting = [];
  }

  #end = (): void => {
    this.#timer = undefined;
    this.window++;
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const stream of waiting) stream.lingerEnded();
  };
}
