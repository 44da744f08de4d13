// The delivery contract at its edges, over real HTTP: re-entrant callbacks, close() during an
// async replay, a trimmed multi-topic replay, a bus gap the bridge could not recover, and what
// publishAsync answers when close() settles it. Each test failed before its fix.
import { describe, it } from "../helpers/timed.ts";
import assert from "node:assert/strict";
import { Hub, HubError, MemoryHistory, publishHandler } from "../../mod.ts";
import type { Bridge, BridgeSink, HistoryStore, HubOptions, Replay } from "../../mod.ts";
import { SseClient } from "../helpers/client.ts";
import { serve, until, withDeadline } from "../helpers/server.ts";

// GET /events?topic=a&topic=b over a real server; the hub's filter is the test's.
function start(options: HubOptions = {}, filter?: (message: { id: string }) => boolean) {
  const hub = new Hub<string>(options);
  const server = serve((request) => {
    const topics = new URL(request.url).searchParams.getAll("topic");
    return hub.response(request, { topics, ...(filter ? { filter } : {}) });
  });
  return {
    hub,
    server,
    connect: (query: string, headers: Record<string, string> = {}) =>
      SseClient.connect(`${server.url}/events?${query}`, { headers }),
    stop: async () => {
      hub.close();
      await server.close();
    },
  };
}

// A replay store that answers only when the test says so, computing its answer then.
function gatedStore(trimTo = Infinity) {
  const memory = new MemoryHistory();
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  let asked = 0;
  const store: HistoryStore = {
    append: (entry) => memory.append(entry),
    since: async (topics, lastEventId) => {
      asked++;
      await gate;
      const replay: Replay = memory.since(topics, lastEventId);
      if (replay.entries.length <= trimTo) return replay;
      return { ...replay, entries: replay.entries.slice(-trimTo), complete: false };
    },
  };
  return { store, open, asked: () => asked };
}

function assertIncreasing(ids: string[]) {
  for (let i = 1; i < ids.length; i++) {
    assert.ok(BigInt(ids[i]!) > BigInt(ids[i - 1]!), `ids must increase: ${ids.join(", ")}`);
  }
  assert.equal(new Set(ids).size, ids.length, `no id twice: ${ids.join(", ")}`);
}

