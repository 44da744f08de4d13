// RedisBridge sends the publishes that wait for its connection as one script call: ids and order
// unchanged, through two bridged hubs on a real redis-server, with each client library the
// running runtime supports. Redis's own command statistics count the round trips.
import { after, before, describe, it } from "../helpers/timed.ts";
import assert from "node:assert/strict";
import type { PublishResult } from "../../mod.ts";
import { clientKinds, startRedis, tcpProxy } from "../helpers/redis.ts";
import type { TcpProxy, TestRedis } from "../helpers/redis.ts";
import { delay, until, withDeadline } from "../helpers/server.ts";
import { ids, instance, ready } from "./redis_instance.ts";
import type { Instance } from "./redis_instance.ts";

/** Script calls Redis has run so far (EVALSHA, and EVAL after a NOSCRIPT). */
async function scriptCalls(redis: TestRedis): Promise<number> {
  const info = String(await redis.command("INFO", "commandstats"));
  let calls = 0;
  for (const match of info.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+)/gm)) calls += Number(match[1]);
  return calls;
}

/** Script calls sent again with the script's text (EVAL: after a NOSCRIPT). */
async function evalCalls(redis: TestRedis): Promise<number> {
  const info = String(await redis.command("INFO", "commandstats"));
  return Number(/^cmdstat_eval:calls=(\d+)/m.exec(info)?.[1] ?? 0);
}

/** Both hubs got the events `m0` … in publish order, each with the id its publish resolved with. */
function assertCallOrder(results: PublishResult[], hubs: Instance[], starts: number[]): void {
  const sent = results.map((r) => r.id);
  assert.equal(new Set(sent).size, results.length, "one id per publish");
  hubs.forEach((hub, i) => {
    const got = hub.received.slice(starts[i]);
    assert.deepEqual(ids(got), sent, "the ids each publish resolved with, in call order");
    assert.deepEqual(got.map((m) => m.data), results.map((_, n) => `m${n}`));
  });
}

/** Each promise's outcome, in order: its result, or the error it rejected with. */
function outcomes<T>(
  promises: Promise<T>[],
): Promise<({ ok: true; value: T } | { ok: false; error: Error })[]> {
  return Promise.all(
    promises.map((p) =>
      p.then((value) => ({ ok: true as const, value }), (error: Error) => ({ ok: false as const, error }))
    ),
  );
}

