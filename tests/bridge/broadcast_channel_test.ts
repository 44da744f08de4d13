// BroadcastChannelBridge between hubs in one thread and across real Workers (each with its own
// hub and HTTP server), on Deno and on Bun.
import { after, before, describe, it } from "../helpers/timed.ts";
import assert from "node:assert/strict";
import { BroadcastChannelBridge, Hub } from "../../mod.ts";
import type { HubMessage } from "../../mod.ts";
import { SseClient } from "../helpers/client.ts";
import { until, withDeadline } from "../helpers/server.ts";

let channels = 0;
const ID = /^\d+-[0-9a-z]+$/;

function order(a: string, b: string): number {
  const [clockA, nodeA] = a.split("-") as [string, string];
  const [clockB, nodeB] = b.split("-") as [string, string];
  return Number(clockA) - Number(clockB) || (nodeA < nodeB ? -1 : nodeA > nodeB ? 1 : 0);
}

function collect(hub: Hub<unknown>, topics: string[]): HubMessage<unknown>[] {
  const received: HubMessage<unknown>[] = [];
  const reader = hub.subscribe(topics).getReader();
  void (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      received.push(value);
    }
  })();
  return received;
}

describe("BroadcastChannelBridge in one thread", () => {
  // Deno 2.9: closing a thread's last BroadcastChannel and opening a new one at once races with
  // the old receive loop, which then leaves `postMessage` throwing "expected i32". One channel
  // kept open for the whole file means the count never drops to zero between tests.
  let keeper: BroadcastChannel;
  before(() => void (keeper = new BroadcastChannel("keeper")));
  after(() => keeper.close());

  it("BroadcastChannelBridge delivers each publish to every hub on the channel exactly once", async () => {
    const name = `bc${++channels}`;
    const hubs = [0, 1, 2].map(() => new Hub<unknown>({ bridge: new BroadcastChannelBridge({ name }) }));
    const other = new Hub<unknown>({ bridge: new BroadcastChannelBridge({ name: `${name}-other` }) });
    try {
      const received = hubs.map((hub) => collect(hub, ["t"]));
      const elsewhere = collect(other, ["t"]);
      const results: { id: string; delivered: number }[] = [];
      for (let i = 0; i < 5; i++) results.push(await hubs[0]!.publishAsync("t", { i }, { event: "n" }));
      await until(() => received.every((list) => list.length === 5), "5 events on every hub");
      for (const result of results) {
        assert.match(result.id, ID);
        assert.equal(result.delivered, 1, "delivered locally at once (a channel does not echo)");
      }
      for (const list of received) {
        assert.deepEqual(list.map((m) => m.id), results.map((r) => r.id));
        assert.deepEqual(list.map((m) => m.data), [0, 1, 2, 3, 4].map((i) => ({ i })));
        assert.deepEqual(list.map((m) => m.event), Array(5).fill("n"));
      }
      assert.equal(elsewhere.length, 0, "another channel name is another bus");
      assert.ok(
        results.every((r, i) => i === 0 || order(results[i - 1]!.id, r.id) < 0),
        "one publisher's ids increase",
      );
    } finally {
      for (const hub of [...hubs, other]) hub.close();
    }
  });

  it("BroadcastChannelBridge gives a later publish a larger id than every event its instance has seen", async () => {
    const name = `bc${++channels}`;
    const a = new Hub<unknown>({ bridge: new BroadcastChannelBridge({ name }) });
    const b = new Hub<unknown>({ bridge: new BroadcastChannelBridge({ name }) });
    try {
      const seenByB = collect(b, ["t"]);
      // Push a's clock far ahead, then let b answer: b's id must still be larger.
      let last = await a.publishAsync("t", "a0");
      for (let i = 1; i < 50; i++) last = await a.publishAsync("t", `a${i}`);
      await until(() => seenByB.length === 50, "b to see a's events");
      const reply = await b.publishAsync("t", "b0");
      assert.ok(order(reply.id, last.id) > 0, `${reply.id} after ${last.id}`);
    } finally {
      a.close();
      b.close();
    }
  });

  it("BroadcastChannelBridge history replays the asked topics after an id in id order, complete only for a known id", async () => {
    const name = `bc${++channels}`;
    const a = new Hub<unknown>({ bridge: new BroadcastChannelBridge({ name, maxEvents: 4 }) });
    const bridgeB = new BroadcastChannelBridge({ name, maxEvents: 4 });
    const b = new Hub<unknown>({ bridge: bridgeB });
    try {
      const seen = collect(b, ["x", "y"]);
      const sent = [];
      for (const topic of ["x", "y", "x", "z"]) sent.push(await a.publishAsync(topic, topic));
      await until(() => seen.length === 3, "b to see x and y");
      const replay = await bridgeB.history.since(["x"], sent[0]!.id);
      assert.equal(replay.complete, true);
      assert.equal(replay.latestId, sent[3]!.id);
      assert.deepEqual(replay.entries.map((e) => e.id), [sent[2]!.id]);
      assert.equal(new TextDecoder().decode(replay.entries[0]!.bytes), `id: ${sent[2]!.id}\ndata: x\n\n`);
      for (const bad of ["", "12", "1-UPPER", `${Number.MAX_SAFE_INTEGER}0-a`]) {
        assert.equal((await bridgeB.history.since(["x"], bad)).complete, false, JSON.stringify(bad));
      }
      assert.equal(
        (await bridgeB.history.since(["x"], `${Date.now() + 60_000}-zz`)).complete,
        false,
        "future id",
      );
      sent.push(await a.publishAsync("x", "x2")); // a fifth event evicts the first
      await until(() => seen.length === 4, "b to see the fifth");
      const evicted = await bridgeB.history.since(["x"], sent[0]!.id);
      assert.equal(evicted.complete, false);
      assert.deepEqual(evicted.entries.map((e) => e.id), [sent[2]!.id, sent[4]!.id]);
    } finally {
      a.close();
      b.close();
    }
  });

  it("BroadcastChannelBridge encodes and parses nothing per live event: the hub encodes it once", async () => {
    const name = `bc${++channels}`;
    let parsedByBridges = 0;
    const deserialize = (text: string) => (parsedByBridges++, JSON.parse(text));
    const a = new Hub<unknown>({ bridge: new BroadcastChannelBridge({ name, deserialize }) });
    const bridgeB = new BroadcastChannelBridge({ name, deserialize });
    const b = new Hub<unknown>({ bridge: bridgeB });
    // Counts what is turned into bytes while events go live (a look, not a stand-in: it calls through).
    const encode = TextEncoder.prototype.encode;
    let encoded = 0;
    TextEncoder.prototype.encode = function (this: TextEncoder, input?: string) {
      encoded++;
      return encode.call(this, input);
    };
    try {
      const seen = collect(b, ["t"]);
      const first = await a.publishAsync("t", { n: 0 });
      await until(() => seen.length === 1, "the first event on b");
      encoded = 0;
      for (let i = 1; i <= 20; i++) await a.publishAsync("t", { n: i });
      await until(() => seen.length === 21, "20 more events on b");
      TextEncoder.prototype.encode = encode;
      assert.ok(encoded <= 40, `${encoded} encodings for 20 events on 2 hubs: one each at most`);
      assert.equal(parsedByBridges, 0, "the hub parses the payload for its subscribers; the bridge does not");
      // A replay encodes (and parses, for filters) what it sends, the same bytes as live.
      const replay = await bridgeB.history.since(["t"], first.id);
      assert.equal(replay.complete, true);
      assert.equal(replay.entries.length, 20);
      assert.equal(
        new TextDecoder().decode(replay.entries[0]!.bytes),
        `id: ${seen[1]!.id}\ndata: {"n":1}\n\n`,
      );
      assert.deepEqual(replay.entries[0]!.message, { event: undefined, data: { n: 1 } });
    } finally {
      TextEncoder.prototype.encode = encode;
      a.close();
      b.close();
    }
  });
});

