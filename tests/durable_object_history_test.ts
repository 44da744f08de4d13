import { describe, it } from "./helpers/timed.ts";
import assert from "node:assert/strict";
import { DurableObjectHistory, Hub } from "../mod.ts";
import type { DurableObjectStorageLike, HistoryEntry } from "../mod.ts";
import { SseClient } from "./helpers/client.ts";
import { serve } from "./helpers/server.ts";

/**
 * A Map with the storage's contract: keys listed in order, writes applied in call order, each
 * value cloned as `put` is called (as Durable Object storage does). Counts the calls.
 */
class MapStorage implements DurableObjectStorageLike {
  readonly data = new Map<string, unknown>();
  readonly calls = { put: 0, delete: 0, deletedKeys: 0, list: 0 };
  /** Makes the next `put` reject (asynchronously), as a failed write does. */
  failNextPut: Error | undefined;

  put(key: string, value: unknown): Promise<void> {
    this.calls.put++;
    let copy: unknown;
    try {
      copy = structuredClone(value);
    } catch (error) {
      return Promise.reject(error); // as workerd 2026-11-17 does: a value it cannot clone rejects
    }
    const failure = this.failNextPut;
    this.failNextPut = undefined;
    if (failure) return Promise.reject(failure);
    this.data.set(key, copy);
    return Promise.resolve();
  }

  delete(keys: string[]): Promise<number> {
    this.calls.delete++;
    this.calls.deletedKeys += keys.length;
    return Promise.resolve(keys.filter((key) => this.data.delete(key)).length);
  }

  list({ prefix }: { prefix: string }): Promise<Map<string, unknown>> {
    this.calls.list++;
    const keys = [...this.data.keys()].filter((key) => key.startsWith(prefix)).sort();
    return Promise.resolve(new Map(keys.map((key) => [key, structuredClone(this.data.get(key))])));
  }
}

const entry = (id: number, topic = "t", size = 10): HistoryEntry => ({
  id: String(id),
  topic,
  bytes: new Uint8Array(size),
  message: { event: undefined, data: `event ${id}` },
});
const ids = (entries: HistoryEntry[]) => entries.map((e) => Number(e.id));

async function loaded(storage: MapStorage, options = {}): Promise<DurableObjectHistory> {
  const history = new DurableObjectHistory(storage, options);
  await history.load();
  return history;
}

