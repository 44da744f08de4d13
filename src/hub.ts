/**
 * `Hub<T>`: the wiring, and thin public methods. Each step of the flow has its own file:
 * one ingest path (here: id → {@link encodePublished} once → history → `_fan_out.ts`),
 * the subscribers (`_subscriber.ts`, `_byte_subscriber.ts`), replay (`_replay.ts`), the bus
 * (`_bus_link.ts`), option checks (`_check_options.ts`).
 *
 * @module
 */
import { encodeEvent, encodePublished, serializeData } from "./encode.ts";
import { assertLineField, assertPublishedEvent } from "./event.ts";
import type { BridgeMessage } from "./bridge/bridge.ts";
import { HubError } from "./errors.ts";
import { MemoryHistory } from "./history.ts";
import type { HistoryEntry, HistoryStore } from "./history.ts";
import type { HubCloseOptions, HubOptions, HubResponseOptions, HubSubscribeOptions } from "./hub_options.ts";
import type { HubMessage, HubStats, PublishResult } from "./message.ts";
import { getLastEventId, sseHeaders, textResponse } from "./response.ts";
import { BusLink } from "./_bus_link.ts";
import { ByteSubscriber } from "./_byte_subscriber.ts";
import { checkHubOptions } from "./_check_options.ts";
import { FanOut } from "./_fan_out.ts";
import { type ReplayContext, type ResetReason, startReplay } from "./_replay.ts";
import { MessageSubscriber, type Subscriber } from "./_subscriber.ts";
import { assertTopic, DEFAULT_TOPIC_PATTERN, toTopicList } from "./_topics.ts";

const OPENING = new TextEncoder().encode(":\n\n");
// Deno.serve (2.x) aborts `request.signal` after every completed response and warns when a
// listener sees it ("legacy behavior"); it calls the stream's `cancel` on disconnect anyway.
// Elsewhere (Bun.serve, workerd) an abort means the client left: listen there.
const SIGNAL_MEANS_CLIENT_LEFT = !("Deno" in globalThis);

/**
 * A publish/subscribe hub for server-sent events. Publish to a topic; every
 * subscriber of it (an SSE `Response` or an in-process stream) gets the event.
 *
 * @typeParam T The payload type; strings are sent as they are, anything else is serialized.
 *
 * @example A Deno or Bun server
 * ```ts
 * import { Hub } from "@sse-hub/sse-hub";
 * import assert from "node:assert/strict";
 *
 * const hub = new Hub<{ text: string }>();
 * const handler = (request: Request): Promise<Response> =>
 *   hub.response(request, { topics: new URL(request.url).searchParams.getAll("topic") });
 * const response = await handler(new Request("http://localhost/?topic=chat"));
 * assert.equal(response.headers.get("content-type"), "text/event-stream; charset=utf-8");
 * assert.equal(hub.publish("chat", { text: "hello" }).delivered, 1);
 * hub.close();
 * ```
 */
