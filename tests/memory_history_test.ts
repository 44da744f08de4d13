import { describe, it } from "./helpers/timed.ts";
import assert from "node:assert/strict";
import { Hub, MemoryHistory } from "../mod.ts";
import type { HistoryEntry } from "../mod.ts";
import { describeGrowth, memory, retainedBytes } from "./helpers/memory.ts";
import { serve, until } from "./helpers/server.ts";
import { SseClient } from "./helpers/client.ts";

const MiB = 2 ** 20;
const entry = (id: number, topic: string, size = 10): HistoryEntry => ({
  id: String(id),
  topic,
  bytes: new Uint8Array(size),
});
const ids = (entries: HistoryEntry[]) => entries.map((e) => Number(e.id));

// A 63 KB JSON body that parses into 21,000 empty objects: the shape that costs the most
// heap per encoded byte (about 20 times), as anyone allowed to publish could send.
const emptyObjects = "[" + Array.from({ length: 21_000 }, () => "{}").join(",") + "]";

// Whatever the runtime keeps after a full GC, ArrayBuffer contents included (see retainedBytes).
async function growthOf(fill: () => unknown): Promise<{ grown: number; line: string; kept: unknown }> {
  const before = await memory();
  const kept = fill();
  const after = await memory();
  assert.ok(after.collected, "this test needs a full GC (Bun.gc or V8's gc)");
  const grown = retainedBytes(after) - retainedBytes(before);
  const line = `${describeGrowth("history", before, after)}; retained +${(grown / 2 ** 20).toFixed(1)} MiB`;
  return { grown, line, kept };
}

describe("MemoryHistory memory bound", () => {
  it("MemoryHistory retains what it counts when 50 topics get parsed 63 KB JSON bodies", async () => {
    const { grown, line, kept } = await growthOf(() => {
      const hub = new Hub<unknown>();
      for (let n = 0; n < 50 * 20; n++) hub.publish(`topic-${n % 50}`, JSON.parse(emptyObjects));
      return hub; // the hub and its history stay reachable until measured
    });
    console.log(line);
    // Per topic it keeps up to `maxBytes` (1 MiB) of encoded events: 16 of these, ~1 MiB.
    assert.ok(grown < 56 * MiB, `50 topics × 1 MiB retained ${(grown / MiB).toFixed(1)} MiB`);
    (kept as Hub<unknown>).close();
  });

  it("MemoryHistory stays within maxTotalBytes when clients pick the topics (tiny events, 10,000 topics)", async () => {
    // The worst case per byte: tiny events, so bookkeeping dominates, on as many topics as allowed.
    const { grown, line, kept } = await growthOf(() => {
      const history = new MemoryHistory({ maxTotalBytes: 32 * MiB });
      const hub = new Hub<string>({ history });
      for (let n = 0; n < 300_000; n++) hub.publish(`client-picked-topic-${n % 10_000}`, "x");
      return history;
    });
    console.log(line);
    const history = kept as MemoryHistory;
    assert.ok(grown <= 32 * MiB + 2 * MiB, `retained ${(grown / MiB).toFixed(1)} MiB of a 32 MiB bound`);
    assert.ok(history.retainedBytes <= 32 * MiB);
  });

  it("MemoryHistory stays within maxTotalBytes (64 MiB by default) with large events on many topics", async () => {
    const body = "x".repeat(63_000);
    const { grown, line, kept } = await growthOf(() => {
      const hub = new Hub<string>();
      for (let n = 0; n < 200 * 20; n++) hub.publish(`topic-${n % 200}`, body + n);
      return hub;
    });
    console.log(line);
    assert.ok(
      grown <= 64 * MiB + 2 * MiB,
      `200 topics retained ${(grown / MiB).toFixed(1)} MiB of a 64 MiB bound`,
    );
    (kept as Hub<string>).close();
  });
});

