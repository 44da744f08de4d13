// Keep-alive comments for quiet streams. Shared (the default): one timer for the whole hub,
// running only while it has subscribers; each tick sends a comment to every HTTP subscriber
// that was sent nothing since the last tick. Per connection: one timer per stream, created in
// that stream's own request, which is what a plain Worker needs (workerd ends a streaming
// response whose own request has no pending timer or I/O).
import type { Subscriber } from "./_subscriber.ts";

/** The hub's subscribers, as the keep-alive sees them. */
export interface Everyone {
  readonly indexed: number;
  each(visit: (subscriber: Subscriber<unknown>) => void): void;
}

const PING = new TextEncoder().encode(":\n");

export class KeepAlive {
  #shared: ReturnType<typeof setInterval> | undefined;
  readonly #perConnection: Map<Subscriber<unknown>, ReturnType<typeof setInterval>> | undefined;

  constructor(
    private readonly interval: number | false,
    private readonly subscribers: Everyone,
    perConnection: boolean,
  ) {
    if (perConnection) this.#perConnection = new Map();
  }

  /** A subscriber joined: starts the shared timer, or this subscriber's own. */
  joined(subscriber: Subscriber<unknown>): void {
    if (this.interval === false) return;
    if (this.#perConnection === undefined) {
      this.#shared ??= setInterval(() => this.#tick(), this.interval);
    } else if (subscriber.wantsBytes) {
      this.#perConnection.set(subscriber, setInterval(() => ping(subscriber), this.interval));
    }
  }

  /** A subscriber left: stops its own timer, or the shared one when nobody is left. */
  left(subscriber: Subscriber<unknown>): void {
    const own = this.#perConnection?.get(subscriber);
    if (own !== undefined) {
      clearInterval(own);
      this.#perConnection!.delete(subscriber);
    }
    if (this.subscribers.indexed === 0) this.stop();
  }

  stop(): void {
    if (this.#shared !== undefined) clearInterval(this.#shared);
    this.#shared = undefined;
    if (this.#perConnection === undefined) return;
    for (const timer of this.#perConnection.values()) clearInterval(timer);
    this.#perConnection.clear();
  }

  /** Timers running. */
  get timers(): number {
    return (this.#shared === undefined ? 0 : 1) + (this.#perConnection?.size ?? 0);
  }

  #tick(): void {
    this.subscribers.each(ping);
  }
}

function ping(subscriber: Subscriber<unknown>): void {
  if (!subscriber.wrote && subscriber.wantsBytes) subscriber.push(PING);
  subscriber.wrote = false;
}
