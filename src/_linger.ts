// The linger (`HubOptions.linger`): events of consecutive event-loop turns share one write.
// Time is cut into windows by one timer per hub, which runs only while streams are being handed
// data. A window starts once the writes that opened it are done (a zero timer runs after them:
// under load they take longer than `ms`, and a window timed from the hand-off would be over
// before the next event came) and lasts `ms`. While the hub is busy (more than one event in the
// last window), a stream handed data in the current window is hot: what comes for it is kept
// back until the window ends, then handed over as one chunk, which makes it hot in the next
// window. A stream handed nothing in the current window is cold: its next event goes at once.
// So an idle stream keeps its immediate delivery, a busy one costs one write per window instead
// of one per event, and an event is kept back for about `ms` after the writes before it are
// done (longer when a saturated loop runs the timer late).

/** What a linger window's end tells a stream that is keeping bytes back. */
export interface Lingering {
  lingerEnded(): void;
}

/** The hub's running count of published events (`HubStats.published`). */
export interface PublishCount {
  readonly published: number;
}

export class Linger {
  /** The current window; starts at 1 so that a stream never handed anything (0) is cold. */
  window = 1;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #waiting: Lingering[] = [];
  /** More than one event was published in the last window: keeping back can merge writes. */
  #busy = false;
  #publishedBefore = 0;

  constructor(readonly ms: number, private readonly count: PublishCount) {}

  /**
   * A stream was handed data now: the window to remember for it. That window starts once
   * the writes of this turn are done (a zero timer runs after them), then lasts `ms`.
   */
  handedOver(): number {
    this.#timer ??= setTimeout(this.#startWindow, 0);
    return this.window;
  }

  /**
   * Whether a stream last handed data in `window` keeps back what comes now: only while the
   * hub is busy (events come faster than one per window), else keeping back merges nothing
   * and only delays (a saturated server's timers run late, so a window can be long).
   */
  isHot(window: number): boolean {
    return this.#busy && this.window === window;
  }

  /** A stream keeps bytes back until the current window ends. */
  wait(stream: Lingering): void {
    this.#waiting.push(stream);
    this.#timer ??= setTimeout(this.#startWindow, 0);
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
    const published = this.count.published;
    this.#busy = published - this.#publishedBefore > 1;
    this.#publishedBefore = published;
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const stream of waiting) stream.lingerEnded(); // each hand-off opens the next window
  };
}
