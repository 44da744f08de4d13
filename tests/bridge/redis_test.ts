// RedisBridge and RedisHistory against a real redis-server, with each client library the
// running runtime supports: node-redis on Deno and Bun, Bun's built-in RedisClient on Bun.
import { after, before, describe, it } from "../helpers/timed.ts";
import assert from "node:assert/strict";
import { HubError, RedisHistory } from "../../mod.ts";
import type { HubMessage } from "../../mod.ts";
import { clientKinds, startRedis, tcpProxy } from "../helpers/redis.ts";
import type { TestRedis } from "../helpers/redis.ts";
import { delay, until, withDeadline } from "../helpers/server.ts";
import { ids, instance, ready, seenBy } from "./redis_instance.ts";
import type { Instance, InstanceOptions } from "./redis_instance.ts";

const STREAM_ID = /^\d+-\d+$/;
let keys = 0;

const datas = (messages: readonly HubMessage<unknown>[]) => messages.map((m) => m.data);

function assertIncreasing(list: readonly string[]): void {
  for (let i = 1; i < list.length; i++) {
    const [a, b] = [list[i - 1]!.split("-").map(BigInt), list[i]!.split("-").map(BigInt)];
    assert.ok(
      a[0]! < b[0]! || (a[0] === b[0] && a[1]! < b[1]!),
      `${list[i - 1]} then ${list[i]}: not increasing`,
    );
  }
}

