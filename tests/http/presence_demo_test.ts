// Presence in the demo across two instances bridged by a real redis-server: each instance
// publishes who is connected to it on topic `presence`, so a client of either sees both.
// Two demo processes of the runtime under test (Deno under deno test, Bun under bun test).
import { after, before, describe, it } from "../helpers/timed.ts";
import assert from "node:assert/strict";
import { SseClient } from "../helpers/client.ts";
import { type DemoProcess, startDemo } from "../helpers/demo_process.ts";
import { startRedis, type TestRedis } from "../helpers/redis.ts";

interface Snapshot {
  instance: string;
  names: string[];
}

// The next presence snapshot from `instance` that satisfies `check`.
async function snapshotFrom(client: SseClient, instance: string, check: (names: string[]) => boolean) {
  for (;;) {
    const event = await client.next(15_000);
    if (event.event !== "presence") continue;
    const snapshot = JSON.parse(event.data) as Snapshot;
    if (snapshot.instance === instance && check(snapshot.names)) return snapshot;
  }
}

describe("demo presence across bridged instances", () => {
  let redis: TestRedis;
  let a: DemoProcess;
  let b: DemoProcess;
  before(async () => {
    redis = await startRedis();
    const env = { REDIS_URL: redis.url, TICK_MS: "0" };
    [a, b] = await Promise.all([startDemo(env), startDemo(env)]);
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await redis?.stop();
  });

  it("demo shows a client of one instance who joins and leaves the other", async () => {
    const watcher = await SseClient.connect(`${b.url}/events/presence`);
    const { instance } = await (await fetch(`${a.url}/presence`)).json() as Snapshot;
    const ada = await SseClient.connect(`${a.url}/events/chat,presence?name=ada`);
    assert.deepEqual((await snapshotFrom(watcher, instance, (names) => names.includes("ada"))).names, [
      "ada",
    ]);
    assert.deepEqual(await (await fetch(`${a.url}/presence`)).json(), { instance, names: ["ada"] });
    await ada.close();
    assert.deepEqual((await snapshotFrom(watcher, instance, (names) => !names.includes("ada"))).names, []);
    await watcher.close();
  });

  it("demo refuses a name that is not 1 to 32 letters, digits, spaces, _ . -", async () => {
    const response = await fetch(`${a.url}/events/chat?name=${encodeURIComponent("<b>x</b>")}`);
    assert.equal(response.status, 400);
    await response.body?.cancel();
  });
});