for (const kind of clientKinds) {
  describe(`RedisBridge with ${kind.name} batching concurrent publishes`, () => {
    let redis: TestRedis;
    let proxy: TcpProxy;
    const open: Instance[] = [];

    before(async () => {
      redis = await startRedis({ persistence: false });
      proxy = await tcpProxy(redis.port);
    });
    after(async () => {
      await redis.command("CLIENT", "UNPAUSE").catch(() => {});
      proxy.restore();
      for (const made of open) await made.close();
      await proxy.close();
      await redis.stop();
    });

    // 256: one call's worth (shared among the calls that may be in flight); 600: more than that.
    for (const count of [256, 600]) {
      it(`RedisBridge sends ${count} concurrent publishes in a few script calls, each with its own id, in call order on both hubs`, async () => {
        const a = await instance(kind, redis.url, { key: `order${count}` });
        const b = await instance(kind, redis.url, { key: `order${count}` });
        open.push(a, b);
        await ready(a, b);
        const [startA, startB] = [a.received.length, b.received.length];
        const callsBefore = await scriptCalls(redis);
        const results = await withDeadline(
          Promise.all(Array.from({ length: count }, (_, i) => a.hub.publishAsync("a", `m${i}`))),
          10_000,
          `${count} publishes`,
        );
        const calls = await scriptCalls(redis) - callsBefore;
        await until(
          () => a.received.length - startA === count && b.received.length - startB === count,
          `${count} events on both hubs`,
        );
        assertCallOrder(results, [a, b], [startA, startB]);
        assert.ok(calls <= Math.ceil(count / 256) + 2, `${count} publishes took ${calls} script calls`);
        assert.ok(results.every((r) => r.delivered === 1), "each resolved once its echo was fanned out here");
      });
    }

    it("RedisBridge keeps call order when Redis lost its scripts with several calls in flight (NOSCRIPT, then EVAL)", async () => {
      const a = await instance(kind, redis.url, { key: "flushed" });
      const b = await instance(kind, redis.url, { key: "flushed" });
      open.push(a, b);
      await ready(a, b);
      const starts = [a.received.length, b.received.length];
      await redis.command("SCRIPT", "FLUSH"); // as after a Redis restart
      const evalsBefore = await evalCalls(redis);
      const results = await withDeadline(
        Promise.all(Array.from({ length: 600 }, (_, i) => a.hub.publishAsync("a", `m${i}`))),
        10_000,
        "600 publishes",
      );
      assert.ok(await evalCalls(redis) > evalsBefore, "the calls were sent again with the script's text");
      await until(
        () => a.received.length - starts[0]! === 600 && b.received.length - starts[1]! === 600,
        "600 events on both hubs",
      );
      assertCallOrder(results, [a, b], starts);
    });

    it("RedisBridge rejects every publish of a batch that fails, and the publishes around it arrive", async () => {
      // a's commands go through the proxy, its subscriber straight to Redis.
      const a = await instance(kind, proxy.url, { key: "fail", subscriberUrl: redis.url });
      const b = await instance(kind, redis.url, { key: "fail" });
      open.push(a, b);
      await ready(a, b);
      const [startA, startB] = [a.received.length, b.received.length];
      const publishAll = (label: string) =>
        Array.from({ length: 32 }, (_, i) => a.hub.publishAsync(`a`, `${label}${i}`));

      const first = await withDeadline(Promise.all(publishAll("first")), 10_000, "the first 32");
      // Redis holds write commands: the next batch is sent and waits in Redis, unanswered.
      await redis.command("CLIENT", "PAUSE", "10000", "WRITE");
      const callsBefore = await scriptCalls(redis);
      const inFlight = outcomes(publishAll("lost"));
      await until(
        async () => /^blocked_clients:1\r?$/m.test(String(await redis.command("INFO", "clients"))),
        "the batch to wait in Redis",
      );
      const queued = outcomes(publishAll("queued")); // behind it, in the bridge
      proxy.cut(); // a's command connection drops with the batch unanswered
      await redis.command("CLIENT", "UNPAUSE");
      const failed = await withDeadline(Promise.all([inFlight, queued]), 10_000, "the cut batches to settle");
      for (const batch of failed) {
        for (const outcome of batch) {
          assert.equal(outcome.ok, false, "every publish of a failed batch rejects");
          if (!outcome.ok) assert.match(outcome.error.message, /Redis refused the event for `a`/);
        }
      }
      assert.equal(await scriptCalls(redis) - callsBefore, 0, "Redis ran none of them");
      proxy.restore();

      // Publishing works again once the client has reconnected by itself.
      const later: PublishResult[] = [];
      await until(
        async () => {
          const batch = await outcomes(publishAll(`later${later.length}-`));
          if (!batch.every((o) => o.ok)) return false;
          later.push(...batch.map((o) => (o as { value: PublishResult }).value));
          return true;
        },
        "a's publishes to succeed again",
        20_000,
      );
      const sent = [...first, ...later];
      await until(
        () => a.received.length - startA === sent.length && b.received.length - startB === sent.length,
        `${sent.length} events on both hubs`,
      );
      for (const [hub, start] of [[a, startA], [b, startB]] as const) {
        const got = hub.received.slice(start);
        assert.deepEqual(ids(got), sent.map((r) => r.id), "nothing else lost, nothing twice, in call order");
        assert.ok(
          !got.some((m) => /^(lost|queued)/.test(String(m.data))),
          "a rejected publish reaches no one",
        );
      }
      assert.equal(
        Number(await redis.command("XLEN", "fail")),
        sent.length + 1,
        "the stream holds the probe and the accepted",
      );
    });

    it("RedisBridge holds publishes that trickle in while a call is in flight until it ends", async () => {
      // a's commands go through the proxy, its subscriber straight to Redis.
      const a = await instance(kind, proxy.url, { key: "trickle", subscriberUrl: redis.url });
      open.push(a);
      await ready(a);
      const start = a.received.length;
      const length = async () => Number(await redis.command("XLEN", "trickle"));
      const lengthBefore = await length();
      proxy.hold(); // Redis runs the first call; its answer is kept back, so it stays in flight
      try {
        const publishes = [a.hub.publishAsync("a", "m0")];
        await until(async () => await length() === lengthBefore + 1, "the first call to run");
        for (let i = 1; i <= 5; i++) {
          await delay(0); // one per turn, as echoes resolve a hub's publishes
          publishes.push(a.hub.publishAsync("a", `m${i}`));
        }
        await delay(50); // a call sent for them would have run by now
        // Sent as they came, the first two would have gone as two more calls (three in flight).
        assert.equal(await length(), lengthBefore + 1, "the five wait for the call in flight");
        proxy.release();
        const results = await withDeadline(Promise.all(publishes), 10_000, "6 publishes");
        await until(() => a.received.length - start === 6, "6 events");
        assertCallOrder(results, [a], [start]);
      } finally {
        proxy.release();
      }
    });

    it("RedisBridge fails the publishes that waited `timeout` behind a hung Redis without sending them", async () => {
      const a = await instance(kind, redis.url, { key: "hung", timeout: 300 });
      open.push(a);
      await ready(a);
      await redis.command("CLIENT", "PAUSE", "10000", "WRITE"); // Redis holds every script call
      try {
        const callsBefore = await scriptCalls(redis);
        const first = outcomes([a.hub.publishAsync("a", "first")]);
        await until(
          async () => /^blocked_clients:1\r?$/m.test(String(await redis.command("INFO", "clients"))),
          "the first call to wait in Redis",
        );
        // 1,200 more: more than the calls in flight take, queued behind the first.
        const queued = outcomes(Array.from({ length: 1200 }, (_, i) => a.hub.publishAsync("a", `q${i}`)));
        const settled = await withDeadline(Promise.all([first, queued]), 10_000, "every publish to fail");
        const errors = settled.flat().map((
          o,
        ) => (o.ok ? assert.fail("a publish succeeded") : o.error.message));
        assert.equal(errors.length, 1201);
        assert.ok(errors.every((m) => /^Redis refused the event for `a`/.test(m)));
        const unsent = errors.filter((m) => /not sent, it waited 300 ms/.test(m)).length;
        assert.ok(unsent > 0, "some never went out");
        const before = Number(await redis.command("XLEN", "hung"));
        await redis.command("CLIENT", "UNPAUSE");
        // The calls sent before their publishes' deadlines run now: a timeout cannot take back a
        // call Redis holds. What expired unsent never goes out.
        const ran = () => redis.command("XLEN", "hung").then((n) => Number(n) - before);
        await until(async () => await ran() >= 1201 - unsent, "the held calls to run");
        await delay(100); // a call for what expired would run now
        assert.equal(
          await ran(),
          1201 - unsent,
          "the stream holds what was sent, nothing that expired unsent",
        );
        assert.ok(await scriptCalls(redis) - callsBefore < 1201 / 256 + 2, "a few calls");
      } finally {
        await redis.command("CLIENT", "UNPAUSE");
      }
    });
  });
}