for (const kind of clientKinds) {
  describe(`RedisBridge with ${kind.name}`, () => {
    let redis: TestRedis;
    const open: Instance[] = [];
    const make = async (options: InstanceOptions = {}) => {
      const made = await instance(kind, redis.url, options);
      open.push(made);
      return made;
    };

    before(async () => {
      redis = await startRedis();
    });
    after(async () => {
      for (const made of open) await made.close();
      await redis.stop();
    });

    it("RedisBridge delivers each publish to every bridged hub exactly once, with the stream id", async () => {
      const key = `k${++keys}`;
      const a = await make({ key });
      const b = await make({ key });
      await ready(a, b);
      const results = [];
      for (let i = 0; i < 6; i++) {
        const from = i % 2 === 0 ? a : b;
        results.push(
          await from.hub.publishAsync("a", i % 3 === 0 ? { n: i } : `text ${i}\nline 2`, { event: "e" }),
        );
      }
      await until(() => a.received.length === 6 && b.received.length === 6, "6 events on both hubs");
      for (const result of results) {
        assert.match(result.id, STREAM_ID);
        assert.equal(result.delivered, 1); // the publisher's own subscriber, counted when its echo came back
      }
      assert.deepEqual(ids(a.received), results.map((r) => r.id));
      assert.deepEqual(ids(b.received), results.map((r) => r.id));
      assertIncreasing(ids(a.received));
      assert.deepEqual(datas(b.received), [
        { n: 0 },
        "text 1\nline 2",
        "text 2\nline 2",
        { n: 3 },
        "text 4\nline 2",
        "text 5\nline 2",
      ]);
      assert.deepEqual(b.received.map((m) => m.event), Array(6).fill("e"));
      assert.throws(
        () => a.hub.publish("a", "sync"),
        (error) => error instanceof HubError && error.type === "bridged",
      );
      assert.deepEqual(a.events, []);
    });

    it("RedisBridge gives every hub the same order when publishes race", async () => {
      const key = `k${++keys}`;
      const a = await make({ key });
      const b = await make({ key });
      await ready(a, b);
      const sent = await Promise.all(
        Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? a : b).hub.publishAsync("a", `m${i}`)),
      );
      await until(() => a.received.length === 60 && b.received.length === 60, "60 events on both hubs");
      assert.deepEqual(ids(a.received), ids(b.received));
      assert.deepEqual(datas(a.received), datas(b.received));
      assertIncreasing(ids(a.received));
      assert.deepEqual(new Set(datas(a.received)), new Set(sent.map((_, i) => `m${i}`)));
    });

    it("RedisHistory.since replays the asked topics after an id, oldest first, with the live bytes", async () => {
      const key = `k${++keys}`;
      const a = await make({ key });
      await ready(a);
      const published = [];
      for (
        const [topic, data] of [["a", "1"], ["b", "2"], ["c", { x: 3 }], ["a", "4\n5"], ["b", "6"]] as const
      ) {
        published.push(await a.hub.publishAsync(topic, data, topic === "c" ? { event: "json" } : undefined));
      }
      const replay = await a.bridge.history.since(["a", "c"], published[0]!.id);
      assert.equal(replay.complete, true);
      assert.equal(replay.latestId, published[4]!.id);
      assert.deepEqual(replay.entries.map((e) => [e.id, e.topic]), [[published[2]!.id, "c"], [
        published[3]!.id,
        "a",
      ]]);
      const text = replay.entries.map((e) => new TextDecoder().decode(e.bytes));
      assert.deepEqual(text, [
        `event: json\nid: ${published[2]!.id}\ndata: {"x":3}\n\n`,
        `id: ${published[3]!.id}\ndata: 4\ndata: 5\n\n`,
      ]);
      assert.deepEqual(replay.entries[0]!.message, { event: "json", data: { x: 3 } });
      const upToDate = await a.bridge.history.since(["a"], published[4]!.id);
      assert.deepEqual(upToDate, { entries: [], complete: true, latestId: published[4]!.id });
    });

    it("RedisHistory.since says complete: false for a malformed, unknown or future id", async () => {
      const key = `k${++keys}`;
      const a = await make({ key });
      const empty = await a.bridge.history.since(["a"], "1-0");
      assert.deepEqual(empty, { entries: [], complete: false }); // nothing stored yet
      await ready(a);
      const { id } = await a.hub.publishAsync("a", "x");
      const [ms] = id.split("-").map(BigInt) as [bigint, bigint];
      for (
        const bad of ["", "42", "1-2-3", "abc-1", `${"9".repeat(30)}-0`, "18446744073709551616-0", "1-0\n"]
      ) {
        assert.deepEqual(await a.bridge.history.since(["a"], bad), {
          entries: [],
          complete: false,
          latestId: id,
        });
      }
      assert.deepEqual(await a.bridge.history.since(["a"], `${ms + 1n}-0`), {
        entries: [],
        complete: false,
        latestId: id,
      });
      await delay(3);
      const next = await a.hub.publishAsync("a", "y");
      // Between two entries but never one itself, or older than the stream: nothing is walked
      // for an id the stream cannot vouch for, the client is reset to the newest id.
      for (const unknown of [`${ms}-999`, "1-0"]) {
        assert.deepEqual(await a.bridge.history.since(["a"], unknown), {
          entries: [],
          complete: false,
          latestId: next.id,
        });
      }
    });

    it("RedisHistory.since says complete: false without walking when the id was trimmed", async () => {
      const key = `k${++keys}`;
      const a = await make({ key, maxLen: 10 });
      await ready(a);
      const first = await a.hub.publishAsync("a", "0");
      let last = first;
      for (let i = 1; i < 300; i++) last = await a.hub.publishAsync("a", String(i));
      const length = Number(await a.pair.command("XLEN", key));
      assert.ok(length < 300, `the stream was trimmed (length ${length})`);
      assert.deepEqual(await a.bridge.history.since(["a"], first.id), {
        entries: [],
        complete: false,
        latestId: last.id,
      });
    });

    it("RedisHistory.since sends the newest maxReplay events, complete: false, when more were missed", async () => {
      const key = `k${++keys}`;
      const a = await make({ key, maxReplay: 25 });
      await ready(a);
      const sent = [];
      for (let i = 0; i < 240; i++) sent.push(await a.hub.publishAsync(i % 2 ? "a" : "b", String(i)));
      const many = await a.bridge.history.since(["a"], sent[0]!.id); // 120 "a" events after it
      assert.equal(many.complete, false);
      assert.deepEqual(ids(many.entries), sent.filter((_, i) => i % 2).slice(-25).map((r) => r.id));
      const recent = await a.bridge.history.since(["a"], many.entries[0]!.id);
      assert.equal(recent.complete, true);
      assert.equal(recent.entries.length, 24);
    });

    it("RedisHistory.since stops at maxReplayBytes: the newest events that fit, complete: false", async () => {
      const key = `k${++keys}`;
      const a = await make({ key, maxReplayBytes: 1000 });
      await ready(a);
      const from = await a.hub.publishAsync("a", "start");
      const sent = [];
      for (let i = 0; i < 10; i++) sent.push(await a.hub.publishAsync("a", String(i).repeat(300)));
      const replay = await a.bridge.history.since(["a"], from.id);
      const bytes = replay.entries.reduce((n, e) => n + e.bytes.byteLength, 0);
      assert.equal(replay.complete, false);
      assert.ok(bytes <= 1000, `${bytes} bytes replayed`);
      assert.deepEqual(ids(replay.entries), sent.slice(-3).map((r) => r.id)); // ~330 bytes each
      const fits = await a.bridge.history.since(["a"], sent[7]!.id);
      assert.equal(fits.complete, true);
      assert.equal(fits.entries.length, 2);
    });

    it("RedisHistory refuses a budget that is not a positive integer", async () => {
      const key = `k${++keys}`;
      const a = await make({ key });
      for (const bad of [0, -1, 1.5, Infinity, NaN]) {
        assert.throws(() => new RedisHistory({ client: a.pair.client, maxReplayBytes: bad }), RangeError);
        assert.throws(() => new RedisHistory({ client: a.pair.client, maxReplay: bad }), RangeError);
      }
    });

    it("RedisHistory.append throws TypeError: the bridge writes the stream", async () => {
      const key = `k${++keys}`;
      const a = await make({ key });
      assert.throws(
        () => a.bridge.history.append({ id: "1-0", topic: "a", bytes: new Uint8Array() }),
        TypeError,
      );
    });

    it("RedisBridge replays to an SSE response on another hub from its Last-Event-ID", async () => {
      const key = `k${++keys}`;
      const a = await make({ key });
      const b = await make({ key });
      await ready(a, b);
      const seen = await a.hub.publishAsync("a", "seen");
      const missed = [
        await a.hub.publishAsync("a", "m1"),
        await a.hub.publishAsync("b", "other"),
        await a.hub.publishAsync("a", "m2"),
      ];
      const response = await b.hub.response(
        new Request("http://x/", { headers: { "last-event-id": seen.id } }),
        { topics: "a" },
      );
      const reader = response.body!.getReader();
      let text = "";
      while (!text.includes("data: m2\n\n")) {
        const { value } = await withDeadline(reader.read(), 10_000, "the replay");
        text += new TextDecoder().decode(value);
      }
      await reader.cancel();
      assert.equal(text, `:\n\nid: ${missed[0]!.id}\ndata: m1\n\nid: ${missed[2]!.id}\ndata: m2\n\n`);
    });

    it("RedisBridge catches up from the stream, exactly once and in order, after its subscriber connection drops", async () => {
      const key = `k${++keys}`;
      const proxy = await tcpProxy(redis.port);
      try {
        const a = await make({ key });
        const b = await make({ key, subscriberUrl: proxy.url });
        await ready(a, b);
        const before = await a.hub.publishAsync("a", "before");
        await until(() => b.received.length === 1, "the first event on b");
        proxy.cut(); // b's subscriber is cut off; Redis and b's command connection stay up
        const during = [];
        for (let i = 0; i < 5; i++) during.push(await a.hub.publishAsync("a", `during ${i}`));
        assert.equal(b.received.length, 1, "b cannot have received anything while cut off");
        proxy.restore();
        await until(() => b.received.length === 6, "b to catch up");
        const afterward = await a.hub.publishAsync("a", "after");
        await until(() => b.received.length === 7, "b live again");
        assert.deepEqual(ids(b.received), [before.id, ...during.map((r) => r.id), afterward.id]);
        assert.deepEqual(ids(b.received), ids(a.received));
        const gaps = b.events.filter((e) => e.type === "gap");
        assert.equal(gaps.length, 1);
        assert.equal(gaps[0]!.type === "gap" && gaps[0]!.from, before.id);
        assert.equal(b.hub.stats().bridgeGaps, 1);
        assert.equal(a.hub.stats().bridgeGaps, 0);
      } finally {
        for (const made of open) await made.close(); // before the proxy goes: b unsubscribes through it
        await proxy.close();
      }
    });

    it("RedisBridge has the hub reset its clients when the events it missed were trimmed", async () => {
      const key = `k${++keys}`;
      const proxy = await tcpProxy(redis.port);
      try {
        const a = await make({ key, maxLen: 5 });
        const b = await make({ key, maxLen: 5, subscriberUrl: proxy.url });
        await ready(a, b);
        const client = await b.sse();
        const before = await a.hub.publishAsync("a", "before");
        await until(() => b.received.length === 1, "the first event on b");
        proxy.cut();
        let last = before;
        for (let i = 0; i < 250; i++) last = await a.hub.publishAsync("a", `during ${i}`);
        proxy.restore();
        await until(() => b.received.at(-1)?.id === last.id, "b to deliver what the stream still has");
        assertIncreasing(ids(b.received));
        assert.ok(b.received.length < 251, "trimmed events cannot come back");
        const gaps = b.events.filter((e) => e.type === "gap");
        assert.equal(gaps.length, 2);
        assert.deepEqual(gaps[1], {
          type: "gap",
          from: before.id,
          reason: "events after it are no longer in the Redis stream (trimmed, or Redis lost its data)",
          recovered: false,
        });
        await until(() => seenBy(client).ids.at(-1) === last.id, "the client to get what the stream has");
        const seen = seenBy(client);
        assert.deepEqual(seen.resets, ["bus-gap"], "the client is told it missed events");
        assert.deepEqual(seen.ids, ids(b.received));
      } finally {
        for (const made of open) await made.close(); // before the proxy goes: b unsubscribes through it
        await proxy.close();
      }
    });

    it("RedisBridge rejects publishes while Redis is down, then reconnects and catches up by itself", async () => {
      const key = `k${++keys}`;
      const a = await make({ key });
      const b = await make({ key });
      await ready(a, b);
      const first = await a.hub.publishAsync("a", "first");
      await until(() => b.received.length === 1, "the first event on b");
      await redis.kill();
      await assert.rejects(a.hub.publishAsync("a", "lost"), (error: Error) => /Redis/.test(error.message));
      assert.equal(a.hub.size, 1, "local subscribers stay subscribed");
      await redis.restart();
      let next;
      for (const start = Date.now(); !next; await delay(20)) {
        next = await a.hub.publishAsync("a", "next").catch(() => undefined);
        if (Date.now() - start > 20_000) assert.fail("publishing never worked again");
      }
      await until(() => a.received.length === 2 && b.received.length === 2, "the next event on both hubs");
      assert.deepEqual(ids(b.received), [first.id, next.id]);
      assert.deepEqual(ids(a.received), [first.id, next.id]);
      assert.ok(a.hub.stats().bridgeGaps >= 1 && b.hub.stats().bridgeGaps >= 1, "both reported the outage");
      const replay = await b.bridge.history.since(["a"], first.id); // the AOF kept the stream
      assert.equal(replay.complete, true);
      assert.deepEqual(replay.entries.map((e) => e.id), [next.id]);
    });

    it("RedisBridge.close unsubscribes and leaves the clients open", async () => {
      const key = `k${++keys}`;
      const a = await make({ key });
      const b = await make({ key });
      await ready(a, b);
      b.hub.close();
      await b.bridge.close();
      assert.equal(await b.bridge.close().then(() => "again"), "again");
      assert.equal(await b.pair.command("PING"), "PONG");
      const numsub = await a.pair.command("PUBSUB", "NUMSUB", key) as unknown[];
      assert.equal(Number(numsub[1]), 1, "only a is subscribed");
      await assert.rejects(b.bridge.publish({ topic: "a", data: "x", json: false, origin: "o:1" }), /closed/);
    });
  });
}