describe("MemoryHistory", () => {
  it("MemoryHistory evicts the least recently published topic's oldest events past maxTotalBytes, and says so", () => {
    // Each event costs its 1,000 bytes plus bookkeeping; three fit, a fourth does not.
    const history = new MemoryHistory({ maxTotalBytes: 3 * 1000 + 3 * 384 + 2 * 1025 + 100 });
    history.append(entry(1, "a", 1000));
    history.append(entry(2, "a", 1000));
    history.append(entry(3, "b", 1000));
    history.append(entry(4, "a", 1000)); // "b" is now published least recently…
    assert.deepEqual(ids(history.since(["a", "b"], "0").entries), [1, 2, 4]); // …and its only event went
    assert.equal(history.since(["b"], "2").complete, false);
    assert.equal(history.since(["a"], "0").complete, true);
    history.append(entry(5, "a", 1000)); // only "a" left: its oldest goes
    assert.deepEqual(ids(history.since(["a"], "0").entries), [2, 4, 5]);
    assert.equal(history.since(["a"], "0").complete, false);
    assert.equal(history.since(["a"], "1").complete, true);
  });

  it("MemoryHistory vouches for a kept topic after forgetting another, and not for a forgotten one that returns", () => {
    const history = new MemoryHistory({ maxTopics: 2 });
    history.append(entry(1, "a"));
    history.append(entry(2, "b"));
    history.append(entry(3, "a"));
    history.append(entry(4, "c")); // forgets "b", whose newest event was 2
    // "a" lost nothing: a client of "a" at id 1 is replayed exactly, with no needless reset.
    assert.deepEqual(ids(history.since(["a"], "1").entries), [3]);
    assert.equal(history.since(["a"], "1").complete, true);
    assert.equal(history.since(["a", "b"], "1").complete, false);
    history.append(entry(5, "b")); // "b" returns (forgetting "a"): its event 2 is still lost
    assert.deepEqual(ids(history.since(["b"], "1").entries), [5]);
    assert.equal(history.since(["b"], "1").complete, false);
    assert.equal(history.since(["b"], "2").complete, true);
  });

  it("MemoryHistory keeps the newest event even when it alone passes maxTotalBytes", () => {
    const history = new MemoryHistory({ maxTotalBytes: 2048 });
    history.append(entry(1, "a", 10));
    history.append(entry(2, "b", 10_000));
    assert.deepEqual(ids(history.since(["a", "b"], "0").entries), [2]);
    assert.equal(history.since(["b"], "1").complete, true);
    assert.ok(history.retainedBytes > 2048);
    history.append(entry(3, "b", 10));
    assert.deepEqual(ids(history.since(["b"], "0").entries), [3]);
    assert.ok(history.retainedBytes <= 2048);
  });

  it("MemoryHistory keeps the event type and whether the payload was serialized, not the payload", () => {
    const history = new MemoryHistory();
    const data = { big: "object" };
    history.append({ id: "1", topic: "t", bytes: new Uint8Array(3), message: { event: "e", data } });
    history.append({
      id: "2",
      topic: "t",
      bytes: new Uint8Array(3),
      message: { event: undefined, data: "text" },
    });
    history.append({ id: "3", topic: "t", bytes: new Uint8Array(3), event: "x", json: true });
    const [first, second, third] = history.since(["t"], "0").entries;
    assert.equal(first!.message, undefined);
    assert.deepEqual([first!.event, first!.json], ["e", true]);
    assert.deepEqual([second!.event, second!.json], [undefined, false]);
    assert.deepEqual([third!.event, third!.json], ["x", true]);
  });

  it("MemoryHistory throws RangeError for a maxTotalBytes that is not a positive integer", () => {
    for (const bad of [0, -1, 1.5, Infinity, NaN]) {
      assert.throws(() => new MemoryHistory({ maxTotalBytes: bad }), RangeError, String(bad));
    }
  });

  it("Hub.response replays to a filtered subscriber payloads rebuilt from MemoryHistory's bytes", async () => {
    // A custom serializer that turns objects into two lines: replay must rebuild what was
    // published from the data lines and the hub's `deserialize`.
    const hub = new Hub<string | { n: number; text: string }>({
      serialize: (value) => `${(value as { n: number }).n}\n${(value as { text: string }).text}`,
      deserialize: (text) => ({ n: Number(text.split("\n")[0]), text: text.split("\n")[1] }),
    });
    const seen: unknown[] = [];
    const server = serve((request) =>
      hub.response(request, {
        topics: "t",
        filter: (message) => {
          seen.push([message.event, message.data]);
          return typeof message.data === "string" ? message.data.includes("keep") : message.data.n % 2 === 0;
        },
      })
    );
    try {
      const first = hub.publish("t", { n: 1, text: "odd" }).id;
      hub.publish("t", { n: 2, text: "even" }, { event: "number" });
      hub.publish("t", "keep\nthis");
      hub.publish("t", "drop");
      const client = await SseClient.connect(server.url, {
        headers: { "last-event-id": String(BigInt(first) - 1n) },
      });
      const events = await client.take(2);
      assert.deepEqual(events.map((e) => [e.event, e.data]), [["number", "2\neven"], [
        "message",
        "keep\nthis",
      ]]);
      assert.deepEqual(seen, [
        [undefined, { n: 1, text: "odd" }],
        ["number", { n: 2, text: "even" }],
        [undefined, "keep\nthis"],
        [undefined, "drop"],
      ]);
      await client.close();
    } finally {
      hub.close();
      await server.close();
    }
  });

  it("Hub.response fails only the resuming filtered client whose replayed payload cannot be deserialized", async () => {
    // A `deserialize` that refuses what it is given: the payload of a replayed event cannot be
    // rebuilt, which must close that one subscriber (as a throwing filter does), not reject.
    const hub = new Hub<{ n: number }>({
      keepAlive: false,
      deserialize: (text) => {
        if (text.includes("13")) throw new SyntaxError("unlucky");
        return JSON.parse(text);
      },
    });
    const server = serve((request) => hub.response(request, { topics: "t", filter: () => true }));
    try {
      const before = hub.publish("t", { n: 1 }).id;
      hub.publish("t", { n: 13 });
      const failed = await fetch(server.url, { headers: { "last-event-id": before } })
        .then((response) =>
          response.status === 200 ? response.text().then(() => "ended", () => "errored") : "refused"
        )
        .catch(() => "errored"); // Bun resets a connection whose stream fails before the head
      assert.notEqual(failed, "refused");
      assert.equal(hub.size, 0);
      const fresh = await SseClient.connect(server.url);
      await until(() => hub.size === 1, "a fresh subscriber");
      hub.publish("t", { n: 2 });
      assert.equal((await fresh.next()).data, '{"n":2}');
      await fresh.close();
    } finally {
      hub.close();
      await server.close();
    }
  });
});
