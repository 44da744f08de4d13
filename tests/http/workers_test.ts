// examples/workers/worker.ts on the real workerd runtime: bundled to one ES module with
// `bun build`, served by `workerd serve examples/workers/config.capnp` on a port it picks.
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

async function stats(url: string): Promise<{ subscribers: number; topics: number; published: number }> {
  const response = await fetch(`${url}/stats`);
  assert.equal(response.status, 200);
  return await response.json();
}

async function publish(url: string, body: unknown): Promise<Response> {
  return await fetch(`${url}/publish`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

// The server under test is a workerd process: the runtime driving it does not matter.
// Registered under `deno test` only, so it runs (and counts) once.
const underDeno = runtime === "deno" ? describe : undefined;
underDeno?.("examples/workers/worker.ts on workerd (driven from Deno only)", () => {
  let dir = "";
  let server: Workerd | undefined;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "sse-hub-workerd-"));
    mkdirSync(join(dir, "dist"));
    // The config embeds "dist/worker.js" next to itself: bundle there, beside a copy of it whose
    // keep-alive is short, so a disconnect is noticed (on the next write) within the test.
    const config = readFileSync(join(root, "examples/workers/config.capnp"), "utf8");
    assert.match(config, /name = "KEEP_ALIVE_MS", text = "\d+"/);
    writeFileSync(
      join(dir, "config.capnp"),
      config.replace(/(name = "KEEP_ALIVE_MS", text = )"\d+"/, `$1"${KEEP_ALIVE_MS}"`),
    );
    await bundleWorker("examples/workers/worker.ts", join(dir, "dist", "worker.js"));
    server = await startWorkerd(join(dir, "config.capnp"));
  });

  after(async () => {
    if (server) await stopWorkerd(server);
    rmSync(dir, { recursive: true, force: true });
  });

  it("worker streams published events to subscribers of the topic only", async () => {
    const { url } = server!;
    const news = await SseClient.connect(`${url}/events/news`);
    const sport = await SseClient.connect(`${url}/events/sport`);
    try {
      assert.equal(news.response.status, 200);
      assert.equal(news.response.headers.get("content-type"), "text/event-stream; charset=utf-8");
      await news.textUntil((text) => text.startsWith("retry: 2000\n\n"));
      assert.equal((await stats(url)).subscribers, 2);

      const first = await publish(url, { topic: "news", msg: "hello\nworkers" });
      assert.equal(first.status, 200);
      const result = await first.json() as { delivered: number; id: string };
      assert.equal(result.delivered, 1);
      const second = await publish(url, { topic: "news", msg: "again", event: "update" });
      assert.equal(second.status, 200);
      await second.body?.cancel();

      const events = await news.take(2);
      assert.deepEqual(events.map((e) => [e.event, e.data]), [["message", "hello\nworkers"], [
        "update",
        "again",
      ]]);
      assert.equal(events[0]!.id, result.id);
      assert.equal(sport.buffered.length, 0);
    } finally {
      await news.close();
      await sport.close();
    }
  });

  it("worker keeps a quiet connection open past several keep-alive intervals (keepAliveTimer per-connection)", async () => {
    const { url } = server!;
    const quiet = await SseClient.connect(`${url}/events/quiet`);
    try {
      // Without a pending timer in its own request, workerd would end this response as "hung"
      // right after its first bytes.
      const opened = Date.now();
      await quiet.textUntil(() => quiet.comments.length >= 3);
      assert.equal(quiet.ended, false);
      assert.ok(Date.now() - opened >= 2 * KEEP_ALIVE_MS, "3 comments came sooner than 2 intervals");
      assert.deepEqual(quiet.comments.slice(0, 3), ["", "", ""]);
      const response = await publish(url, { topic: "quiet", msg: "still here" });
      assert.equal(((await response.json()) as { delivered: number }).delivered, 1);
      assert.equal((await quiet.next()).data, "still here");
      assert.equal(quiet.ended, false);
    } finally {
      await quiet.close();
    }
  });

  it("worker streams an eventStreamResponse word by word and ends with the final event", async () => {
    const client = await SseClient.connect(
      `${server!.url}/tokens?text=${encodeURIComponent("one two three")}`,
    );
    const events = await client.end();
    assert.deepEqual(events.map((e) => [e.event, e.data]), [
      ["message", "one"],
      ["message", "two"],
      ["message", "three"],
      ["done", ""],
    ]);
  });

  it("worker refuses a bad publish body with 415 and a bad topic with 400", async () => {
    const { url } = server!;
    const wrongType = await fetch(`${url}/publish`, { method: "POST", body: "topic=news" });
    assert.equal(wrongType.status, 415);
    await wrongType.body?.cancel();
    const badTopic = await fetch(`${url}/events/${encodeURIComponent("no spaces")}`);
    assert.equal(badTopic.status, 400);
    await badTopic.body?.cancel();
  });

  it("worker unsubscribes a client that disconnects (stats drop to 0)", async () => {
    const { url } = server!;
    const client = await SseClient.connect(`${url}/events/leaving`);
    await client.textUntil((text) => text.length > 0);
    const during = await stats(url);
    assert.equal(during.subscribers >= 1, true);
    await client.close();
    let now = during;
    for (const start = Date.now(); now.subscribers !== 0; now = await stats(url)) {
      if (Date.now() - start > 15_000) {
        assert.fail(`still ${now.subscribers} subscribers after the client left`);
      }
      await delay(20);
    }
    assert.equal(now.topics, 0);
    const late = await publish(url, { topic: "leaving", msg: "nobody" });
    assert.equal(((await late.json()) as { delivered: number }).delivered, 0);
  });
});
