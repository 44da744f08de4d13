import { describe, it } from "./helpers/timed.ts";
import assert from "node:assert/strict";
import { MemoryHistory } from "../mod.ts";
import type { HistoryEntry } from "../mod.ts";

const bytes = (n: number) => new Uint8Array(n);
const entry = (id: number, topic = "t", size = 10): HistoryEntry => ({
  id: String(id),
  topic,
  bytes: bytes(size),
});
const ids = (entries: HistoryEntry[]) => entries.map((e) => Number(e.id));

describe("MemoryHistory", () => {
  it("MemoryHistory.since returns the events after the id, oldest first, complete", () => {
    const history = new MemoryHistory();
    for (let id = 101; id <= 105; id++) history.append(entry(id));
    assert.deepEqual(ids(history.since(["t"], "102").entries), [103, 104, 105]);
    assert.equal(history.since(["t"], "102").complete, true);
    assert.deepEqual(history.since(["t"], "105"), { entries: [], complete: true, latestId: "105" });
  });

  it("MemoryHistory.since merges several topics in publish order", () => {
    const history = new MemoryHistory();
    history.append(entry(11, "a"));
    history.append(entry(12, "b"));
    history.append(entry(13, "c"));
    history.append(entry(14, "a"));
    history.append(entry(15, "b"));
    assert.deepEqual(ids(history.since(["b", "a"], "10").entries), [11, 12, 14, 15]);
    assert.deepEqual(history.since(["b", "a"], "10").entries.map((e) => e.topic), ["a", "b", "a", "b"]);
  });

  it("MemoryHistory evicts by count and reports an id older than what it keeps as incomplete", () => {
    const history = new MemoryHistory({ maxEvents: 3 });
    for (let id = 1; id <= 6; id++) history.append(entry(id));
    const replay = history.since(["t"], "2");
    assert.deepEqual(ids(replay.entries), [4, 5, 6]);
    assert.equal(replay.complete, false);
    assert.equal(history.since(["t"], "3").complete, true);
  });

  it("MemoryHistory evicts by bytes but always keeps the newest event", () => {
    const history = new MemoryHistory({ maxBytes: 25 });
    history.append(entry(1, "t", 10));
    history.append(entry(2, "t", 10));
    history.append(entry(3, "t", 10));
    assert.deepEqual(ids(history.since(["t"], "0").entries), [2, 3]);
    history.append(entry(4, "t", 100));
    assert.deepEqual(ids(history.since(["t"], "3").entries), [4]);
  });

  it("MemoryHistory treats malformed, future and pre-start ids as unknown", () => {
    const history = new MemoryHistory();
    for (let id = 1000; id <= 1002; id++) history.append(entry(id));
    for (const bad of ["", "abc", "1e3", "-1", "1001\n", "1".repeat(17)]) {
      assert.deepEqual(history.since(["t"], bad), { entries: [], complete: false, latestId: "1002" }, bad);
    }
    assert.deepEqual(history.since(["t"], "5000"), { entries: [], complete: false, latestId: "1002" });
    // An id from before this store's first event (another process): everything kept, marked incomplete.
    const old = history.since(["t"], "17");
    assert.deepEqual(ids(old.entries), [1000, 1001, 1002]);
    assert.equal(old.complete, false);
    // The id just before the first event is still exact.
    assert.equal(history.since(["t"], "999").complete, true);
  });

  it("MemoryHistory with nothing recorded knows no id", () => {
    assert.deepEqual(new MemoryHistory().since(["t"], "1"), { entries: [], complete: false });
  });

  it("MemoryHistory forgets the least recently published topic past maxTopics, and says so", () => {
    const history = new MemoryHistory({ maxTopics: 2 });
    history.append(entry(1, "a"));
    history.append(entry(2, "b"));
    history.append(entry(3, "a"));
    history.append(entry(4, "c")); // forgets "b" (published least recently)
    assert.deepEqual(ids(history.since(["b"], "1").entries), []);
    assert.equal(history.since(["b"], "1").complete, false);
    assert.equal(history.since(["a"], "2").complete, true);
    assert.deepEqual(ids(history.since(["a"], "2").entries), [3]);
  });

  it("MemoryHistory.append throws RangeError for ids that are not increasing numbers", () => {
    const history = new MemoryHistory();
    history.append(entry(5));
    assert.throws(() => history.append(entry(5)), RangeError);
    assert.throws(() => history.append({ id: "x", topic: "t", bytes: bytes(1) }), RangeError);
  });

  it("MemoryHistory throws RangeError for non-positive bounds", () => {
    assert.throws(() => new MemoryHistory({ maxEvents: 0 }), RangeError);
    assert.throws(() => new MemoryHistory({ maxBytes: -1 }), RangeError);
    assert.throws(() => new MemoryHistory({ maxTopics: 1.5 }), RangeError);
  });
});
