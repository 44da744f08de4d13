/**
 * A {@linkcode Bridge} over a `BroadcastChannel`: fan-out between workers of
 * one process (Deno, Bun, Node), or between isolates where the platform
 * connects the channel across instances (Deno Deploy). No server, no
 * dependency, no central sequencer.
 *
 * @module
 */
import type { HistoryStore } from "../history.ts";
import type { Bridge, BridgeMessage, BridgeSink } from "./bridge.ts";
import { ArrivalLog, ID } from "./_broadcast_log.ts";
import { positive } from "../_positive.ts";

/** Options for {@linkcode BroadcastChannelBridge}. */
export interface BroadcastChannelBridgeOptions {
  /**
   * The channel name. Hubs on the same name share events.
   * @default {"sse-hub"}
   */
  name?: string;
  /**
   * Events this instance keeps for `Last-Event-ID` replay (all topics together).
   * @default {1000}
   */
  maxEvents?: number;
  /**
   * Bytes of event text kept for replay (what the history retains: its strings, counted at
   * 2 bytes a character, and ~64 bytes per event).
   * @default {1048576}
   */
  maxBytes?: number;
  /**
   * Turns JSON payloads back into values for replayed filters; use the hub's `deserialize`.
   * @default {JSON.parse}
   */
  deserialize?: (text: string) => unknown;
}

/**
 * Fans a hub's events out over a `BroadcastChannel`. A channel does not echo
 * to its sender, so the bridge delivers its own publishes locally at once.
 *
 * Ids are `<clock>-<instance>`: a Lamport clock (one more than the largest
 * clock this instance has published or seen, and never below `Date.now()`)
 * and a random instance name. So ids are unique, and an event published after
 * an instance saw another one gets a larger id. Ordering, honestly: events
 * from one publisher arrive everywhere in publish order; events published at
 * the same moment on two instances (before either saw the other's) may reach
 * instances in different orders.
 *
 * Each instance keeps its own replay history (`history`), filled from the
 * channel. It keeps each event as the text the channel carried and encodes
 * nothing on the way in: the hub encodes every live event once for all its
 * subscribers, and a replay encodes what it sends (and parses payloads for
 * filtered subscribers). A replay returns the events with ids greater than `Last-Event-ID`,
 * in id order, on any instance: exact, except that an event published
 * concurrently with the client's last one may be missed or repeated once.
 * An id this instance has not received yet (the client read it from another
 * instance a moment ago) is waited for, up to a second, while the client's live
 * events are held: no reset, nothing twice. Delivery is as reliable as the
 * channel: a worker that was not running misses what was sent meanwhile.
 *
 * @example Workers of one process, each with its own server and hub
 * ```ts
 * import { BroadcastChannelBridge, Hub } from "@sse-hub/sse-hub";
 *
 * const bridge = new BroadcastChannelBridge({ name: "chat" });
 * const hub = new Hub<string>({ bridge });
 * await hub.publishAsync("room", "hello"); // every worker's "room" subscribers get it
 * hub.close();
 * ```
 */
export class BroadcastChannelBridge implements Bridge {
  /** This instance's replay history, filled from the channel; a bridged hub uses it by default. */
  readonly history: HistoryStore;
  readonly #name: string;
  readonly #log: ArrivalLog;
  readonly #node = Math.random().toString(36).slice(2, 10).padEnd(8, "0");
  #channel: BroadcastChannel | undefined;
  #sink: BridgeSink | undefined;
  #clock = 0;
  #closed = false;

  /**
   * Creates a bridge; the channel opens when a hub starts it.
   *
   * @param options The channel name and the replay bounds.
   * @throws {RangeError} When a bound is not a positive integer.
   */
  constructor(options: BroadcastChannelBridgeOptions = {}) {
    this.#name = options.name ?? "sse-hub";
    this.#log = new ArrivalLog(
      positive("maxEvents", options.maxEvents ?? 1000),
      positive("maxBytes", options.maxBytes ?? 1024 * 1024),
      options.deserialize ?? JSON.parse,
    );
    this.history = this.#log;
  }

  /**
   * Opens the channel and starts delivering to `sink`. Called by the hub's constructor.
   *
   * @param sink Where channel messages and errors go.
   * @throws {TypeError} When the bridge was already started (one bridge serves one hub).
   */
  start(sink: BridgeSink): void {
    if (this.#sink !== undefined) {
      throw new TypeError("a BroadcastChannelBridge serves one hub: it was already started");
    }
    this.#sink = sink;
    if (this.#closed) return;
    const channel = this.#channel = new BroadcastChannel(this.#name);
    channel.onmessage = (event: MessageEvent<unknown>) => this.#receive(event.data);
    channel.onmessageerror = () =>
      sink.error(new TypeError(`a message on channel \`${this.#name}\` could not be read`));
  }

  /**
   * Assigns the next id, posts the event to the other instances and delivers it here.
   *
   * @param message The event without its id.
   * @returns The id.
   */
  publish(message: Omit<BridgeMessage, "id">): Promise<string> {
    if (this.#closed || this.#channel === undefined) {
      return Promise.reject(
        new Error(
          `the BroadcastChannelBridge \`${this.#name}\` is ${this.#closed ? "closed" : "not started"}`,
        ),
      );
    }
    this.#clock = Math.max(this.#clock + 1, Date.now());
    const id = `${this.#clock}-${this.#node}`;
    const full: BridgeMessage = { ...message, id };
    try {
      this.#channel.postMessage({ sseHub: 1, ...full });
    } catch (cause) {
      return Promise.reject(new Error(`the event for \`${message.topic}\` could not be posted`, { cause }));
    }
    this.#accept(full);
    return Promise.resolve(id);
  }

  /** Closes the channel. */
  close(): void {
    this.#closed = true;
    this.#log.stopWaiting();
    this.#channel?.close();
    this.#channel = undefined;
  }

  #receive(data: unknown): void {
    const message = data as Partial<BridgeMessage> & { sseHub?: unknown };
    const match = typeof message?.id === "string" ? ID.exec(message.id) : null;
    if (
      message?.sseHub !== 1 || match === null || typeof message.topic !== "string" ||
      typeof message.data !== "string" || typeof message.json !== "boolean" ||
      typeof message.origin !== "string" ||
      (message.event !== undefined && typeof message.event !== "string")
    ) {
      this.#sink?.error(new TypeError(`not an sse-hub bridge message on channel \`${this.#name}\``));
      return;
    }
    this.#clock = Math.max(this.#clock, Number(match[1]));
    const { topic, id, event, data: text, json, origin } = message as BridgeMessage;
    this.#accept(
      event === undefined
        ? { topic, id, data: text, json, origin }
        : { topic, id, event, data: text, json, origin },
    );
  }

  // Records the event for replay (as text: nothing is encoded here), then fans it out through the
  // hub, which encodes it once for every local subscriber.
  #accept(message: BridgeMessage): void {
    try {
      this.#log.record(message);
    } catch (error) {
      this.#sink?.error(error);
    }
    this.#sink?.deliver(message);
  }
}
