// Hub rules that hold in-process as over HTTP: re-entrant serializers and subscribes, reserved
// event types, one abort listener per subscriber for its lifetime, options checked up front.
import { describe, it } from "./helpers/timed.ts";
import assert from "node:assert/strict";
import { EventFieldError, Hub, HubError } from "../mod.ts";
import type { Bridge, HubMessage, HubOptions } from "../mod.ts";
import { until } from "./helpers/server.ts";

async function read<T>(stream: ReadableStream<T>, n: number): Promise<T[]> {
  const reader = stream.getReader();
  const out: T[] = [];
  while (out.length < n) {
    const { value, done } = await reader.read();
    if (done) break;
    out.push(value);
  }
  reader.releaseLock();
  return out;
}

describe("Hub re-entrancy", () => {
  for (const history of [undefined, false] as const) {
    it(`Hub.publish from inside a serializer throws HubError reentrant and reuses no id (history: ${history})`, async () => {
      const inner: unknown[] = [];
      const hub: Hub<{ n: number }> = new Hub<{ n: number }>({
        ...(history === false ? { history } : {}),
        serialize: (value) => {
          try {
            hub.publish("a", { n: 99 });
          } catch (error) {
            inner.push(error);
          }
          return JSON.stringify(value);
        },
      });
      const stream = hub.subscribe("a");
      const first = hub.publish("a", { n: 1 });
      const second = hub.publish("a", { n: 2 });
      assert.equal(inner.length, 2);
      for (const error of inner) {
        assert.ok(error instanceof HubError && error.type === "reentrant", String(error));
      }
      const messages = await read(stream, 2);
      assert.deepEqual(messages.map((m) => m.data), [{ n: 1 }, { n: 2 }]);
      assert.deepEqual(messages.map((m) => m.id), [first.id, second.id]);
      assert.notEqual(first.id, second.id);
      hub.close();
    });
  }

  it("Hub.subscribe from inside a filter does not receive the event being delivered", async () => {
    const hub = new Hub<string>();
    let late: ReadableStream<HubMessage<string>> | undefined;
    hub.subscribe("a", { filter: () => (late ??= hub.subscribe("a"), true) });
    hub.publish("a", "before it existed");
    hub.publish("a", "after");
    assert.ok(late);
    assert.deepEqual((await read(late, 1)).map((m) => m.data), ["after"]);
    hub.close();
  });
});

describe("Hub reserved event types", () => {
  it("Hub.publish refuses an event type starting with sse-hub: and delivers nothing", async () => {
    const hub = new Hub<string>();
    const stream = hub.subscribe("a");
    assert.throws(
      () => hub.publish("a", "reload!", { event: "sse-hub:reset" }),
      (e) => e instanceof HubError && e.type === "reserved-event",
    );
    assert.throws(
      () => hub.close({ event: { event: "sse-hub:x" } }),
      (e) => e instanceof HubError && e.type === "reserved-event",
    );
    hub.publish("a", "fine", { event: "sse-hubby" });
    assert.deepEqual((await read(stream, 1)).map((m) => m.event), ["sse-hubby"]);
    hub.close();
  });

  it("Hub.publishAsync rejects a reserved event type before it reaches the bus", async () => {
    let sent = 0;
    const bridge: Bridge = { start() {}, publish: () => (sent++, Promise.resolve("1")), close() {} };
    const hub = new Hub<string>({ bridge, history: false });
    await assert.rejects(
      hub.publishAsync("a", "x", { event: "sse-hub:reset" }),
      (e) => e instanceof HubError && e.type === "reserved-event",
    );
    assert.equal(sent, 0);
    hub.close();
  });
});

describe("Hub abort signals", () => {
  it("Hub.subscribe leaves no abort listener behind on a long-lived signal after 10,000 cycles", async () => {
    const hub = new Hub<string>();
    const shutdown = new AbortController();
    let listeners = 0;
    const signal = shutdown.signal;
    const add = signal.addEventListener.bind(signal);
    const remove = signal.removeEventListener.bind(signal);
    signal.addEventListener = (...args: Parameters<typeof add>) => (listeners++, add(...args));
    signal.removeEventListener = (...args: Parameters<typeof remove>) => (listeners--, remove(...args));
    for (let i = 0; i < 10_000; i++) await hub.subscribe("a", { signal }).cancel();
    assert.equal(listeners, 0);
    assert.equal(hub.size, 0);
    const last = hub.subscribe("a", { signal });
    shutdown.abort();
    assert.equal(hub.size, 0);
    assert.deepEqual(await read(last, 1), []);
    hub.close();
  });
});

