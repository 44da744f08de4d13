// The linger (`HubOptions.linger`): events of consecutive event-loop turns share one write.
// Time is cut into windows of `ms` by one timer per hub, which runs only while streams are being
// handed data. A stream handed data in this window or the last one is hot: what comes for it
// now is kept back until the window ends, then handed over as one chunk. A stream handed
// nothing for a whole window is cold: its next event goes at once. So an idle stream keeps
// its immediate delivery, and a busy one costs one write per window instead of one per event.
// An event is kept back for at most `ms` after the writes of the previous window are done.

/** What a linger window's end tells a stream that is keeping bytes back. */
export interface Lingering {
  lingerEnded(): void;
}

export class Linger {
  /** The current window; starts at 2 so that a stream never handed anything (0) is cold. */
  window = 2;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Something was handed over in the current window: the timer runs one more. */
  #handed = false;
  /** A window's end is handing over what was kept back (the next window starts after it). */
  #ending = false;
  #waiting: Lingering[] = [];

  constructor(readonly ms: number) {}

  /** A stream was handed data now: the window to remember for it. */
  handedOver(): number {
    this.#handed = true;
    if (!this.#ending) this.#timer ??= setTimeout(this.#end, this.ms);
    return this.window;
  }

  /** Whether a stream last handed data in `window` keeps back what comes now. */
  isHot(window: number): boolean {
    return this.window - window <= 1;
  }

  /** A stream keeps bytes back until the current window ends. */
  wait(stream: Lingering): void {
    this.#waiting.push(stream);
    this.#timer ??= setTimeout(this.#end, this.ms);
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

  #startWindow = (): void => {
    this.#timer = setTimeout(this.#end, this.ms);
  };

  #end = (): void => {
    this.#timer = undefined;
    this.window++;
    const handed = this.#handed;
    this.#handed = false;
    const waiting = this.#waiting;
    this.#waiting = [];
    this.#ending = true;
    try {
      for (const stream of waiting) stream.lingerEnded();
    } finally {
      this.#ending = false;
    }
    // The next window starts once these writes are done: the runtime makes them after this
    // callback returns, and under load they take longer than `ms`, so a window timed from now
    // would already be over when the next event comes. A zero timer runs after them. A
    // stream handed data in the window that just ended is hot through the next one.
    if (handed || this.#handed) this.#timer ??= setTimeout(this.#startWindow, 0);
  };
}
