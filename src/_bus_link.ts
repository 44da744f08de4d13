// A bridged hub's side of the bus: its own publishes go out with an origin
// (`<instance>:<counter>`), and each resolves when its echo has been fanned out here, so
// `await hub.publishAsync()` means "my local subscribers have it".
import type { Bridge, BridgeMessage } from "./bridge/bridge.ts";
import type { PublishResult } from "./message.ts";

/** How long an own publish waits for its echo before resolving anyway (and reporting a gap). */
const ECHO_WAIT_MS = 5000;

interface Waiter {
  /** The echo came before the bus answered the publish. */
  early?: PublishResult;
  /** The bus answered: resolves the publish with the echo's result. */
  settle?: (result: PublishResult) => void;
  /** What the bus answered (the real id), for a publish settled without its echo. */
  accepted?: PublishResult;
}

export class BusLink {
  readonly #bridge: Bridge;
  readonly #instance = Math.random().toString(36).slice(2, 10);
  readonly #waiting = new Map<string, Waiter>();
  readonly #onLostEcho: (reason: string) => void;
  #published = 0;
  #closed = false;
  /** Echo timers running (part of the hub's `timers` stat). */
  timers = 0;

  constructor(bridge: Bridge, onLostEcho: (reason: string) => void) {
    this.#bridge = bridge;
    this.#onLostEcho = onLostEcho;
  }

  /** Puts an event on the bus; resolves once its echo was fanned out here (or after a wait). */
  async publish(message: Omit<BridgeMessage, "id" | "origin">): Promise<PublishResult> {
    const origin = `${this.#instance}:${++this.#published}`;
    const waiter: Waiter = {};
    this.#waiting.set(origin, waiter);
    let id: string;
    try {
      id = await this.#bridge.publish({ ...message, origin });
    } catch (error) {
      this.#waiting.delete(origin);
      throw error;
    }
    const accepted: PublishResult = { topic: message.topic, id, delivered: 0 };
    if (waiter.early !== undefined || this.#closed) {
      this.#waiting.delete(origin);
      return waiter.early ?? accepted; // after close: the real id, delivered here to nobody
    }
    return new Promise((resolve) => {
      this.timers++;
      const timer = setTimeout(() => {
        this.timers--;
        if (!this.#waiting.delete(origin)) return;
        this.#onLostEcho(`own event ${id} did not come back from the bus`);
        resolve(accepted);
      }, ECHO_WAIT_MS);
      waiter.accepted = accepted;
      waiter.settle = (result) => {
        clearTimeout(timer);
        this.timers--;
        resolve(result);
      };
    });
  }

  /** A message from the bus was fanned out here: settles the publish it echoes, if it is ours. */
  echoed(origin: string, result: PublishResult): void {
    const waiter = this.#waiting.get(origin);
    if (waiter === undefined) return;
    if (waiter.settle === undefined) {
      waiter.early = result;
      return;
    }
    this.#waiting.delete(origin);
    waiter.settle(result);
  }

  /** Settles every waiting publish with what the bus answered, and closes the bridge. */
  close(): Promise<void> {
    this.#closed = true;
    for (const waiter of this.#waiting.values()) waiter.settle?.(waiter.accepted!);
    this.#waiting.clear();
    return Promise.resolve(this.#bridge.close());
  }
}
