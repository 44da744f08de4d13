/**
 * `Hub<T>`: topics, subscribe/publish, limits, stats, close. A publish is
 * serialized and encoded once; the same bytes are enqueued to every subscriber,
 * synchronously, and a subscriber past its budget is closed (or skipped) so
 * nobody else ever waits for it.
 *
 * @module
 */
import { encodeEvent, formatData, formatEvent, serializeData } from "./encode.ts";
import type { Serializer } from "./encode.ts";
import { assertLineField } from "./event.ts";
import type { Bridge, BridgeMessage } from "./bridge/bridge.ts";
import { HubError } from "./errors.ts";
import { MemoryHistory } from "./memory_history.ts";
import { payloadOf } from "./_payload.ts";
import type { HistoryStore, Replay } from "./history.ts";
import type {
  HubCloseOptions,
  HubMessage,
  HubOptions,
  HubResponseOptions,
  HubStats,
  HubSubscribeOptions,
  PublishResult,
} from "./hub_options.ts";
import { getLastEventId, sseHeaders, textResponse } from "./response.ts";
import { KeepAlive } from "./_keep_alive.ts";
import { DELIVERED, DROPPED, OVERFLOW, Subscriber } from "./_subscriber.ts";
import { assertTopic, DEFAULT_TOPIC_PATTERN, toTopicList } from "./_topics.ts";

