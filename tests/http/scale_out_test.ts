// Two server PROCESSES sharing one real Redis: examples/scale-out/server.ts on Deno (with
// node-redis) and on Bun (with Bun's RedisClient). Real fetch clients read the event streams.
import { after, before, describe, it } from "../helpers/timed.ts";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { SseClient } from "../helpers/client.ts";
import { startRedis } from "../helpers/redis.ts";
import type { TestRedis } from "../helpers/redis.ts";
import { delay, runtime, until, withDeadline } from "../helpers/server.ts";

const root = new URL("../../", import.meta.url).pathname;
const STREAM_ID = /^\d+-\d+$/;

interface Instance {
  runtime: "deno" | "bun";
  url: string;
  process: ChildProcess;
  /** What the process wrote to stderr (bridge gaps and errors are logged there). */
  log: string[];
}

async function launch(runtime: "deno" | "bun", redisUrl: string): Promise<Instance> {
  const args = runtime === "deno"
    ? ["run", "-A", "examples/scale-out/server.ts"]
    : ["run", "examples/scale-out/server.ts"];
  const child = spawn(`${root}node_modules/.bin/${runtime}`, args, {
    cwd: root,
    env: { ...process.env, REDIS_URL: redisUrl, PORT: "0", HOST: "127.0.0.1", NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const log: string[] = [];
  child.stderr!.on("data", (chunk) => log.push(String(chunk)));
  const url = await withDeadline(
    new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout!.on("data", (chunk) => {
        out += chunk;
        const match = /listening on (http:\/\/[\d.]+:\d+)/.exec(out);
        if (match) resolve(match[1]!);
      });
      child.once("exit", (code) => reject(new Error(`${runtime} server exited (${code}): ${log.join("")}`)));
    }),
    30_000,
    `the ${runtime} scale-out server to listen`,
  );
  return { runtime, url, process: child, log };
}

async function stop(instance: Instance): Promise<void> {
  const child = instance.process;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await withDeadline(exited, 5000, `${instance.runtime} server to stop`).catch(() => {
    child.kill("SIGKILL");
    return exited;
  });
}

function publish(instance: Instance, topic: string, msg: string): Promise<Response> {
  return fetch(`${instance.url}/publish`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ topic, msg }),
  });
}

async function published(instance: Instance, topic: string, msg: string): Promise<string> {
  const response = await publish(instance, topic, msg);
  const body = await response.json() as { id: string };
  assert.equal(response.status, 200, `publish on ${instance.runtime}: ${JSON.stringify(body)}`);
  assert.match(body.id, STREAM_ID);
  return body.id;
}

async function stats(instance: Instance): Promise<Record<string, number>> {
  return await (await fetch(`${instance.url}/stats`)).json() as Record<string, number>;
}

function assertIncreasing(ids: readonly string[]): void {
  for (let i = 1; i < ids.length; i++) {
    const [a, b] = [ids[i - 1]!.split("-").map(BigInt), ids[i]!.split("-").map(BigInt)];
    assert.ok(
      a[0]! < b[0]! || (a[0] === b[0] && a[1]! < b[1]!),
      `${ids[i - 1]} then ${ids[i]}: not increasing`,
    );
  }
}