describe("DurableObjectHistory", () => {
  it("DurableObjectHistory writes one key per event and replays them after a reload", async () => {
    const storage = new MapStorage();
    const history = await loaded(storage);
    for (let id = 101; id <= 104; id++) history.append(entry(id, id % 2 === 0 ? "a" : "b"));
    await history.flush();
    assert.deepEqual(
      [...storage.data.keys()],
      [101, 102, 103, 104].map((id) => `sse-hub:${String(id).padStart(16, "0")}`),
    );
    assert.deepEqual(ids((await history.since(["a", "b"], "101")).entries), [102, 103, 104]);

    const revived = await loaded(storage);
    const replay = await revived.since(["a"], "101");
    assert.deepEqual(ids(replay.entries), [102, 104]);
    assert.deepEqual(replay.entries.map((e) => e.message?.data), ["event 102", "event 104"]);
    assert.equal(replay.complete, true);
    assert.equal(replay.latestId, "104");
    assert.deepEqual([revived.size, revived.bytes], [4, 40]);
  });

  it("DurableObjectHistory costs one put per event, and one delete more once full", async () => {
    const storage = new MapStorage();
    const history = await loaded(storage, { maxEvents: 3 });
    for (let id = 1; id <= 3; id++) history.append(entry(id));
    assert.deepEqual(storage.calls, { put: 3, delete: 0, deletedKeys: 0, list: 1 });
    for (let id = 4; id <= 10; id++) history.append(entry(id));
    await history.flush();
    assert.deepEqual(storage.calls, { put: 10, delete: 7, deletedKeys: 7, list: 1 });
    assert.equal(storage.data.size, 3);
    // A replay reads nothing from storage.
    await history.since(["t"], "8");
    assert.equal(storage.calls.list, 1);
  });

  it("DurableObjectHistory evicts by count and reports an id older than what it keeps as incomplete", async () => {
    const history = await loaded(new MapStorage(), { maxEvents: 3 });
    for (let id = 1; id <= 6; id++) history.append(entry(id));
    const replay = await history.since(["t"], "2");
    assert.deepEqual(ids(replay.entries), [4, 5, 6]);
    assert.equal(replay.complete, false);
    assert.equal((await history.since(["t"], "3")).complete, true);
  });

  it("DurableObjectHistory evicts by bytes but always keeps the newest event", async () => {
    const storage = new MapStorage();
    const history = await loaded(storage, { maxBytes: 25 });
    history.append(entry(1, "t", 10));
    history.append(entry(2, "t", 10));
    history.append(entry(3, "t", 10));
    assert.deepEqual([history.size, history.bytes], [2, 20]);
    history.append(entry(4, "t", 100));
    await history.flush();
    assert.deepEqual([history.size, history.bytes], [1, 100]);
    assert.deepEqual([...storage.data.keys()].map((key) => Number(key.slice(8))), [4]);
  });

  it("DurableObjectHistory.load deletes what is past smaller bounds and vouches only from the oldest kept", async () => {
    const storage = new MapStorage();
    const history = await loaded(storage);
    for (let id = 1; id <= 5; id++) history.append(entry(id));
    const smaller = await loaded(storage, { maxEvents: 2 });
    await smaller.flush();
    assert.equal(storage.data.size, 2);
    assert.deepEqual(ids((await smaller.since(["t"], "3")).entries), [4, 5]);
    assert.equal((await smaller.since(["t"], "3")).complete, true);
    assert.equal((await smaller.since(["t"], "2")).complete, false);
  });

  it("DurableObjectHistory.since loads first when called before load", async () => {
    const storage = new MapStorage();
    (await loaded(storage)).append(entry(7));
    const fresh = new DurableObjectHistory(storage);
    const replay = fresh.since(["t"], "6");
    assert.ok(replay instanceof Promise);
    assert.deepEqual(ids((await replay).entries), [7]);
  });

  it("DurableObjectHistory.since answers unknown and malformed ids with complete: false", async () => {
    const history = await loaded(new MapStorage());
    assert.deepEqual(await history.since(["t"], "5"), { entries: [], complete: false });
    history.append(entry(10));
    assert.deepEqual(await history.since(["t"], "11"), { entries: [], complete: false, latestId: "10" });
    assert.deepEqual(await history.since(["t"], "x1"), { entries: [], complete: false, latestId: "10" });
    assert.deepEqual(await history.since(["t"], "010"), { entries: [], complete: false, latestId: "10" });
  });

  it("DurableObjectHistory.append refuses before load, and ids that do not increase, writing nothing", async () => {
    const storage = new MapStorage();
    assert.throws(() => new DurableObjectHistory(storage).append(entry(1)), TypeError);
    const history = await loaded(storage);
    history.append(entry(5));
    for (const id of ["5", "4", "abc", "05", "12345678901234567"]) {
      assert.throws(() => history.append({ ...entry(1), id }), RangeError);
    }
    await history.flush();
    assert.equal(storage.calls.put, 1);
  });

  it("DurableObjectHistory fails a publish whose payload storage cannot clone, before anything is sent", async () => {
    const storage = new MapStorage();
    const history = await loaded(storage);
    const hub = new Hub<unknown>({ history });
    const reader = hub.subscribe("t").getReader();
    assert.throws(() => hub.publish("t", { cannot: () => "cloned" }), { name: "DataCloneError" });
    assert.equal(storage.data.size, 0);
    assert.equal(hub.stats().delivered, 0);
    hub.publish("t", "fine");
    assert.equal(storage.data.size, 1);
    assert.equal((await reader.read()).value?.data, "fine"); // the refused event never went out
    await reader.cancel();
    await history.flush(); // the refused value was never written: the store is not failed
    hub.close();
  });

  it("DurableObjectHistory.flush rejects after a failed write, and later appends throw with its cause", async () => {
    const storage = new MapStorage();
    const history = await loaded(storage);
    const failure = new Error("disk full");
    storage.failNextPut = failure;
    history.append(entry(1));
    await assert.rejects(
      history.flush(),
      (error: Error) => error instanceof TypeError && error.cause === failure,
    );
    assert.throws(() => history.append(entry(2)), (error: Error) => error.cause === failure);
  });

  it("DurableObjectHistory.load refuses a key under its prefix that holds something else", async () => {
    const storage = new MapStorage();
    storage.data.set("sse-hub:0000000000000001", "not an event");
    storage.data.set("other:1", "left alone");
    await assert.rejects(new DurableObjectHistory(storage).load(), TypeError);
    await loaded(storage, { prefix: "mine:" }); // another prefix does not see it
  });

  it("DurableObjectHistory refuses bounds that are not positive integers", () => {
    for (const options of [{ maxEvents: 0 }, { maxBytes: -1 }, { maxEvents: 1.5 }]) {
      assert.throws(() => new DurableObjectHistory(new MapStorage(), options), RangeError);
    }
  });

  it("DurableObjectHistory replays to a filtered HTTP subscriber after a reload (payloads are stored)", async () => {
    const storage = new MapStorage();
    const before = new Hub<{ n: number }>({ history: await loaded(storage) });
    const first = before.publish("t", { n: 1 });
    before.publish("t", { n: 2 });
    before.publish("t", { n: 3 });
    before.close();
    const hub = new Hub<{ n: number }>({ history: await loaded(storage) });
    const server = serve((request) =>
      hub.response(request, { topics: "t", filter: (message) => message.data.n !== 2 })
    );
    const client = await SseClient.connect(server.url, { headers: { "last-event-id": first.id } });
    try {
      assert.deepEqual((await client.next()).data, '{"n":3}');
    } finally {
      await client.close();
      hub.close();
      await server.close();
    }
  });
});