const encoder = new TextEncoder();
const OPENING = encoder.encode(":\n\n");
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
 *
 * const hub = new Hub<{ text: string }>();
 * const handler = (request: Request): Promise<Response> =>
 *   hub.response(request, { topics: new URL(request.url).searchParams.getAll("topic") });
 * hub.publish("chat", { text: "hello" }); // { topic: "chat", id: "…", delivered: 0 }
 * hub.close();
 * ```
 */
export class Hub<T = unknown> {
  readonly #options: HubOptions;
  readonly #history: HistoryStore | undefined;
  readonly #topics = new Map<string, Set<Subscriber<T>>>();
  readonly #subscribers = new Set<Subscriber<T>>();
  readonly #keepAlive: KeepAlive;
  readonly #pattern: RegExp;
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
  readonly #bridge: Bridge | undefined;
  readonly #instance = Math.random().toString(36).slice(2, 10);
  // Own publishes awaiting their echo from the bus: a result if the echo came first, else the resolver.
  readonly #waiting = new Map<string, PublishResult | ((result: PublishResult) => void) | undefined>();
  #published = 0;
  #echoTimers = 0;
  // Ids start from the clock (µs), so a restarted process never reuses an id an old client holds.
  #lastId = Date.now() * 1000;
  #closed = false;

  /**
   * Creates a hub. It holds no timer and no connection until someone subscribes.
   *
   * @param options Limits, history, keep-alive, access rules and a bridge; all optional.
   */
  constructor(options: HubOptions = {}) {
    this.#options = options;
    this.#bridge = options.bridge;
    this.#history = options.history === false
      ? undefined
      : (options.history ?? options.bridge?.history ?? new MemoryHistory());
    this.#pattern = options.topicPattern ?? DEFAULT_TOPIC_PATTERN;
    this.#keepAlive = new KeepAlive(options.keepAlive ?? 4000, this.#subscribers as unknown as Set<Subscriber<unknown>>);
    this.#bridge?.start({
      deliver: (message) => this.#deliver(message),
      error: (error) => {
        this.#stats.bridgeErrors++;
        this.#options.onBridgeEvent?.({ type: "error", error });
      },
      gap: (info) => {
        this.#stats.bridgeGaps++;
        this.#options.onBridgeEvent?.({ type: "gap", ...info });
      },
    });
  }

  /** Open subscriptions, HTTP and in-process. */
  get size(): number {
    return this.#subscribers.size;
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
   * @param options `event`: the event type.
   * @returns The topic, the assigned id and how many subscribers it reached.
   * @throws {HubError} `"closed"` after close, `"invalid-topic"` for a bad name.
   * @throws {EventFieldError} When the event cannot be encoded (nothing is sent or recorded).
   */
  publish(topic: string, data: T, options?: { event?: string }): PublishResult {
    if (this.#closed) throw new HubError("closed", "cannot publish: the hub is closed");
    if (this.#bridge) {
      throw new HubError("bridged", "this hub has a bridge: use `await hub.publishAsync()`, ids come from the bus");
    }
    const subscribers = this.#topics.get(topic);
    if (subscribers === undefined) assertTopic(topic, this.#pattern); // a topic with subscribers passed already
    const event = options?.event;
    if (event !== undefined) assertLineField("event", event);
    const id = String(this.#lastId + 1);
    // Serialized and encoded once, here; every subscriber gets these same bytes.
    const bytes = encodeWire(id, event, data, this.#options.serialize);
    this.#lastId++;
    const message: HubMessage<T> = { topic, id, event, data };
    this.#history?.append({ id, topic, bytes, message });
    return { topic, id, delivered: this.#fanOut(subscribers, bytes, message) };
  }

  /**
   * Publishes through the hub's bridge, so subscribers on every instance get the
   * event; resolves once this instance has fanned it out (with its local count).
   * Without a bridge it is {@linkcode Hub.publish}, as a promise.
   *
   * @param topic The topic.
   * @param data The payload.
   * @param options `event`: the event type.
   * @returns The topic, the id the bus assigned, and how many local subscribers it reached.
   * Every failure is a rejection, never a synchronous throw: `HubError` (`"closed"`,
   * `"invalid-topic"`), `EventFieldError` (nothing is sent), or the bus's own error.
   */
  async publishAsync(topic: string, data: T, options?: { event?: string }): Promise<PublishResult> {
    if (!this.#bridge) return this.publish(topic, data, options);
    if (this.#closed) throw new HubError("closed", "cannot publish: the hub is closed");
    assertTopic(topic, this.#pattern);
    const event = options?.event;
    const json = typeof data !== "string";
    // Validate and serialize here, so a bad event fails at its publisher, not on every instance.
    const text = serializeData(data, this.#options.serialize);
    if (event !== undefined) formatEvent({ event });
    const origin = `${this.#instance}:${++this.#published}`;
    this.#waiting.set(origin, undefined);
    const message = { topic, data: text, json, origin, ...(event === undefined ? {} : { event }) };
    return await this.#bridge.publish(message).then((id) => this.#echo(origin, { topic, id, delivered: 0 }), (error) => {
      this.#waiting.delete(origin);
      throw error;
    });
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
      this.#stats.rejected++;
      return textResponse(400, (error as Error).message);
    }
    if (this.#options.authorize) {
      const verdict = await this.#options.authorize(request, topics);
      if (verdict !== true) {
        this.#stats.rejected++;
        return verdict === false ? textResponse(403, "forbidden") : verdict;
      }
      if (this.#closed) return this.#refuseClosed();
    }
    if (this.#subscribers.size >= (this.#options.maxSubscribers ?? Infinity)) {
      this.#stats.rejected++;
      return textResponse(503, "too many subscribers", { "retry-after": String(this.#options.retryAfter ?? 5) });
    }
    const lastEventId = options.lastEventId ??
      getLastEventId(request, this.#options.maxLastEventIdLength ?? 128);
    const subscriber = new Subscriber<T>(
      topics,
      options.filter,
      true,
      this.#options.overflow === "drop",
      this.#options.bufferBytes ?? 256 * 1024,
    );
    const stream = new ReadableStream<Uint8Array>({
      start: (controller) => {
        subscriber.controller = controller as ReadableStreamDefaultController<Uint8Array | HubMessage<T>>;
        const retry = this.#options.retry;
        // Straight into the stream's queue: an idle connection never allocates a backlog of its own.
        controller.enqueue(retry === undefined ? OPENING : encodeEvent({ retry }));
        if (lastEventId !== undefined && this.#history) this.#replay(subscriber, lastEventId);
        if (subscriber.active) this.#add(subscriber); // its filter may have thrown on a replayed event
      },
      // The stream itself queues nothing (high-water mark 0): the subscriber keeps what waits
      // and hands it over, coalesced, when the runtime reads (see _subscriber.ts).
      pull: () => subscriber.pull(),
      cancel: () => this.#remove(subscriber),
    }, { highWaterMark: 0 });
    if (SIGNAL_MEANS_CLIENT_LEFT) {
      request.signal?.addEventListener("abort", () => this.#remove(subscriber, true), { once: true });
      if (request.signal?.aborted) this.#remove(subscriber, true); // it left while we checked access
    }
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
   */
  subscribe(topics: string | readonly string[], options: HubSubscribeOptions<T> = {}): ReadableStream<HubMessage<T>> {
    if (this.#closed) throw new HubError("closed", "cannot subscribe: the hub is closed");
    const list = toTopicList(topics, this.#pattern, this.#options.maxTopicsPerSubscriber ?? 32);
    if (this.#subscribers.size >= (this.#options.maxSubscribers ?? Infinity)) {
      throw new HubError("too-many-subscribers", `\`maxSubscribers\` (${this.#options.maxSubscribers}) reached`);
    }
    const budget = options.bufferMessages ?? 1024;
    const subscriber = new Subscriber<T>(list, options.filter, false, this.#options.overflow === "drop", budget);
    const stream = new ReadableStream<HubMessage<T>>({
      start: (controller) => {
        subscriber.controller = controller as ReadableStreamDefaultController<Uint8Array | HubMessage<T>>;
        this.#add(subscriber);
      },
      cancel: () => this.#remove(subscriber),
    }, new CountQueuingStrategy({ highWaterMark: budget }));
    options.signal?.addEventListener("abort", () => this.#remove(subscriber, true), { once: true });
    if (options.signal?.aborted) this.#remove(subscriber, true);
    return stream;
  }

  /**
   * The hub's counters.
   *
   * @returns Current subscribers and topics, and totals since the hub was made.
   */
  stats(): HubStats {
    return {
      subscribers: this.#subscribers.size,
      topics: this.#topics.size,
      timers: (this.#keepAlive.running ? 1 : 0) + this.#echoTimers,
      ...this.#stats,
    };
  }

  /**
   * Closes the hub: sends the optional last event (and `retry` hint) to every
   * subscriber, ends every stream after what is already queued, stops the
   * keep-alive timer and the bridge. Later publishes and subscribes throw
   * `HubError("closed")`; later requests get `closedStatus`. Calling it again does nothing.
   *
   * @param options The last event and a `retry` hint.
   */
  close(options: HubCloseOptions<T> = {}): void {
    if (this.#closed) return;
    const { event, retry } = options;
    // Encode before closing anything: an invalid last event throws and leaves the hub open.
    const last = event === undefined && retry === undefined ? undefined : encodeEvent(
      { ...event, ...(retry === undefined ? {} : { retry }) },
      this.#options.serialize ? { serialize: this.#options.serialize } : undefined,
    );
    this.#closed = true;
    this.#keepAlive.stop();
    for (const subscriber of this.#subscribers) {
      if (last !== undefined && subscriber.wantsBytes) subscriber.push(last);
      subscriber.end();
    }
    this.#subscribers.clear();
    this.#topics.clear();
    for (const [origin, waiter] of this.#waiting) {
      if (typeof waiter === "function") waiter({ topic: "", id: origin, delivered: 0 });
    }
    this.#waiting.clear();
    void Promise.resolve(this.#bridge?.close()).catch((error) => this.#options.onBridgeEvent?.({ type: "error", error }));
  }

  #fanOut(subscribers: Set<Subscriber<T>> | undefined, bytes: Uint8Array, message: HubMessage<T>): number {
    this.#stats.published++;
    let delivered = 0;
    if (subscribers !== undefined) {
      for (const subscriber of subscribers) {
        const outcome = subscriber.offer(bytes, message);
        if (outcome === DELIVERED) delivered++;
        else if (outcome === DROPPED) this.#stats.dropped++;
        else if (outcome === OVERFLOW) this.#overflow(subscriber);
        else if (!subscriber.active) this.#remove(subscriber); // its filter threw or its stream is gone
      }
    }
    this.#stats.delivered += delivered;
    return delivered;
  }

  // A message from the bus: the same encoding and fan-out as a local publish, with the bus's id.
  #deliver(message: BridgeMessage): void {
    if (this.#closed) return;
    let delivered = 0;
    try {
      const { topic, id, event, json } = message;
      assertTopic(topic, this.#pattern);
      const data = (json ? (this.#options.deserialize ?? JSON.parse)(message.data) : message.data) as T;
      assertLineField("id", id); // the bus is another process: check what it sends
      if (event !== undefined) assertLineField("event", event);
      const bytes = encodeWire(id, event, message.data, undefined);
      const hubMessage: HubMessage<T> = { topic, id, event, data };
      if (this.#history !== this.#bridge?.history) {
        try {
          this.#history?.append({ id, topic, bytes, message: hubMessage });
        } catch (error) { // e.g. MemoryHistory given ids it cannot order: report it, deliver anyway
          this.#stats.bridgeErrors++;
          this.#options.onBridgeEvent?.({ type: "error", error });
        }
      }
      delivered = this.#fanOut(this.#topics.get(topic), bytes, hubMessage);
    } catch (error) {
      this.#stats.bridgeErrors++;
      this.#options.onBridgeEvent?.({ type: "error", error });
    }
    if (!this.#waiting.has(message.origin)) return;
    const result = { topic: message.topic, id: message.id, delivered };
    const waiter = this.#waiting.get(message.origin);
    if (typeof waiter === "function") {
      this.#waiting.delete(message.origin);
      waiter(result);
    } else this.#waiting.set(message.origin, result);
  }

  // Resolves with the local fan-out of an own publish, or after 5 s without its echo (a gap).
  #echo(origin: string, accepted: PublishResult): PublishResult | Promise<PublishResult> {
    if (this.#closed) return accepted; // close() settled the waiters: no timer after close
    const early = this.#waiting.get(origin);
    if (early !== undefined && typeof early !== "function") {
      this.#waiting.delete(origin);
      return early;
    }
    return new Promise((resolve) => {
      this.#echoTimers++;
      const timer = setTimeout(() => {
        this.#echoTimers--;
        if (!this.#waiting.delete(origin)) return;
        this.#stats.bridgeGaps++;
        this.#options.onBridgeEvent?.({ type: "gap", reason: `own event ${accepted.id} did not come back from the bus` });
        resolve(accepted);
      }, 5000);
      this.#waiting.set(origin, (result) => {
        clearTimeout(timer);
        this.#echoTimers--;
        resolve(result);
      });
    });
  }

  #replay(subscriber: Subscriber<T>, lastEventId: string): void {
    const replay = this.#history!.since(subscriber.topics, lastEventId);
    if (!(replay instanceof Promise)) return this.#sendReplay(subscriber, replay);
    // Live events published while the store answers wait, then go out de-duplicated.
    subscriber.pending = [];
    replay.then(
      (result) => this.#sendReplay(subscriber, result),
      // A store that fails cannot vouch for anything: the client gets the reset event.
      () => this.#sendReplay(subscriber, { entries: [], complete: false }),
    ).catch((error: unknown) => {
      // Never an unhandled rejection (e.g. an invalid `resetEvent`): this subscriber fails, alone.
      subscriber.fail(error);
      this.#remove(subscriber);
    });
  }

  #sendReplay(subscriber: Subscriber<T>, replay: Replay): void {
    const pending = subscriber.takePending();
    if (!subscriber.active) return;
    if (!replay.complete) {
      const reason = replay.entries.length > 0 ? "history-exceeded" : "unknown-id";
      const resume = replay.entries.length === 0 && replay.latestId !== undefined ? { id: replay.latestId } : {};
      subscriber.push(encodeEvent({ event: this.#options.resetEvent ?? "sse-hub:reset", ...resume, data: { reason } }));
    }
    const seen = new Set<string>();
    for (const entry of replay.entries) {
      if (subscriber.filter !== undefined) {
        // A filtered subscriber only gets what its filter accepts; without the payload, nothing.
        try {
          const payload = payloadOf(entry, this.#options.deserialize);
          const message = payload && { topic: entry.topic, id: entry.id, ...payload } as HubMessage<T>;
          if (message === undefined || !subscriber.filter(message)) continue;
        } catch (error) {
          // As live: a filter that throws closes its subscriber, and nobody else notices.
          subscriber.fail(error);
          this.#remove(subscriber);
          return;
        }
      }
      subscriber.push(entry.bytes);
      seen.add(entry.id);
    }
    this.#stats.replayed += seen.size;
    // Held live events the replay did not send go after it, except those older than a replayed
    // event of their topic: the store had already dropped them (its reset said so), and sending
    // them now would put them after newer ones.
    const replayedUpTo = new Map<string, number>();
    pending.forEach(({ id, topic }, i) => seen.has(id) && replayedUpTo.set(topic, i));
    pending.forEach(({ id, topic, chunk }, i) => {
      if (!seen.has(id) && i > (replayedUpTo.get(topic) ?? -1)) subscriber.push(chunk);
    });
  }

  #add(subscriber: Subscriber<T>): void {
    this.#subscribers.add(subscriber);
    for (const topic of subscriber.topics) {
      let set = this.#topics.get(topic);
      if (set === undefined) this.#topics.set(topic, set = new Set());
      set.add(subscriber);
    }
    this.#keepAlive.start();
  }

  #remove(subscriber: Subscriber<T>, endStream = false): void {
    if (endStream && subscriber.active) subscriber.end();
    subscriber.active = false;
    if (!this.#subscribers.delete(subscriber)) return;
    for (const topic of subscriber.topics) {
      const set = this.#topics.get(topic);
      if (set === undefined) continue;
      set.delete(subscriber);
      if (set.size === 0) this.#topics.delete(topic);
    }
    if (this.#subscribers.size === 0) this.#keepAlive.stop();
  }

  #overflow(subscriber: Subscriber<T>): void {
    this.#stats.slowDisconnects++;
    subscriber.fail(new HubError("slow-subscriber", "the subscriber fell behind by more than its buffer and was closed"));
    this.#remove(subscriber);
  }

  #refuseClosed(): Response {
    this.#stats.rejected++;
    const status = this.#options.closedStatus ?? 204;
    return textResponse(status, "the hub is closed", status === 503 ? { "retry-after": String(this.#options.retryAfter ?? 5) } : undefined);
  }
}

// One published event on the wire, for local publishes and bus deliveries alike; the
// caller has checked `id` and `event` (a hub's own ids are digits).
function encodeWire(id: string, event: string | undefined, data: unknown, serialize: Serializer | undefined): Uint8Array {
  return encoder.encode(
    (event === undefined ? "" : `event: ${event}\n`) + `id: ${id}\n` + formatData(data, serialize) + "\n",
  );
}
