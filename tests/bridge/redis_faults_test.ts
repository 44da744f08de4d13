// Fault injection over a real redis-server: the pub/sub connections of two bridged hubs are
// killed again and again (`CLIENT KILL TYPE pubsub`) while one hub publishes ~1,000 events/s.
// Every subscriber on both hubs must get every acknowledged event once, in order, without a
// reset (the stream still holds everything, so every gap is recoverable). With each client
// library the runtime has: node-redis on Deno and Bun, Bun's RedisClient on Bun.
import { after, before, describe, it } from "../helpers/timed.ts";
import assert from "node:assert/strict";
import { clientKinds, startRedis, tcpProxy } from "../helpers/redis.ts";
import type { TcpProxy, TestRedis } from "../helpers/redis.ts";
import { delay, until, withDeadline } from "../helpers/server.ts";
import { ids, instance, ready, seenBy } from "./redis_instance.ts";
import type { Instance } from "./redis_instance.ts";
import { compareStreamIds, tally } from "./tally.ts";
import type { Tally } from "./tally.ts";

const RUN_MS = 3000;
const KILL_EVERY_MS = 150;
const EVENTS_PER_MS = 1; // ~1,000 events/s, kept up with on every tick of a 1 ms timer
const MAX_IN_FLIGHT = 500;

for (const kind of clientKinds) {
  describe(`RedisBridge with ${kind.name} under pub/sub connection kills`, () => {
    let redis: TestRedis;
    const open: Instance[] = [];

    before(async () => {
      redis = await startRedis({ persistence: false });
    });
    after(async () => {
      for (const made of open) await made.close();
      await redis.stop();
    });

    it("RedisBridge loses, repeats and reorders nothing when its pub/sub connection is killed repeatedly at ~1,000 events/s", async () => {
      const a = await instance(kind, redis.url, { key: "faults" });
      const b = await instance(kind, redis.url, { key: "faults" });
      open.push(a, b);
      await ready(a, b);
      // Real SSE clients (a reset event reaches byte streams), two on each hub.
      const subscribers = [
        { name: "a#1", client: await a.sse() },
        { name: "a#2", client: await a.sse() },
        { name: "b#1", client: await b.sse() },
        { name: "b#2", client: await b.sse() },
      ];
      const published: string[] = [];
      const inFlight = new Set<Promise<unknown>>();
      let rejected = 0;
      let kills = 0;
      const start = Date.now();
      let nextKill = start + KILL_EVERY_MS;
      let n = 0;
      const publisher = setInterval(() => {
        const due = (Date.now() - start) * EVENTS_PER_MS;
        while (n < due && inFlight.size < MAX_IN_FLIGHT) {
          const sent = a.hub.publishAsync("a", `e${n++}`).then(
            (result) => void published.push(result.id),
            () => void rejected++,
          );
          inFlight.add(sent);
          void sent.finally(() => inFlight.delete(sent));
        }
      }, 1);
      while (Date.now() - start < RUN_MS) {
        await delay(Math.max(0, nextKill - Date.now()));
        nextKill += KILL_EVERY_MS;
        // On the publishing connection, between its publishes: Redis runs the next ones after the
        // kill, before the subscribers are back, so every kill makes both hubs miss events.
        kills += Number(await a.pair.command("CLIENT", "KILL", "TYPE", "pubsub"));
      }
      clearInterval(publisher);
      await withDeadline(Promise.all(inFlight), 10_000, "the publishes to settle");
      const newest = published.reduce((x, y) => (compareStreamIds(x, y) < 0 ? y : x));
      // Settled: every subscriber has the newest acknowledged event (or stopped moving for 1 s).
      for (const { client } of subscribers) {
        let count = -1;
        for (let still = 0; still < 1000 && !seenBy(client).ids.includes(newest); still += 50) {
          if (client.buffered.length !== count) (count = client.buffered.length), (still = 0);
          await delay(50);
        }
      }
      const tallies: (Tally & { subscriber: string })[] = subscribers.map(({ name, client }) => {
        const seen = seenBy(client);
        return { subscriber: name, ...tally(published, seen.ids, compareStreamIds, seen.resets.length) };
      });
      console.log(
        `${kind.name}: ${n} publishes in ${RUN_MS} ms (${rejected} rejected), ${kills} pub/sub connections killed, ` +
          `gaps reported: a ${a.hub.stats().bridgeGaps}, b ${b.hub.stats().bridgeGaps}`,
      );
      console.table(tallies);
      assert.ok(kills >= 10, `the pub/sub connections were killed (${kills})`);
      assert.ok(published.length >= 1000, `enough events were published (${published.length})`);
      for (const t of tallies) {
        assert.deepEqual(
          { lost: t.lost, duplicated: t.duplicated, reordered: t.reordered, resets: t.resets },
          { lost: 0, duplicated: 0, reordered: 0, resets: 0 },
          `subscriber ${t.subscriber}`,
        );
      }
    });
  });
}

