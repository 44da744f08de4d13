// examples/workers/durable_object.ts on the real workerd runtime, with its Durable Object storage
// on disk (`localDisk`): every request goes to one object, whose hub replays from storage, also
// after workerd was killed and started again on the same directory (every in-memory state gone).
import { after, before, describe, it } from "../helpers/timed.ts";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SseClient } from "../helpers/client.ts";
import { delay, runtime } from "../helpers/server.ts";
import { bundleWorker, startWorkerd, stopWorkerd } from "../helpers/workerd.ts";
import type { Workerd } from "../helpers/workerd.ts";

const root = new URL("../../", import.meta.url).pathname;
const KEEP_ALIVE_MS = 200;

interface ObjectStats {
  subscribers: number;
  timers: number;
  published: number;
  replayed: number;
  history: { events: number; bytes: number };
}

async function stats(url: string): Promise<ObjectStats> {
  const response = await fetch(`${url}/stats`);
  assert.equal(response.status, 200);
  return await response.json();
}

async function publish(url: string, topic: string, msg: string): Promise<{ id: string; delivered: number }> {
  const response = await fetch(`${url}/publish`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ topic, msg }),
  });
  assert.equal(response.status, 200);
  return await response.json();
}

/** Waits (deadline-guarded) until the object has dropped every subscriber. */
async function noSubscribers(url: string): Promise<void> {
  for (const start = Date.now(); (await stats(url)).subscribers !== 0; await delay(20)) {
    if (Date.now() - start > 10_000) assert.fail("the object still has subscribers after they left");
  }
}

const resume = (url: string, topic: string, lastEventId: string) =>
  SseClient.connect(`${url}/events/${topic}`, { headers: { "last-event-id": lastEventId } });

// The server under test is a workerd process: the runtime driving it does not matter.
// Registered under `deno test` only, so it runs (and counts) once.
const underDeno = runtime === "deno" ? describe : undefined;
underDeno?.("examples/workers/durable_object.ts on workerd (driven from Deno only)", () => {
  let dir = "";
  let storage = "";
  let server: Workerd | undefined;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "sse-hub-workerd-do-"));
    storage = join(dir, "storage");
    mkdirSync(join(dir, "dist"));
    mkdirSync(storage);
    const config = readFileSync(join(root, "examples/workers/durable_object.capnp"), "utf8");
    assert.match(config, /durableObjectStorage = \(localDisk = "do-storage"\)/);
    assert.match(config, /name = "KEEP_ALIVE_MS", text = "\d+"/);
    writeFileSync(
      join(dir, "durable_object.capnp"),
      config.replace(/(name = "KEEP_ALIVE_MS", text = )"\d+"/, `$1"${KEEP_ALIVE_MS}"`),
    );
    await bundleWorker("examples/workers/durable_object.ts", join(dir, "dist", "durable_object.js"));
    server = await startWorkerd(join(dir, "durable_object.capnp"), { "do-storage": storage });
  });

  after(async () => {
    if (server) await stopWorkerd(server);
    rmSync(dir, { recursive: true, force: true });
  });

  it("durable object replays exactly what a client missed when it resumes with Last-Event-ID", async () => {
    const { url } = server!;
    const client = await SseClient.connect(`${url}/events/news`);
    const seen = [await publish(url, "news", "one"), await publish(url, "news", "two")];
    assert.deepEqual(seen.map((result) => result.delivered), [1, 1]); // the publisher reached the same hub
    assert.deepEqual((await client.take(2)).map((e) => [e.id, e.data]), [[seen[0]!.id, "one"], [
      seen[1]!.id,
      "two",
    ]]);
    assert.equal((await stats(url)).timers, 1); // the hub's one keep-alive, for every stream
    await client.close();
    await noSubscribers(url);
    assert.equal((await stats(url)).timers, 0); // nothing left that keeps the object from hibernating

    const missed = [await publish(url, "news", "three"), await publish(url, "sport", "other topic")];
    missed.push(await publish(url, "news", "four"));
    assert.deepEqual(missed.map((result) => result.delivered), [0, 0, 0]);
    const back = await resume(url, "news", seen[1]!.id);
    try {
      assert.deepEqual((await back.take(2)).map((e) => [e.id, e.data]), [[missed[0]!.id, "three"], [
        missed[2]!.id,
        "four",
      ]]);
      // Nothing else came before the next live event: the replay was exactly what it missed.
      const live = await publish(url, "news", "five");
      assert.deepEqual((await back.next()).id, live.id);
      assert.equal(back.buffered.length, 0);
    } finally {
      await back.close();
    }
  });

  it("durable object keeps a quiet stream open with the hub's keep-alive comments", async () => {
    const { url } = server!;
    const quiet = await SseClient.connect(`${url}/events/quiet`);
    try {
      const opened = Date.now();
      await quiet.textUntil(() => quiet.comments.length >= 3);
      assert.ok(Date.now() - opened >= 2 * KEEP_ALIVE_MS, "3 comments came sooner than 2 intervals");
      assert.equal((await publish(url, "quiet", "still here")).delivered, 1);
      assert.equal((await quiet.next()).data, "still here");
      assert.equal(quiet.ended, false);
    } finally {
      await quiet.close();
    }
  });

  it("durable object replays from storage after workerd is killed and restarted (eviction)", async () => {
    let { url } = server!;
    const client = await SseClient.connect(`${url}/events/evict`);
    const last = await publish(url, "evict", "before");
    assert.equal((await client.next()).id, last.id);
    await client.close();
    await noSubscribers(url);
    const missed = [await publish(url, "evict", "missed 1"), await publish(url, "evict", "missed 2")];
    const kept = (await stats(url)).history.events;

    // The publish responses came back, so the object's output gate saw the writes durable:
    // SIGKILL (no draining, no shutdown hook) loses only memory.
    await stopWorkerd(server!, "SIGKILL");
    server = await startWorkerd(join(dir, "durable_object.capnp"), { "do-storage": storage });
    url = server.url;
    const revived = await stats(url);
    assert.equal(revived.published, 0); // a new object: nothing but the storage is left
    assert.equal(revived.history.events, kept);

    const back = await resume(url, "evict", last.id);
    try {
      assert.deepEqual((await back.take(2)).map((e) => [e.event, e.id, e.data]), [
        ["message", missed[0]!.id, "missed 1"],
        ["message", missed[1]!.id, "missed 2"],
      ]);
      const after = await publish(url, "evict", "after");
      assert.ok(BigInt(after.id) > BigInt(missed[1]!.id), `id ${after.id} after ${missed[1]!.id}`);
      assert.equal((await back.next()).id, after.id);
      assert.equal(back.buffered.length, 0);
      assert.equal((await stats(url)).replayed, 2);
    } finally {
      await back.close();
    }
  });

  it("durable object sends a reset to a client whose id it never stored", async () => {
    const { url } = server!;
    const client = await resume(url, "evict", "123");
    try {
      const reset = await client.next();
      assert.equal(reset.event, "sse-hub:reset");
      assert.equal(JSON.parse(reset.data).reason, "history-exceeded");
    } finally {
      await client.close();
    }
  });
});
