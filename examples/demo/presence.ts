// "Who is here", across every demo instance. Each instance counts its own named subscribers
// (the hub's onJoin/onLeave hooks) and publishes a snapshot of them on topic `presence` through
// the hub (so, bridged, to every instance's clients) when it changes and every `heartbeatMs`.
// A page merges the snapshots by instance and forgets one not heard from for 3 heartbeats.
import type { Hub, SubscriberInfo } from "@sse-hub/sse-hub";

/** The topic the snapshots go to; a page follows it next to its own topics. */
export const PRESENCE_TOPIC = "presence";

/** A display name: what a `?name=` may be (it is shown to everyone). */
export const NAME = /^[\p{L}\p{N} _.-]{1,32}$/u;

/** One instance's snapshot, the `data` of every `presence` event. */
export interface PresenceSnapshot {
  instance: string;
  names: string[];
  /** Milliseconds until the next heartbeat: a page forgets an instance after 3 of them. */
  heartbeatMs: number;
}

export class Presence {
  readonly instance: string = crypto.randomUUID().slice(0, 8);
  readonly #counts = new Map<string, number>();
  readonly #heartbeatMs: number;
  #hub: Hub<string> | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(heartbeatMs = 5000) {
    this.#heartbeatMs = heartbeatMs;
  }

  /** The hub options that feed it: pass them to `new Hub`. */
  readonly hooks = {
    onJoin: (info: SubscriberInfo): void => this.#change(info.key, +1),
    onLeave: (info: SubscriberInfo): void => this.#change(info.key, -1),
  };

  /** Starts publishing through `hub` (the hub built with `hooks`). */
  attach(hub: Hub<string>): void {
    this.#hub = hub;
    // Heartbeats only while someone is here; the last leave sends one empty snapshot.
    if (this.#heartbeatMs > 0) {
      this.#timer = setInterval(() => this.#counts.size > 0 && this.#publish(), this.#heartbeatMs);
    }
  }

  /** This instance's named subscribers. */
  names(): string[] {
    return [...this.#counts.keys()].sort();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#hub = undefined;
  }

  #change(key: string | undefined, by: number): void {
    if (key === undefined) return;
    const count = (this.#counts.get(key) ?? 0) + by;
    if (count > 0) this.#counts.set(key, count);
    else this.#counts.delete(key);
    this.#publish();
  }

  #publish(): void {
    const hub = this.#hub;
    if (hub === undefined || hub.closed) return;
    const snapshot: PresenceSnapshot = {
      instance: this.instance,
      names: this.names(),
      heartbeatMs: this.#heartbeatMs,
    };
    // Closed meanwhile, or the bus is down: the next heartbeat says it again.
    hub.publishAsync(PRESENCE_TOPIC, JSON.stringify(snapshot), { event: "presence" }).catch(() => {});
  }
}