// The servers under test are a Deno and a Bun process: the runtime driving them does not matter.
// Registered under `deno test` only, so it runs (and counts) once.
const underDeno = runtime === "deno" ? describe : undefined;
underDeno?.("scale-out: a Deno and a Bun process bridged by one Redis (driven from Deno only)", () => {
  let redis: TestRedis;
  let deno: Instance;
  let bun: Instance;
  const clients: SseClient[] = [];
  const connect = async (instance: Instance, topic: string, headers: Record<string, string> = {}) => {
    const client = await SseClient.connect(`${instance.url}/events/${topic}`, { headers });
    clients.push(client);
    assert.equal(client.response.status, 200);
    await client.textUntil((text) => text.startsWith("retry: 1000\n\n")); // subscribed
    return client;
  };

  before(async () => {
    redis = await startRedis();
    [deno, bun] = await Promise.all([launch("deno", redis.url), launch("bun", redis.url)]);
  });
  after(async () => {
    for (const client of clients) await client.close();
    await Promise.all([deno, bun].filter(Boolean).map(stop));
    await redis?.stop();
  });

  it("RedisBridge sends a publish on either instance to the subscribers of both, exactly once and in one order", async () => {
    const onDeno = await connect(deno, "orders");
    const onBun = await connect(bun, "orders");
    const sequential = [];
    for (let i = 0; i < 6; i++) {
      sequential.push(await published(i % 2 ? bun : deno, "orders", `seq ${i}\nline two`));
    }
    const racing = await Promise.all(
      Array.from({ length: 20 }, (_, i) => published(i % 2 ? bun : deno, "orders", `race ${i} é ☃ 😀`)),
    );
    const [a, b] = await Promise.all([onDeno.take(26), onBun.take(26)]);
    assert.deepEqual(a.map((e) => e.id), b.map((e) => e.id), "the same order on both instances");
    assert.deepEqual(a.map((e) => e.data), b.map((e) => e.data));
    assertIncreasing(a.map((e) => e.id));
    assert.deepEqual(a.slice(0, 6).map((e) => e.id), sequential);
    assert.deepEqual(
      new Set(a.slice(6).map((e) => e.id)),
      new Set(racing),
      "each racing publish exactly once",
    );
    assert.equal(a[1]!.data, "seq 1\nline two");
    assert.deepEqual(
      new Set(a.slice(6).map((e) => e.data)),
      new Set(Array.from({ length: 20 }, (_, i) => `race ${i} é ☃ 😀`)),
    );
    await delay(50);
    assert.equal(onDeno.buffered.length + onBun.buffered.length, 0, "nothing delivered twice");
  });

  it("RedisBridge lets a client that leaves one instance resume on the other with its Last-Event-ID", async () => {
    const first = await connect(deno, "resume");
    await published(bun, "resume", "one");
    const seen = await first.next();
    await first.close();
    const missed = [
      await published(deno, "resume", "two"),
      await published(bun, "other", "not this topic"),
      await published(bun, "resume", "three"),
    ];
    const resumed = await connect(bun, "resume", { "last-event-id": seen.id });
    const events = await resumed.take(2);
    assert.deepEqual(events.map((e) => [e.id, e.data]), [[missed[0], "two"], [missed[2], "three"]]);
    assert.ok(!resumed.text.includes("sse-hub:reset"), "a complete replay sends no reset");
    const live = await published(deno, "resume", "four");
    assert.equal((await resumed.next()).id, live);
  });

  it("RedisBridge keeps both instances serving through a Redis restart, and they report the gap", async () => {
    const onDeno = await connect(deno, "restart");
    const onBun = await connect(bun, "restart");
    const before = await published(deno, "restart", "before");
    await Promise.all([onDeno.next(), onBun.next()]);
    const gapsBefore = [(await stats(deno)).bridgeGaps!, (await stats(bun)).bridgeGaps!];

    await redis.kill();
    for (const instance of [deno, bun]) {
      const refused = await publish(instance, "restart", "while down");
      assert.equal(refused.status, 503, `${instance.runtime} answers 503 while Redis is down`);
      await refused.body?.cancel();
      const fresh = await connect(instance, "restart"); // new subscribers are still served
      await fresh.close();
    }
    assert.ok(!onDeno.ended && !onBun.ended, "open streams stay open");

    await redis.restart(); // same port, same data dir: the AOF brings the stream back
    const after: string[] = [];
    for (const instance of [deno, bun, deno, bun]) {
      for (const start = Date.now();; await delay(50)) {
        const response = await publish(instance, "restart", `after ${after.length}`);
        if (response.status === 200) {
          after.push(((await response.json()) as { id: string }).id);
          break;
        }
        await response.body?.cancel();
        if (Date.now() - start > 30_000) assert.fail(`${instance.runtime} never published again`);
      }
    }
    const [a, b] = await Promise.all([onDeno.take(4, 30_000), onBun.take(4, 30_000)]);
    assert.deepEqual(a.map((e) => e.id), after);
    assert.deepEqual(b.map((e) => e.id), after);
    assertIncreasing([before, ...after]);
    for (const [i, instance] of [deno, bun].entries()) {
      // The gap names the last event delivered before it: what came after may have been missed.
      await until(
        () => instance.log.join("").includes(`bridge gap after ${before}`),
        `${instance.runtime} to log the gap`,
      );
      const now = await stats(instance);
      assert.ok(now.bridgeGaps! > gapsBefore[i]!, `${instance.runtime} counted the gap`);
      assert.equal(instance.process.exitCode, null, `${instance.runtime} is still running`);
    }
    // The stream survived the restart: a client resumes from before the outage without a reset.
    const resumed = await connect(bun, "restart", { "last-event-id": before });
    assert.deepEqual((await resumed.take(4)).map((e) => e.id), after);
    assert.ok(!resumed.text.includes("sse-hub:reset"));
  });
});