// A worker with its own hub and server, driven by postMessage commands.
class TestWorker {
  readonly #worker = new Worker(new URL("./broadcast_channel_worker.ts", import.meta.url), {
    type: "module",
  });
  readonly #calls = new Map<number, { resolve: (value: any) => void; reject: (error: Error) => void }>();
  #next = 0;

  constructor() {
    this.#worker.onmessage = (event: MessageEvent) => {
      const { call, result, error } = event.data as { call: number; result?: unknown; error?: string };
      const pending = this.#calls.get(call);
      this.#calls.delete(call);
      if (error !== undefined) pending?.reject(new Error(error));
      else pending?.resolve(result);
    };
  }

  call<R = any>(command: Record<string, unknown>): Promise<R> {
    const call = ++this.#next;
    const done = new Promise<R>((resolve, reject) => this.#calls.set(call, { resolve, reject }));
    this.#worker.postMessage({ ...command, call });
    return withDeadline(done, 15_000, `worker ${String(command.op)}`);
  }

  async close(): Promise<void> {
    await this.call({ op: "close" }).catch(() => {});
    this.#worker.terminate();
  }
}

type Seen = { id: string; topic: string; data: unknown };

describe("BroadcastChannelBridge across Workers", () => {
  const name = `workers-${Math.random().toString(36).slice(2)}`;
  let workers: TestWorker[] = [];
  let urls: string[] = [];
  let main: Hub<unknown>;
  let mainSeen: HubMessage<unknown>[];

  before(async () => {
    workers = [new TestWorker(), new TestWorker()];
    urls = await Promise.all(workers.map((w) => w.call<string>({ op: "start", name, topics: ["t"] })));
    main = new Hub<unknown>({ bridge: new BroadcastChannelBridge({ name }) });
    mainSeen = collect(main, ["t"]);
  });
  after(async () => {
    main.close();
    for (const worker of workers) await worker.close();
  });

  const everywhere = async (count: number): Promise<Seen[][]> => {
    let lists: Seen[][] = [];
    await until(() => mainSeen.length >= count, `${count} events in the main thread`);
    const start = Date.now();
    for (;;) {
      lists = [
        mainSeen.map(({ id, topic, data }) => ({ id, topic, data })),
        ...await Promise.all(workers.map((w) => w.call<Seen[]>({ op: "received" }))),
      ];
      if (lists.every((list) => list.length >= count)) return lists;
      if (Date.now() - start > 10_000) {
        assert.fail(`not every instance got ${count} events: ${lists.map((l) => l.length)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };

  it("BroadcastChannelBridge delivers a worker's publishes to every worker and the main thread exactly once, in order", async () => {
    const results = [];
    for (let i = 0; i < 10; i++) {
      results.push(await workers[0]!.call<{ id: string }>({ op: "publish", topic: "t", data: `w0-${i}` }));
    }
    const lists = await everywhere(10);
    for (const list of lists) {
      assert.deepEqual(list.map((m) => m.id), results.map((r) => r.id));
      assert.deepEqual(list.map((m) => m.data), results.map((_, i) => `w0-${i}`));
    }
  });

  it("BroadcastChannelBridge keeps each publisher's order and a unique id per event when workers publish at once", async () => {
    const before = mainSeen.length;
    const sent = await Promise.all([
      ...Array.from(
        { length: 20 },
        (_, i) => workers[0]!.call<{ id: string }>({ op: "publish", topic: "t", data: `a${i}` }),
      ),
      ...Array.from(
        { length: 20 },
        (_, i) => workers[1]!.call<{ id: string }>({ op: "publish", topic: "t", data: `b${i}` }),
      ),
      ...Array.from({ length: 20 }, (_, i) => main.publishAsync("t", `m${i}`)),
    ]);
    assert.equal(new Set(sent.map((r) => r.id)).size, 60, "ids are unique");
    const lists = (await everywhere(before + 60)).map((list) => list.slice(before));
    for (const list of lists) {
      assert.equal(list.length, 60);
      assert.equal(new Set(list.map((m) => m.id)).size, 60, "each event exactly once");
      for (const prefix of ["a", "b", "m"]) {
        const mine = list.filter((m) => String(m.data).startsWith(prefix)).map((m) => m.data);
        assert.deepEqual(mine, Array.from({ length: 20 }, (_, i) => `${prefix}${i}`), `${prefix}'s order`);
      }
    }
    // A publish made after seeing everything gets an id above all of them.
    const total = before + 60;
    const later = await workers[1]!.call<{ id: string }>({
      op: "publishAfterSeeing",
      topic: "t",
      data: "later",
      count: total,
    });
    assert.ok(sent.every((r) => order(r.id, later.id) < 0));
    await everywhere(total + 1);
  });

  it("BroadcastChannelBridge lets a client resume on another worker with its Last-Event-ID", async () => {
    const first = await SseClient.connect(`${urls[0]}/`);
    let seen: { id: string };
    try {
      seen = await workers[0]!.call<{ id: string }>({ op: "publish", topic: "t", data: "seen" });
      assert.equal((await first.next()).id, seen.id);
    } finally {
      await first.close();
    }
    const missed = [];
    for (let i = 0; i < 3; i++) {
      missed.push(await workers[0]!.call<{ id: string }>({ op: "publish", topic: "t", data: `missed ${i}` }));
    }
    await everywhere(mainSeen.length); // worker 1 has them too
    const resumed = await SseClient.connect(`${urls[1]}/`, { headers: { "last-event-id": seen.id } });
    try {
      const events = await resumed.take(3);
      assert.deepEqual(events.map((e) => e.id), missed.map((m) => m.id));
      assert.deepEqual(events.map((e) => e.data), ["missed 0", "missed 1", "missed 2"]);
      assert.ok(!resumed.text.includes("sse-hub:reset"), "a complete replay sends no reset");
    } finally {
      await resumed.close();
    }
  });
});
