// One timer for the whole hub, running only while it has subscribers: each tick
// sends a comment to every subscriber that was sent nothing since the last tick.
import type { Subscriber } from "./_subscriber.ts";

const PING = new TextEncoder().encode(":\n");

export class KeepAlive {
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly interval: number | false,
    private readonly subscribers: ReadonlySet<Subscriber<unknown>>,
  ) {}

  /** Starts the timer if it should run and does not. */
  start(): void {
    if (this.#timer !== undefined || this.interval === false) return;
    this.#timer = setInterval(() => this.#tick(), this.interval);
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  get running(): boolean {
    return this.#timer !== undefined;
  }

  #tick(): void {
    for (const subscriber of this.subscribers) {
      if (!subscriber.wrote && subscriber.wantsBytes) subscriber.push(PING);
      subscriber.wrote = false;
    }
  }
}
