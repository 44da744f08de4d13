// A bridged hub's side of the bus: its own publishes go out with an origin
// (`<instance>:<counter>`), and each resolves when its echo has been fanned out here, so
// `await hub.publishAsync()` means "my local subscribers have it". Messages from the bus are
// checked (the bus is another process), encoded by the one wire encoder, then take the one ingest
// path of a local publish (`_ingest.ts`), with the bus's id: history, then fan-out.
import type { Bridge, BridgeMessage } from "./bridge/bridge.ts";
import { encodePublished, serializeData, type Serializer } from "./encode.ts";
import type { Guard } from "./_guard.ts";
import type { FanOut } from "./_fan_out.ts";
import type { HistoryStore } from "./history.ts";
import { encodeReset } from "./_replay.ts";
import type { HubSettings } from "./_settings.ts";
import { assertLineField, assertPublishedEvent } from "./event.ts";
import type { HubMessage, PublishResult } from "./message.ts";
import { assertTopic } from "./_topics.ts";
import { ingest } from "./_ingest.ts";

/** How long an own publish waits for its echo before resolving anyway (and reporting a gap). */
const ECHO_WAIT_MS = 5000;
/** How often the one sweeper looks for echoes that are late: a wait lasts 5 to 6 s. */
const SWEEP_MS = 1000;

/** What the link shares with its hub. */
export interface BusHost<T> {
  readonly settings: HubSettings;
  readonly guard: Guard;
  readonly counters: { bridgeErrors: number; bridgeGaps: number };
  /** The hub's own store, unless it is the bridge's (which has every bus event already). */
  readonly history: HistoryStore | undefined;
  readonly fanOut: FanOut<T>;
}

interface Waiter {
  /** The echo came before the bus answered the publish. */
  early?: PublishResult;
  /** The bus answered: resolves the publish with the echo's result. */
  settle?: (result: PublishResult) => void;
  /** What the bus answered (the real id), for a publish settled without its echo. */
  accepted?: PublishResult;
  /** When the sweeper gives up on the echo (ms since the epoch). */
  deadline?: number;
}

export class BusLink<T> {
  readonly #bridge: Bridge;
  readonly #host: BusHost<T>;
  readonly #instance = Math.random().toString(36).slice(2, 10);
  readonly #waiting = new Map<string, Waiter>();
  #published = 0;
  #closed = false;
  // One timer for every publish waiting for its echo, not one each: a timer per publish cost
  // more than the publish itself at hundreds in flight.
  #sweeper: ReturnType<typeof setInterval> | undefined;
  /** Publishes the bus answered that still wait for their echo. */
  #awaiting = 0;
  /** Reports a store that refused a bus event (made once: it is passed for every bus event). */
  readonly #storeFailed = (error: unknown): void => this.#error(error);

  constructor(bridge: Bridge, host: BusHost<T>) {
    this.#bridge = bridge;
    this.#host = host;
    bridge.start({
      deliver: (message) => this.#deliver(message),
      error: (error) => this.#error(error),
      gap: (info) => this.#gap(info),
    });
  }

  /**
   * Puts an event on the bus (the caller checked topic and event); resolves once its echo was
   * fanned out here, or after a wait. Serialized here, so a bad payload fails at its publisher.
   */
  async publish(
    topic: string,
    data: T,
    event: string | undefined,
    serialize?: Serializer,
  ): Promise<PublishResult> {
    const text = this.#host.guard.run(() => serializeData(data, serialize)); // application code
    const json = typeof data !== "string";
    const message = { topic, data: text, json, ...(event === undefined ? {} : { event }) };
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
      waiter.accepted = accepted;
      waiter.deadline = Date.now() + ECHO_WAIT_MS;
      waiter.settle = (result) => {
        if (--this.#awaiting === 0) this.#stopSweeper();
        resolve(result);
      };
      this.#awaiting++;
      this.#sweeper ??= setInterval(() => this.#sweep(), SWEEP_MS);
    });
  }

  /** Echo timers running (part of the hub's `timers` stat): the sweeper, while publishes wait. */
  get timers(): number {
    return this.#sweeper === undefined ? 0 : 1;
  }

  // Resolves the publishes whose echo is late, reporting each as a gap.
  #sweep(): void {
    const now = Date.now();
    for (const [origin, waiter] of this.#waiting) {
      if (waiter.settle === undefined || waiter.deadline! > now) continue;
      this.#waiting.delete(origin);
      this.#gap({ reason: `own event ${waiter.accepted!.id} did not come back from the bus` });
      waiter.settle(waiter.accepted!);
    }
  }

  #stopSweeper(): void {
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }

  // One message from the bus, fanned out here; then the publish it echoes, if ours, settles.
  #deliver(message: BridgeMessage): void {
    if (this.#closed) return;
    const host = this.#host;
    let delivered = 0;
    try {
      const { topic, id, event, json } = message;
      assertTopic(topic, host.settings.pattern);
      assertLineField("id", id);
      if (event !== undefined) assertPublishedEvent(event);
      if (host.history === undefined && !host.fanOut.follows(topic)) {
        // Nobody here follows it and no history of this hub keeps it: nothing to parse or encode
        // (an instance that only publishes, say).
        host.fanOut.passOver();
      } else {
        delivered = this.#fanOut(topic, id, event, json, message.data);
      }
    } catch (error) {
      this.#error(error);
    }
    this.#echoed(message.origin, { topic: message.topic, id: message.id, delivered });
  }

  // The one ingest path, with the bus's id; returns how many subscribers took it. A store that
  // fails (e.g. MemoryHistory given ids it cannot order after a bus restart) is reported.
  #fanOut(topic: string, id: string, event: string | undefined, json: boolean, text: string): number {
    const host = this.#host;
    const data = (json ? (host.settings.options.deserialize ?? JSON.parse)(text) : text) as T;
    const bytes = encodePublished(id, event, text, undefined);
    const message: HubMessage<T> = { topic, id, event, data };
    return host.guard.run(() => ingest(host, message, bytes, json, this.#storeFailed));
  }

  #echoed(origin: string, result: PublishResult): void {
    const waiter = this.#waiting.get(origin);
    if (waiter === undefined) return;
    if (waiter.settle === undefined) {
      waiter.early = result;
      return;
    }
    this.#waiting.delete(origin);
    waiter.settle(result);
  }

  #gap(info: { from?: string; reason: string; recovered?: boolean }): void {
    this.#host.counters.bridgeGaps++;
    this.#host.settings.options.onBridgeEvent?.({ type: "gap", ...info });
    // Events this instance missed for good: every local client must hear it, not stay behind.
    if (info.recovered === false && !this.#closed) {
      this.#host.fanOut.broadcast(encodeReset(this.#host.settings.resetEvent, "bus-gap"));
    }
  }

  #error(error: unknown): void {
    this.#host.counters.bridgeErrors++;
    this.#host.settings.options.onBridgeEvent?.({ type: "error", error });
  }

  /** Settles every waiting publish with what the bus answered, and closes the bridge. */
  close(): void {
    this.#closed = true;
    for (const waiter of this.#waiting.values()) waiter.settle?.(waiter.accepted!);
    this.#waiting.clear();
    try {
      Promise.resolve(this.#bridge.close()).catch((error) => this.#error(error));
    } catch (error) {
      this.#error(error);
    }
  }
}