describe("Hub delivery guarantees over HTTP", () => {
  it("Hub.publish refuses a publish from inside a filter with HubError reentrant, and ids reach the client in order", async () => {
    const refusals: unknown[] = [];
    const t: ReturnType<typeof start> = start({}, (message) => {
      if (refusals.length === 0) {
        try {
          t.hub.publish("a", `nested in ${message.id}`);
        } catch (error) {
          refusals.push(error);
        }
      }
      return true;
    });
    const hub = t.hub;
    const client = await t.connect("topic=a");
    await until(() => hub.size === 1, "the subscriber");
    hub.publish("a", "first");
    hub.publish("a", "second");
    const events = await client.take(2);
    assert.equal(refusals.length, 1);
    assert.ok(refusals[0] instanceof HubError && refusals[0].type === "reentrant", String(refusals[0]));
    assert.deepEqual(events.map((e) => e.data), ["first", "second"]);
    assertIncreasing(events.map((e) => e.id));
    await client.close();
    await t.stop();
  });

  it("Hub.publish from a filter's queueMicrotask goes out after the event, with a larger id", async () => {
    let nested = false;
    const t: ReturnType<typeof start> = start({}, () => {
      if (!nested) {
        nested = true;
        queueMicrotask(() => t.hub.publish("a", "follow-up"));
      }
      return true;
    });
    const hub = t.hub;
    const client = await t.connect("topic=a");
    await until(() => hub.size === 1, "the subscriber");
    hub.publish("a", "first");
    const events = await client.take(2);
    assert.deepEqual(events.map((e) => e.data), ["first", "follow-up"]);
    assertIncreasing(events.map((e) => e.id));
    await client.close();
    await t.stop();
  });

  it("Hub.close during an async replay still sends the replay, the events held meanwhile, then the last event", async () => {
    const gated = gatedStore();
    const t = start({ history: gated.store });
    const first = t.hub.publish("a", "one").id;
    t.hub.publish("a", "two");
    t.hub.publish("a", "three");
    const client = await t.connect("topic=a", { "last-event-id": first });
    await until(() => gated.asked() === 1 && t.hub.size === 1, "the replay to start");
    t.hub.publish("a", "four"); // held while the store answers
    t.hub.publish("a", "five");
    t.hub.close({ event: { event: "bye", data: "closing" } });
    gated.open();
    const events = await client.end();
    assert.deepEqual(events.map((e) => e.data), ["two", "three", "four", "five", "closing"]);
    assertIncreasing(events.slice(0, 4).map((e) => e.id));
    assert.equal(events.at(-1)!.event, "bye");
    await t.server.close();
  });

  it("Hub.response never moves a client's id back when a store trims a multi-topic replay", async () => {
    const gated = gatedStore(2);
    const t = start({ history: gated.store });
    const first = t.hub.publish("a", "a1").id;
    const client = await t.connect("topic=a&topic=b", { "last-event-id": first });
    await until(() => gated.asked() === 1 && t.hub.size === 1, "the replay to start");
    t.hub.publish("b", "b2"); // held; the store will trim it away
    t.hub.publish("a", "a3");
    t.hub.publish("a", "a4");
    gated.open();
    const [reset, ...events] = await client.take(3);
    assert.equal(reset!.event, "sse-hub:reset");
    assert.deepEqual(JSON.parse(reset!.data), { reason: "history-exceeded" });
    assert.deepEqual(events.map((e) => e.data), ["a3", "a4"]);
    t.hub.publish("b", "b5");
    const [live] = await client.take(1);
    assert.equal(live!.data, "b5");
    assertIncreasing([...events.map((e) => e.id), live!.id]);
    await client.close();
    await t.stop();
  });

  it("Hub.response sends a reset with reason history-unavailable when the store fails, then goes live", async () => {
    const failing: HistoryStore = { append() {}, since: () => Promise.reject(new Error("Redis is down")) };
    const t = start({ history: failing });
    const client = await t.connect("topic=a", { "last-event-id": "1-0" });
    const [reset] = await client.take(1);
    assert.equal(reset!.event, "sse-hub:reset");
    assert.deepEqual(JSON.parse(reset!.data), { reason: "history-unavailable" });
    await until(() => t.hub.size === 1, "the subscriber to go live");
    t.hub.publish("a", "live");
    assert.equal((await client.next()).data, "live");
    await client.close();
    await t.stop();
  });

  it("Hub sends every client a reset with reason bus-gap when its bridge reports a gap it could not recover", async () => {
    let sink!: BridgeSink;
    const bridge: Bridge = { start: (s) => void (sink = s), publish: () => Promise.resolve("1"), close() {} };
    const gaps: unknown[] = [];
    const t = start({ bridge, history: false, onBridgeEvent: (event) => gaps.push(event) });
    const client = await t.connect("topic=a");
    await until(() => t.hub.size === 1, "the subscriber");
    sink.gap({ from: "1-0", reason: "catching up is still going on" });
    sink.gap({ from: "1-0", reason: "the stream was trimmed past 1-0", recovered: false });
    const [reset] = await client.take(1);
    assert.equal(reset!.event, "sse-hub:reset");
    assert.deepEqual(JSON.parse(reset!.data), { reason: "bus-gap" });
    assert.equal(client.buffered.length, 0, "a gap still being caught up sends no reset");
    assert.equal(t.hub.stats().bridgeGaps, 2);
    assert.deepEqual(gaps.at(-1), {
      type: "gap",
      from: "1-0",
      reason: "the stream was trimmed past 1-0",
      recovered: false,
    });
    await client.close();
    await t.stop();
  });

  it("publishHandler answers the bus's real id when close() settles a publish still waiting for its echo", async () => {
    const bridge: Bridge = { start() {}, publish: () => Promise.resolve("1700000000000-7"), close() {} };
    const hub = new Hub<string>({ bridge, history: false });
    const publish = publishHandler(hub);
    const server = serve((request) => publish(request));
    const answer = fetch(server.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ topic: "news", msg: "hi" }),
    });
    await until(
      () => hub.stats().timers === 1,
      "the bus to answer (the echo wait starts; the echo never comes)",
    );
    hub.close();
    const response = await withDeadline(answer, 10_000, "the publish answer");
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { topic: "news", id: "1700000000000-7", delivered: 0 });
    await server.close();
  });
});
