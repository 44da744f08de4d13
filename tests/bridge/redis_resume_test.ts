// A client resuming on an instance whose live feed lags the shared stream. Redis writes the
// stream and publishes in one step, but each instance hears the publish on its own pub/sub
// connection, later: a replay read in between has events that instance has not fanned out
// yet, and a client may bring an id it has not reached yet. Instance b's connections go
// through proxies that keep back what Redis sends, so each order happens every time.
// Counted per client: published, delivered, lost, duplicated, reordered, resets.
import { after, before, describe, it } from "../helpers/timed.ts";
import assert from "node:assert/strict";
import { RedisHistory } from "../../mod.ts";
import { clientKinds, startRedis, tcpProxy } from "../helpers/redis.ts";
import type { TcpProxy, TestRedis } from "../helpers/redis.ts";
import { until } from "../helpers/server.ts";
import { ids, instance, ready, seenBy } from "./redis_instance.ts";
import type { Instance } from "./redis_instance.ts";
import type { SseClient } from "../helpers/client.ts";
import { compareStreamIds, tally } from "./tally.ts";

/** A client's ids before it resumed (`had`) and since, tallied against everything published. */
function tallyResumed(published: string[], clients: Record<string, { client: SseClient; had: string[] }>) {
  const tallies = Object.entries(clients).map(([name, { client, had }]) => {
    const got = seenBy(client);
    return { client: name, ...tally(published, [...had, ...got.ids], compareStreamIds, got.resets.length) };
  });
  console.table(tallies);
  const exact = { published: published.length, delivered: published.length, lost: 0, duplicated: 0 };
  assert.deepEqual(
    tallies,
    Object.keys(clients).map((client) => ({ client, ...exact, reordered: 0, resets: 0 })),
  );
}

describe("RedisHistory.compareIds", () => {
  it("orders stream ids as two numbers of any size, with or without leading zeros", () => {
    const history = new RedisHistory({ client: { send: () => Promise.resolve(null) } });
    const max = "18446744073709551615"; // 2^64 - 1: more digits than a double holds exactly
    const ordered = [
      "0-0",
      "0-1",
      "1-0",
      "9-9",
      "10-0",
      "1700000000000-2",
      "1700000000000-10",
      `${max}-0`,
      `${max}-${max}`,
    ];
    for (const [i, a] of ordered.entries()) {
      for (const [j, b] of ordered.entries()) {
        assert.equal(Math.sign(history.compareIds(a, b)), Math.sign(i - j), `${a} against ${b}`);
      }
    }
    assert.equal(history.compareIds("0001-02", "1-2"), 0);
    assert.ok(history.compareIds("0010-0", "9-0") > 0);
    assert.ok(history.compareIds("18446744073709551614-1", `${max}-0`) < 0);
  });
});

for (const kind of clientKinds) {
  describe(`RedisBridge with ${kind.name}, resuming on an instance that lags the stream`, () => {
    let redis: TestRedis;
    let feedProxy: TcpProxy; // b's pub/sub connection
    let commandProxy: TcpProxy; // b's command connection (its replays)
    const open: Instance[] = [];

    before(async () => {
      redis = await startRedis({ persistence: false });
      feedProxy = await tcpProxy(redis.port);
      commandProxy = await tcpProxy(redis.port);
    });
    after(async () => {
      feedProxy.release();
      commandProxy.release();
      for (const made of open) await made.close();
      await feedProxy.close();
      await commandProxy.close();
      await redis.stop();
    });

    // a publishes; b's feed has fanned out `seen` and then hears nothing until released.
    async function lagging(key: string) {
      const a = await instance(kind, redis.url, { key });
      const b = await instance(kind, commandProxy.url, { key, subscriberUrl: feedProxy.url });
      open.push(a, b);
      await ready(a, b);
      const publish = async (data: string) => (await a.hub.publishAsync("a", data)).id;
      const seen = await publish("seen");
      await until(() => ids(b.received).includes(seen), "b to fan out the first event");
      feedProxy.hold();
      const missed = [await publish("m1"), await publish("m2")];
      // Every client on b gets the last event once b's feed is back and has brought it.
      const finish = async (...clients: SseClient[]) => {
        const last = await publish("last");
        await until(() => ids(b.received).includes(last), "b to fan out the last event");
        for (const client of clients) {
          await until(() => seenBy(client).ids.includes(last), "each client to get the last event");
        }
        return last;
      };
      return { b, seen, missed, finish };
    }

    it("a resuming client gets each event once, in order, though its replay ran ahead of the live feed", async () => {
      const { b, seen, missed, finish } = await lagging("ahead-of-feed");
      // Resumes from an id b has not fanned out yet (it saw m2 on a): nothing to replay.
      const ahead = await b.sse({ headers: { "last-event-id": missed[1]! } });
      // Resumes from an id b has: the replay, read from the stream, has m1 and m2 already.
      const behind = await b.sse({ headers: { "last-event-id": seen } });
      await until(() => seenBy(behind).ids.length === 2, "the replay of m1 and m2");
      feedProxy.release(); // b's feed now fans out m1 and m2, live
      const last = await finish(ahead, behind);
      tallyResumed([seen, ...missed, last], {
        ahead: { client: ahead, had: [seen, ...missed] },
        behind: { client: behind, had: [seen] },
      });
    });

    it("a resuming client gets each event once, in order, though the feed brought them while its replay was read", async () => {
      const { b, seen, missed, finish } = await lagging("feed-during-replay");
      commandProxy.hold(); // the replays wait for Redis's answer ...
      const ahead = await b.sse({ headers: { "last-event-id": missed[1]! } });
      const behind = await b.sse({ headers: { "last-event-id": seen } });
      feedProxy.release(); // ... while b's feed fans out m1 and m2: both clients hold them
      await until(() => ids(b.received).includes(missed[1]!), "b to fan out m2");
      commandProxy.release();
      const last = await finish(ahead, behind);
      tallyResumed([seen, ...missed, last], {
        ahead: { client: ahead, had: [seen, ...missed] },
        behind: { client: behind, had: [seen] },
      });
    });
  });
}
