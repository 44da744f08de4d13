/**
 * `Hub<T>`: wiring and thin public methods; each step of the flow is a file of its own:
 * `_admission`, `_ingest` (ids, history, then fan-out), `_fan_out` (with the overflow policy),
 * `_subscriber`/`_byte_subscriber`, `_http_streams` (join, leave), `_replay`, `_bus_link`,
 * `_guard` (re-entrancy), `_settings`.
 * @module
 */
import { encodeClosing } from "./encode.ts";
import { assertPublishedEvent } from "./event.ts";
import { HubError } from "./errors.ts";
import { MemoryHistory } from "./memory_history.ts";
import type { HubCloseOptions, HubOptions, HubResponseOptions, HubSubscribeOptions } from "./hub_options.ts";
import type { HubMessage, HubStats, PublishResult } from "./message.ts";
import { sseResponseHeaders } from "./response.ts";
import { admit, admitInProcess } from "./_admission.ts";
import { BusLink } from "./_bus_link.ts";
import { type ByteStreamOwner, ByteSubscriber } from "./_byte_subscriber.ts";
import { FanOut, type HubCounters, zeroCounters } from "./_fan_out.ts";
import { Guard } from "./_guard.ts";
import { LocalPublish } from "./_ingest.ts";
import { httpStreams } from "./_http_streams.ts";
import { type HubSettings, settingsOf } from "./_settings.ts";
import { MessageSubscriber } from "./_message_subscriber.ts";
import { assertTopic } from "./_topics.ts";

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
  readonly #settings: HubSettings;
  readonly #stats: HubCounters = zeroCounters();
  readonly #guard = new Guard();
  readonly #fanOut: FanOut<T>;
  readonly #bus: BusLink<T> | undefined;
  /** What every HTTP stream of this hub shares (no closure per connection). */
  readonly #streams: ByteStreamOwner<T>;
  readonly #local: LocalPublish<T>;
  #closed = false;

  /**
   * Creates a hub. It holds no timer and no connection until someone subscribes.
   *
   * @param options Limits, history, keep-alive, access rules and a bridge; all optional.
   * @throws {TypeError | RangeError | EventFieldError} When an option is invalid (the message names it).
   */
  constructor(options: HubOptions = {}) {
    const settings = this.#settings = settingsOf(options);
    const { bridge, history: given } = options;
    const history = given === false ? undefined : (given ?? bridge?.history ?? new MemoryHistory());
    const guard = this.#guard, counters = this.#stats;
    const { overflow, keepAlive, keepAlivePerConnection } = settings;
    const fanOut = this.#fanOut = new FanOut(overflow, keepAlive, keepAlivePerConnection, counters, options);
    this.#local = new LocalPublish({ history, fanOut }, settings.options.serialize);
    // A bridge's own store has every bus event already: the link records only into another.
    const local = history === bridge?.history ? undefined : history;
    this.#bus = bridge && new BusLink<T>(bridge, { settings, guard, counters, history: local, fanOut });
    this.#streams = httpStreams(settings, counters, fanOut, guard, history, options.deserialize);
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
   * `"reentrant"` from a filter or serializer while another event is being published.
   * @throws {EventFieldError} When the event cannot be encoded (nothing is sent or recorded).
   */
  publish(topic: string, data: T, options?: { event?: string }): PublishResult {
    const event = this.#checkPublish(topic, options?.event, false);
    this.#guard.enter(); // #checkPublish found it idle
    try {
      return this.#local.publish(topic, data, event);
    } finally {
      this.#guard.leave();
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
    const event = this.#checkPublish(topic, options?.event, true);
    return await this.#bus.publish(topic, data, event, this.#settings.options.serialize);
  }

  /**
   * Answers an SSE request: checks topics, access and limits, then returns a
   * streaming `Response` that replays what the client missed (per its
   * `Last-Event-ID`, read at the runtime's first read of the body; events
   * published before then follow the replay) and then goes live. Its stream's
   * `cancel` unsubscribes.
   *
   * Refusals: 400 bad topics, 403 (or the `authorize` hook's response),
   * 503 with `Retry-After` when `maxSubscribers` is reached, 204 or 503 after close.
   *
   * @param request The incoming request.
   * @param options The topics, an optional filter and extra headers.
   * @returns The response to return from your `fetch` handler.
   */
  async response(request: Request, options: HubResponseOptions<T>): Promise<Response> {
    const settings = this.#settings;
    const topics = await admit(request, options.topics, settings, this);
    if (topics instanceof Response) {
      this.#stats.rejected++;
      return topics;
    }
    const subscriber = new ByteSubscriber<T>(topics, options.filter, settings.bufferBytes, this.#streams);
    this.#fanOut.identify(subscriber, options.key, request);
    const stream = subscriber.open(request, options.lastEventId ?? request);
    return new Response(stream, {
      status: options.status ?? 200,
      headers: sseResponseHeaders(options.headers),
    });
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
    const [list, budget] = admitInProcess(topics, options.bufferMessages, this.#settings, this);
    const subscriber = new MessageSubscriber<T>(list, options.filter, budget);
    this.#fanOut.identify(subscriber, options.key, undefined);
    const stream = subscriber.open(() => this.#fanOut.add(subscriber), () => this.#fanOut.remove(subscriber));
    subscriber.leaveOnAbort(options.signal, () => this.#fanOut.remove(subscriber, true));
    return stream;
  }

  /**
   * Subscribers of `topic` on this instance, now (for presence across instances, publish
   * joins and leaves from `onJoin`/`onLeave`).
   *
   * @param topic The topic.
   * @returns How many subscribers follow it.
   *
   * @example
   * ```ts
   * import { Hub } from "@sse-hub/sse-hub";
   * import assert from "node:assert/strict";
   *
   * const hub = new Hub<string>();
   * const stream = hub.subscribe(["lobby", "news"]);
   * assert.equal(hub.count("lobby"), 1);
   * await stream.cancel();
   * assert.equal(hub.count("lobby"), 0);
   * hub.close();
   * ```
   */
  count(topic: string): number {
    return this.#fanOut.count(topic);
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
      timers: this.#fanOut.timers + (this.#bus?.timers ?? 0) + (this.#streams.linger?.timers ?? 0),
      ...this.#stats,
    };
  }

  /**
   * Closes the hub: sends the optional last event (and `retry` hint) to every
   * subscriber, ends every stream after what is already queued (one still waiting for
   * its replay gets the replay and what was published meanwhile first), stops the
   * keep-alive timer and the bridge. Later publishes and subscribes throw
   * `HubError("closed")`; later requests get `closedStatus`. Calling it again does nothing.
   *
   * @param options The last event and a `retry` hint.
   * @throws {EventFieldError | HubError} When the last event is invalid (the hub stays open).
   */
  close(options: HubCloseOptions<T> = {}): void {
    if (this.#closed) return;
    // Encoded before closing anything: an invalid last event throws and leaves the hub open.
    const last = encodeClosing(options, this.#settings.options.serialize);
    this.#closed = true;
    this.#streams.linger?.stop();
    this.#fanOut.closeAll(last);
    this.#bus?.close();
  }

  #checkPublish(topic: string, event: string | undefined, viaBus: boolean): string | undefined {
    if (this.#closed) throw new HubError("closed", "cannot publish: the hub is closed");
    this.#guard.assertIdle();
    if (!viaBus && this.#bus) {
      throw new HubError("bridged", "a bridged hub takes ids from the bus: use publishAsync");
    }
    if (!this.#fanOut.follows(topic)) assertTopic(topic, this.#settings.pattern); // followed topics passed already
    if (event !== undefined) assertPublishedEvent(event);
    return event;
  }
}