export class Hub<T = unknown> {
  readonly #options: HubOptions;
  readonly #history: HistoryStore | undefined;
  readonly #pattern: RegExp;
  readonly #opening: Uint8Array;
  readonly #stats = {
    published: 0,
    delivered: 0,
    dropped: 0,
    slowDisconnects: 0,
    replayed: 0,
    rejected: 0,
    bridgeErrors: 0,
    bridgeGaps: 0,
  };
  readonly #fanOut: FanOut<T>;
  readonly #bus: BusLink | undefined;
  readonly #replay: ReplayContext<T> | undefined;
  /** The last id assigned; seeded from the clock at the first publish (see `#nextId`). */
  #lastId = 0;
  /** An event is being encoded or offered: application callbacks must not publish now. */
  #busy = false;
  #closed = false;

  /**
   * Creates a hub. It holds no timer and no connection until someone subscribes.
   *
   * @param options Limits, history, keep-alive, access rules and a bridge; all optional.
   * @throws {TypeError | RangeError} When an option is invalid (the message names it).
   */
  constructor(options: HubOptions = {}) {
    checkHubOptions(options);
    this.#options = options;
    const bridge = options.bridge;
    this.#history = options.history === false
      ? undefined
      : (options.history ?? bridge?.history ?? new MemoryHistory());
    this.#pattern = options.topicPattern ?? DEFAULT_TOPIC_PATTERN;
    this.#opening = options.retry === undefined ? OPENING : encodeEvent({ retry: options.retry });
    this.#fanOut = new FanOut(options.overflow ?? "close", options.keepAlive ?? 4000, this.#stats);
    this.#replay = this.#history && this.#replayContext(this.#history);
    if (bridge === undefined) return;
    this.#bus = new BusLink(bridge, (reason) => this.#gap({ reason }));
    bridge.start({
      deliver: (message) => this.#deliver(message),
      error: (error) => this.#bridgeError(error),
      gap: (info) => this.#gap(info),
    });
  }

  /** Open subscriptions, HTTP and in-process. */
  get size(): number {
    return this.#fanOut.size;
  }

  /** Whether {@linkcode Hub.close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Publishes `data` to `topic`: assigns the next id, encodes once, records it in
   * history and enqueues it to every subscriber of the topic. Synchronous.
   *
   * @param topic The topic.
   * @param data The payload.
   * @param options `event`: the event type (not starting with `sse-hub:`).
   * @returns The topic, the assigned id and how many subscribers it reached.
   * @throws {HubError} `"closed"`, `"bridged"`, `"invalid-topic"`, `"reserved-event"`, or
   * `"reentrant"` when called from a filter or serializer while another event is being published.
   * @throws {EventFieldError} When the event cannot be encoded (nothing is sent or recorded).
   */
  publish(topic: string, data: T, options?: { event?: string }): PublishResult {
    this.#assertCanPublish();
    if (this.#bus !== undefined) {
      throw new HubError(
        "bridged",
        "this hub has a bridge: use `await hub.publishAsync()`, ids come from the bus",
      );
    }
    if (!this.#fanOut.follows(topic)) assertTopic(topic, this.#pattern); // followed topics passed already
    const event = options?.event;
    if (event !== undefined) assertPublishedEvent(event);
    this.#busy = true;
    try {
      const id = this.#nextId();
      // Serialized and encoded once, here; every subscriber gets these same bytes.
      const bytes = encodePublished(id, event, data, this.#options.serialize);
      return { topic, id, delivered: this.#ingest({ topic, id, event, data }, bytes, true) };
    } finally {
      this.#busy = false;
    }
  }

  /**
   * Publishes through the hub's bridge, so subscribers on every instance get the
   * event; resolves once this instance has fanned it out (with its local count).
   * Without a bridge it is {@linkcode Hub.publish}, as a promise.
   *
   * @param topic The topic.
   * @param data The payload.
   * @param options `event`: the event type.
   * @returns The topic, the id the bus assigned, and how many local subscribers it reached
   * (0 when the hub closed before the echo came back; the id is still the real one).
   * Every failure is a rejection, never a synchronous throw: `HubError` (as for `publish`),
   * `EventFieldError` (nothing is sent), or the bus's own error.
   */
  async publishAsync(topic: string, data: T, options?: { event?: string }): Promise<PublishResult> {
    if (this.#bus === undefined) return this.publish(topic, data, options);
    this.#assertCanPublish();
    assertTopic(topic, this.#pattern);
    const event = options?.event;
    if (event !== undefined) assertPublishedEvent(event);
    let text: string;
    this.#busy = true; // the serializer is application code
    try {
      // Serialized here, so a bad event fails at its publisher, not on every instance.
      text = serializeData(data, this.#options.serialize);
    } finally {
      this.#busy = false;
    }
    const json = typeof data !== "string";
    return await this.#bus.publish({ topic, data: text, json, ...(event === undefined ? {} : { event }) });
  }

  /**
   * Answers an SSE request: checks topics, access and limits, then returns a
   * streaming `Response` that replays what the client missed (per its
   * `Last-Event-ID`) and then goes live. Its stream's `cancel` unsubscribes.
   *
   * Refusals: 400 bad topics, 403 (or the `authorize` hook's response),
   * 503 with `Retry-After` when `maxSubscribers` is reached, 204 or 503 after close.
   *
   * @param request The incoming request.
   * @param options The topics, an optional filter and extra headers.
   * @returns The response to return from your `fetch` handler.
   */
  async response(request: Request, options: HubResponseOptions<T>): Promise<Response> {
    if (this.#closed) return this.#refuseClosed();
    let topics: string[];
    try {
      topics = toTopicList(options.topics, this.#pattern, this.#options.maxTopicsPerSubscriber ?? 32);
    } catch (error) {
      return this.#refuse(400, (error as Error).message);
    }
    if (this.#options.authorize) {
      const verdict = await this.#options.authorize(request, topics);
      if (verdict !== true) {
        this.#stats.rejected++;
        return verdict === false ? textResponse(403, "forbidden") : verdict;
      }
      if (this.#closed) return this.#refuseClosed();
    }
    if (this.#fanOut.size >= (this.#options.maxSubscribers ?? Infinity)) {
      return this.#refuse(503, "too many subscribers", {
        "retry-after": String(this.#options.retryAfter ?? 5),
      });
    }
    const lastEventId = options.lastEventId ??
      getLastEventId(request, this.#options.maxLastEventIdLength ?? 128);
    const subscriber = new ByteSubscriber<T>(topics, options.filter, this.#options.bufferBytes ?? 256 * 1024);
    const stream = new ReadableStream<Uint8Array>({
      start: (controller) => {
        subscriber.controller = controller;
        // Straight into the stream's queue: an idle connection never allocates a backlog of its own.
        controller.enqueue(this.#opening);
        this.#join(subscriber, lastEventId);
      },
      // The stream itself queues nothing (high-water mark 0): the subscriber keeps what waits
      // and hands it over, coalesced, when the runtime reads (see _byte_subscriber.ts).
      pull: () => subscriber.pull(),
      cancel: () => this.#fanOut.remove(subscriber),
    }, { highWaterMark: 0 });
    if (SIGNAL_MEANS_CLIENT_LEFT) this.#leaveOnAbort(subscriber, request.signal);
    return new Response(stream, { status: options.status ?? 200, headers: sseHeaders(options.headers) });
  }

  /**
   * Subscribes in-process: a stream (and async iterable) of the messages
   * published to `topics`. Cancel it, break out of `for await`, or abort the
   * signal to unsubscribe. A reader that falls `bufferMessages` behind is handled
   * by the overflow policy (`"close"` errors the stream with `HubError("slow-subscriber")`).
   *
   * @param topics The topic or topics to follow.
   * @param options A filter, the buffer bound and an abort signal.
   * @returns A stream of {@linkcode HubMessage}s.
   * @throws {HubError} `"closed"`, `"invalid-topic"` or `"too-many-subscribers"`.
   * @throws {RangeError} When `bufferMessages` is not a whole number ≥ 0.
   */
  subscribe(
    topics: string | readonly string[],
    options: HubSubscribeOptions<T> = {},
  ): ReadableStream<HubMessage<T>> {
    if (this.#closed) throw new HubError("closed", "cannot subscribe: the hub is closed");
    const list = toTopicList(topics, this.#pattern, this.#options.maxTopicsPerSubscriber ?? 32);
    if (this.#fanOut.size >= (this.#options.maxSubscribers ?? Infinity)) {
      throw new HubError(
        "too-many-subscribers",
        `\`maxSubscribers\` (${this.#options.maxSubscribers}) reached`,
      );
    }
    const budget = options.bufferMessages ?? 1024;
    if (!Number.isSafeInteger(budget) || budget < 0) {
      throw new RangeError(`\`bufferMessages\` must be a whole number ≥ 0, got ${budget}`);
    }
    const subscriber = new MessageSubscriber<T>(list, options.filter, budget);
    const stream = new ReadableStream<HubMessage<T>>({
      start: (controller) => {
        subscriber.controller = controller;
        this.#fanOut.add(subscriber);
      },
      cancel: () => this.#fanOut.remove(subscriber),
    }, new CountQueuingStrategy({ highWaterMark: budget }));
    this.#leaveOnAbort(subscriber, options.signal);
    return stream;
  }

  /**
   * The hub's counters.
   *
   * @returns Current subscribers and topics, and totals since the hub was made.
   */
  stats(): HubStats {
    return {
      subscribers: this.#fanOut.size,
      topics: this.#fanOut.topicCount,
      timers: (this.#fanOut.ticking ? 1 : 0) + (this.#bus?.timers ?? 0),
      ...this.#stats,
    };
  }

  /**
   * Closes the hub: sends the optional last event (and `retry` hint) to every
   * subscriber, ends every stream after what is already queued (a subscriber still
   * waiting for its replay gets the replay and what was published meanwhile first),
   * stops the keep-alive timer and the bridge. Later publishes and subscribes throw
   * `HubError("closed")`; later requests get `closedStatus`. Calling it again does nothing.
   *
   * @param options The last event and a `retry` hint.
   * @throws {EventFieldError | HubError} When the last event is invalid (the hub stays open).
   */
  close(options: HubCloseOptions<T> = {}): void {
    if (this.#closed) return;
    const { event, retry } = options;
    if (event?.event !== undefined) assertPublishedEvent(event.event);
    // Encode before closing anything: an invalid last event throws and leaves the hub open.
    const last = event === undefined && retry === undefined ? undefined : encodeEvent(
      { ...event, ...(retry === undefined ? {} : { retry }) },
      this.#options.serialize ? { serialize: this.#options.serialize } : undefined,
    );
    this.#closed = true;
    this.#fanOut.closeAll(last);
    this.#bus?.close().catch((error) => this.#bridgeError(error));
  }

  // The one ingest path, for local publishes and bus deliveries: history, then fan-out.
  #ingest(message: HubMessage<T>, bytes: Uint8Array, record: boolean): number {
    const { topic, id, event, data } = message;
    if (record) this.#history?.append({ id, topic, bytes, message: { event, data } });
    return this.#fanOut.offer(topic, bytes, message);
  }

  // Ids start from the clock (µs), read at the first publish, not at construction: Workers
  // freeze the clock while a module loads, and a restarted process must never reuse an id.
  #nextId(): string {
    if (this.#lastId === 0) this.#lastId = Date.now() * 1000;
    return String(++this.#lastId);
  }

  // A message from the bus: the same encoding and ingest as a local publish, with the bus's id.
  #deliver(message: BridgeMessage): void {
    if (this.#closed) return;
    let delivered = 0;
    this.#busy = true;
    try {
      const { topic, id, event, json } = message;
      assertTopic(topic, this.#pattern); // the bus is another process: check what it sends
      assertLineField("id", id);
      if (event !== undefined) assertPublishedEvent(event);
      const data = (json ? (this.#options.deserialize ?? JSON.parse)(message.data) : message.data) as T;
      const bytes = encodePublished(id, event, message.data, undefined);
      const shared = this.#history === this.#options.bridge?.history; // the bus already stored it
      if (!shared) this.#record({ id, topic, bytes, message: { event, data } });
      delivered = this.#ingest({ topic, id, event, data }, bytes, false);
    } catch (error) {
      this.#bridgeError(error);
    } finally {
      this.#busy = false;
    }
    this.#bus!.echoed(message.origin, { topic: message.topic, id: message.id, delivered });
  }

  // A local store given bus ids it cannot order (MemoryHistory after a bus restart) is reported;
  // the event is delivered anyway.
  #record(entry: HistoryEntry): void {
    try {
      this.#history?.append(entry);
    } catch (error) {
      this.#bridgeError(error);
    }
  }

  #join(subscriber: Subscriber<T>, lastEventId: string | undefined): void {
    if (lastEventId !== undefined && this.#replay !== undefined) {
      startReplay(subscriber, lastEventId, this.#replay);
    }
    if (subscriber.active) this.#fanOut.add(subscriber); // its filter may have thrown on a replayed event
  }

  // One listener per subscriber, removed when it leaves by any path: a long-lived signal (a
  // shutdown signal) must not keep every past subscriber reachable.
  #leaveOnAbort(subscriber: Subscriber<T>, signal: AbortSignal | undefined): void {
    if (signal === undefined || signal === null) return;
    if (signal.aborted) return this.#fanOut.remove(subscriber, true);
    const leave = () => this.#fanOut.remove(subscriber, true);
    signal.addEventListener("abort", leave, { once: true });
    subscriber.onGone = () => signal.removeEventListener("abort", leave);
  }

  #replayContext(history: HistoryStore): ReplayContext<T> {
    return {
      history,
      reset: (reason, id) => this.#resetBytes(reason, id),
      messageOf: (entry) =>
        entry.message && { topic: entry.topic, id: entry.id, ...entry.message } as HubMessage<T>,
      replayed: (count) => void (this.#stats.replayed += count),
      failed: (subscriber, error) => {
        subscriber.fail(error);
        this.#fanOut.remove(subscriber);
      },
      busy: (run) => this.#whileBusy(run),
    };
  }

  #resetBytes(reason: ResetReason, id?: string): Uint8Array {
    const event = this.#options.resetEvent ?? "sse-hub:reset";
    return encodeEvent({ event, ...(id === undefined ? {} : { id }), data: { reason } });
  }

  #whileBusy(run: () => void): void {
    const was = this.#busy;
    this.#busy = true;
    try {
      run();
    } finally {
      this.#busy = was;
    }
  }

  #gap(info: { from?: string; reason: string; recovered?: boolean }): void {
    this.#stats.bridgeGaps++;
    const { recovered, ...reported } = info;
    this.#options.onBridgeEvent?.({ type: "gap", ...reported });
    // Events this instance missed for good: every local client must hear it, not stay behind.
    if (recovered === false && !this.#closed) this.#fanOut.broadcast(this.#resetBytes("bus-gap"));
  }

  #bridgeError(error: unknown): void {
    this.#stats.bridgeErrors++;
    this.#options.onBridgeEvent?.({ type: "error", error });
  }

  #assertCanPublish(): void {
    if (this.#closed) throw new HubError("closed", "cannot publish: the hub is closed");
    if (this.#busy) {
      throw new HubError(
        "reentrant",
        "cannot publish from a filter or serializer while the hub delivers another event: publish after it returns",
      );
    }
  }

  #refuse(status: number, message: string, headers?: Record<string, string>): Response {
    this.#stats.rejected++;
    return textResponse(status, message, headers);
  }

  #refuseClosed(): Response {
    const status = this.#options.closedStatus ?? 204;
    const retry = status === 503 ? { "retry-after": String(this.#options.retryAfter ?? 5) } : undefined;
    return this.#refuse(status, "the hub is closed", retry);
  }
}