// The subscriber comes back but the command connection does not: the catch-up cannot read the
// stream while live events pile up. The bridge gives up on the gap after a few tries, the hub
// resets its clients, and they get live events again (not silence, not a growing backlog).
for (const kind of clientKinds) {
  describe(`RedisBridge with ${kind.name} when the stream cannot be read`, () => {
    let redis: TestRedis;
    let proxy: TcpProxy;
    const open: Instance[] = [];

    before(async () => {
      redis = await startRedis({ persistence: false });
      proxy = await tcpProxy(redis.port);
    });
    after(async () => {
      proxy.restore();
      for (const made of open) await made.close();
      await proxy.close();
      await redis.stop();
    });

    it("RedisBridge has the hub reset its clients and goes live when catching up fails for good", async () => {
      const a = await instance(kind, redis.url, { key: "unreadable" });
      // b's commands go through the proxy, its subscriber straight to Redis.
      const b = await instance(kind, proxy.url, { key: "unreadable", subscriberUrl: redis.url });
      open.push(a, b);
      await ready(a, b);
      const client = await b.sse();
      const first = await a.hub.publishAsync("a", "first");
      await until(() => seenBy(client).ids.length === 1, "the first event on b's client");
      proxy.cut();
      await redis.killPubSub(); // b's subscriber drops and comes back; its catch-up cannot read
      const published = [first.id];
      let publishing = true;
      const publisher = (async () => {
        while (publishing) {
          published.push((await a.hub.publishAsync("a", "live")).id);
          await delay(20);
        }
      })();
      try {
        await until(() => seenBy(client).resets.length > 0, "b's client to get a reset", 20_000);
        const mark = published.length;
        await until(() => seenBy(client).ids.includes(published[mark]!), "live events on b's client again");
      } finally {
        publishing = false;
        await publisher;
      }
      const seen = seenBy(client);
      assert.deepEqual(seen.resets, ["bus-gap"]);
      assert.equal(new Set(seen.ids).size, seen.ids.length, "nothing twice");
      assert.deepEqual(seen.ids, [...seen.ids].sort(compareStreamIds), "in order");
      assert.ok(seen.ids.every((id) => published.includes(id)));
      assert.ok(b.events.some((e) => e.type === "gap" && /failed 5 times/.test(e.reason)));
    });
  });
}

// Redis killed (SIGKILL) just after acknowledging an event that one hub's subscriber missed (its
// connection was cut a moment before), then restarted on the same port: with its AOF the event
// comes back from the stream to that hub; without it, the hub cannot know what it missed and says
// so with `recovered: false`, and its SSE clients get a reset event (reason "bus-gap").
for (const kind of clientKinds) {
  for (const persistence of [true, false]) {
    describe(`RedisBridge with ${kind.name} across a Redis restart ${persistence ? "with" : "without"} AOF`, () => {
      let redis: TestRedis;
      let proxy: TcpProxy;
      const open: Instance[] = [];

      before(async () => {
        redis = await startRedis({ persistence });
        proxy = await tcpProxy(redis.port);
      });
      after(async () => {
        for (const made of open) await made.close();
        await proxy.close();
        await redis.stop();
      });

      it(
        persistence
          ? "RedisBridge delivers an event acknowledged just before Redis died to the hub that missed it"
          : "RedisBridge has the hub reset its clients when Redis comes back without the events they missed",
        async () => {
          const a = await instance(kind, redis.url, { key: "restart" });
          const b = await instance(kind, redis.url, { key: "restart", subscriberUrl: proxy.url });
          open.push(a, b);
          await ready(a, b);
          const client = await b.sse();
          const first = await a.hub.publishAsync("a", "first");
          await until(() => b.received.length === 1, "the first event on b");
          proxy.cut(); // b's subscriber misses what comes next
          const acked = await a.hub.publishAsync("a", "acknowledged, then Redis died");
          await redis.kill();
          proxy.restore();
          await redis.restart({ persistence });
          if (persistence) {
            await until(() => b.received.length === 2, "b to catch up from the AOF-restored stream", 20_000);
            assert.deepEqual(ids(b.received), [first.id, acked.id]);
          } else {
            await until(() => seenBy(client).resets.length > 0, "b's client to get a reset", 20_000);
            assert.deepEqual(ids(b.received), [first.id]);
            assert.deepEqual(seenBy(client), { ids: [first.id], resets: ["bus-gap"] });
          }
          let next;
          for (const start = Date.now(); !next; await delay(20)) {
            next = await a.hub.publishAsync("a", "next").catch(() => undefined);
            if (Date.now() - start > 20_000) assert.fail("publishing never worked again");
          }
          const all = persistence ? [first.id, acked.id, next.id] : [first.id, next.id];
          await until(() => ids(b.received).includes(next.id), "the next event on b", 20_000);
          assert.deepEqual(ids(b.received), all);
          await until(() => seenBy(client).ids.includes(next.id), "the next event on b's client", 20_000);
          assert.deepEqual(seenBy(client), { ids: all, resets: persistence ? [] : ["bus-gap"] });
          await until(() => ids(a.received).includes(next.id), "the next event on a", 20_000);
          assert.deepEqual(ids(a.received), [first.id, acked.id, next.id]);
        },
      );
    });
  }
}