describe("Hub options", () => {
  const bad: [string, HubOptions, ErrorConstructor | typeof EventFieldError][] = [
    ["keepAlive 0", { keepAlive: 0 }, RangeError],
    ["keepAlive -1", { keepAlive: -1 }, RangeError],
    ["keepAlive Infinity", { keepAlive: Infinity }, RangeError],
    ["keepAlive 2^31", { keepAlive: 2 ** 31 }, RangeError],
    ["keepAlive 1.5", { keepAlive: 1.5 }, RangeError],
    ["retry -1", { retry: -1 }, EventFieldError],
    ["retry 2.5", { retry: 2.5 }, EventFieldError],
    ["resetEvent with a line break", { resetEvent: "reset\ndata: x" }, EventFieldError],
    ["resetEvent empty", { resetEvent: "" }, RangeError],
    ["bufferBytes 0", { bufferBytes: 0 }, RangeError],
    ["maxSubscribers -1", { maxSubscribers: -1 }, RangeError],
    ["maxTopicsPerSubscriber 0", { maxTopicsPerSubscriber: 0 }, RangeError],
    ["retryAfter NaN", { retryAfter: NaN }, RangeError],
    ["maxLastEventIdLength 0", { maxLastEventIdLength: 0 }, RangeError],
    ["closedStatus 200", { closedStatus: 200 as 204 }, RangeError],
    ["overflow other", { overflow: "block" as "drop" }, TypeError],
    ["topicPattern global", { topicPattern: /^a+$/g }, RangeError],
    ["topicPattern a string", { topicPattern: "^a$" as unknown as RegExp }, TypeError],
    ["serialize not a function", { serialize: "json" as unknown as () => string }, TypeError],
    ["history not a store", { history: {} as never }, TypeError],
  ];
  for (const [label, options, type] of bad) {
    it(`new Hub refuses ${label} with a ${type.name} naming the option`, () => {
      assert.throws(() => new Hub(options), (error) => {
        assert.ok(error instanceof type, `${label}: ${error}`);
        const name = Object.keys(options)[0]!;
        assert.ok(
          type === EventFieldError || (error as Error).message.includes(name),
          (error as Error).message,
        );
        return true;
      });
    });
  }

  it("new Hub accepts the edges of every range", () => {
    for (
      const options of [
        { keepAlive: 1 },
        { keepAlive: 2 ** 31 - 1 },
        { keepAlive: false as const },
        { retry: 0 },
        {
          maxSubscribers: Infinity,
        },
        { maxSubscribers: 0 },
        { closedStatus: 503 as const },
        { resetEvent: "app:reset" },
      ]
    ) new Hub(options).close();
  });
});

describe("Hub echo waits", () => {
  it("Hub.publishAsync resolves with the bus's id and reports a gap when its echo never comes, with one timer for all", async () => {
    const gaps: unknown[] = [];
    let next = 0;
    const bridge: Bridge = { start() {}, publish: () => Promise.resolve(`1-${next++}`), close() {} };
    const hub = new Hub<string>({ bridge, history: false, onBridgeEvent: (event) => gaps.push(event) });
    const results = Promise.all([1, 2, 3].map((i) => hub.publishAsync("a", `lost ${i}`)));
    await until(() => hub.stats().timers > 0, "the bus to answer");
    assert.equal(hub.stats().timers, 1, "one sweeper for three waiting publishes");
    assert.deepEqual((await results).map((r) => [r.id, r.delivered]), [["1-0", 0], ["1-1", 0], ["1-2", 0]]);
    assert.equal(gaps.length, 3);
    assert.match(String((gaps[0] as { reason: string }).reason), /own event 1-0 did not come back/);
    assert.equal(hub.stats().timers, 0);
    assert.equal(hub.stats().bridgeGaps, 3);
    hub.close();
  });
});
