// The linger (`HubOptions.linger`): events of consecutive event-loop turns share one write.
// Time is cut into windows by one timer per hub, which runs only while streams are being handed
// data. A window opens with a hand-off, starts once the writes of that turn are done (a zero
// timer runs after them: under load they take longer than `ms`, and a window timed from the
// hand-off would be over before the next event came) and lasts `ms`. While the hub is busy
// (more than one event in the last window, and if it kept bytes back, one after them: else
// keeping back merged nothing, only delayed; a timer run late by a busy loop makes a lone
// event look like two), a stream handed data in the current window is hot:
// what comes for it is kept back until the window ends, then handed over as one chunk, which
// makes it hot in the next window. A stream handed nothing in the current window is cold: its
// next event goes at once. So an idle stream keeps its immediate delivery, and a busy one costs
// one write per window instead of one per event.
//
// Nothing is kept back much longer than `ms`. A window ends `ms` after the first event it kept
// back, even if it has not started. A loop busy writing runs timers late, so that deadline is
// also checked by the next publish and by every stream of the process (any hub's) that asks for
// data. And a window that has not started `ms` after it opened means the loop is still writing
// (10k streams, say): an event kept back then would miss those writes and wait for all of them
// (Deno runs no JS meanwhile), so nothing is kept back until the window starts. The clock is
// read once per window and once per published event that finds a hot stream.

/**
 * The lingers of this process that keep bytes back. A busy loop runs their timers late, and the
 * streams that do read then may be another hub's (two hubs in one process, one with a linger):
 * any stream's read checks them all.
 */
const keepingBack = new Set<Linger>();

/** Ends every window of this process that kept bytes back past its deadline (a stream asks for data). */
export function endOverdueLingers(): void {
  if (keepingBack.size === 0) return;
  const now = performance.now();
  for (const linger of keepingBack) linger.endIfOverdue(now);
}

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
  /** More than one event in the last window, and one after what it kept back: keeping back merges. */
  #busy = false;
  #publishedBefore = 0;
  /** The published count when the current window first kept bytes back. */
  #publishedAtFirstWait = 0;
  /** When the current window must end (`performance.now()`); Infinity while nothing sets it. */
  #endsAt = Infinity;
  /** The published count at the last deadline check by a publish: one clock read per event. */
  #checkedAt = -1;
  /** When the current window opened (its first hand-off), and whether it has started. */
  #openedAt = 0;
  #started = false;
  /** At the last check, the window had not started `ms` after it opened: the loop is writing. */
  #starved = false;

  constructor(readonly ms: number, private readonly count: PublishCount) {}

  /**
   * A stream was handed data now: the window to remember for it. That window starts once
   * the writes of this turn are done (a zero timer runs after them), then lasts `ms`.
   */
  handedOver(): number {
    if (this.#timer === undefined) this.#open();
    return this.window;
  }

  /**
   * Whether a stream last handed data in `window` keeps back what comes now: only while the
   * hub is busy (events come faster than one per window), else keeping back merges nothing
   * and only delays; and not while the loop is still writing what opened the window. A
   * window past its deadline ends here (its timer is late).
   */
  isHot(window: number): boolean {
    if (!this.#busy || this.window !== window) return false;
    const published = this.count.published;
    if (published !== this.#checkedAt) {
      this.#checkedAt = published;
      const now = performance.now();
      if (now >= this.#endsAt) this.#end();
      this.#starved = !this.#started && now - this.#openedAt >= this.ms;
    }
    return !this.#starved && this.window === window;
  }

  /** A stream keeps bytes back until the current window ends, at most `ms` from the first. */
  wait(stream: Lingering): void {
    if (this.#waiting.length === 0) {
      keepingBack.add(this);
      this.#endsAt = Math.min(this.#endsAt, performance.now() + this.ms);
      this.#publishedAtFirstWait = this.count.published; // counts the event kept back
    }
    this.#waiting.push(stream);
    if (this.#timer === undefined) this.#open();
  }

  /** Ends the window now if it kept bytes back and `now` is past its deadline. */
  endIfOverdue(now: number): void {
    if (this.#waiting.length > 0 && now >= this.#endsAt) this.#end();
  }

  /** Timers running (part of the hub's `timers` stat). */
  get timers(): number {
    return this.#timer === undefined ? 0 : 1;
  }

  /** The hub closed: its streams hand over what waits as they end. */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#endsAt = Infinity;
    this.#started = false;
    this.#waiting = [];
    keepingBack.delete(this);
  }

  #open(): void {
    this.#openedAt = performance.now();
    this.#timer = setTimeout(this.#startWindow, 0);
  }

  #startWindow = (): void => {
    this.#started = true;
    const now = performance.now();
    this.#endsAt = Math.min(this.#endsAt, now + this.ms);
    if (now >= this.#endsAt) this.#end();
    else this.#timer = setTimeout(this.#end, this.#endsAt - now);
  };

  #end = (): void => {
    clearTimeout(this.#timer); // ended by a deadline check before its timer ran
    this.#timer = undefined;
    this.#endsAt = Infinity;
    this.#started = false;
    this.window++;
    const published = this.count.published;
    const waiting = this.#waiting;
    this.#busy = published - this.#publishedBefore > 1 &&
      (waiting.length === 0 || published > this.#publishedAtFirstWait);
    this.#publishedBefore = published;
    this.#waiting = [];
    keepingBack.delete(this);
    for (const stream of waiting) stream.lingerEnded(); // each hand-off opens the next window
  };
}
