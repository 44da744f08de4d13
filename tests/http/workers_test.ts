// examples/workers/worker.ts on the real workerd runtime: bundled to one ES module with
// `bun build`, served by `workerd serve examples/workers/config.capnp` on a port it picks.
import { after, before, describe, it } from "../helpers/timed.ts";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SseClient } from "../helpers/client.ts";
import { delay, runtime, withDeadline } from "../helpers/server.ts";

const root = new URL("../../", import.meta.url).pathname;
const bin = (name: string) => join(root, "node_modules", ".bin", name);

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

async function run(cmd: string, args: string[]): Promise<void> {
  const child = spawn(cmd, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (chunk) => out += chunk);
  child.stderr!.on("data", (chunk) => out += chunk);
  const code = await withDeadline(exited(child), 60_000, `${cmd} ${args.join(" ")}`);
  if (code !== 0) throw new Error(`${cmd} ${args.join(" ")} exited with ${code}:\n${out}`);
}

/** Starts workerd on 127.0.0.1 with port 0; workerd reports the port it bound on the control fd. */
async function startWorkerd(
  config: string,
): Promise<{ child: ChildProcess; url: string; log: () => string }> {
  const child = spawn(bin("workerd"), [
    "serve",
    config,
    "--socket-addr",
    "http=127.0.0.1:0",
    "--control-fd=3",
  ], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe", "pipe"],
  });
  let log = "";
  child.stdout!.on("data", (chunk) => log += chunk);
  child.stderr!.on("data", (chunk) => log += chunk);
  const control = child.stdio[3] as NodeJS.ReadableStream;
  const port = await withDeadline(
    new Promise<number>((resolve, reject) => {
      let text = "";
      control.on("data", (chunk) => {
        text += chunk;
        const match = /"socket":"http","port":(\d+)/.exec(text);
        if (match) resolve(Number(match[1]));
      });
      child.once("exit", (code) => reject(new Error(`workerd exited with ${code}:\n${log}`)));
    }),
    30_000,
    "workerd to listen",
  ).catch((error) => {
    child.kill();
    throw error;
  });
  return { child, url: `http://127.0.0.1:${port}`, log: () => log };
}

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
  let server: { child: ChildProcess; url: string; log: () => string } | undefined;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "sse-hub-workerd-"));
    mkdirSync(join(dir, "dist"));
    // The config embeds "dist/worker.js" next to itself: bundle there, beside a copy of it whose
    // keep-alive is short, so a disconnect is noticed (on the next write) within the test.
    const config = readFileSync(join(root, "examples/workers/config.capnp"), "utf8");
    assert.match(config, /name = "KEEP_ALIVE_MS", text = "\d+"/);
    writeFileSync(
      join(dir, "config.capnp"),
      config.replace(/(name = "KEEP_ALIVE_MS", text = )"\d+"/, '$1"100"'),
    );
    await run(bin("bun"), [
      "build",
      "examples/workers/worker.ts",
      "--target=browser",
      "--format=esm",
      `--outfile=${join(dir, "dist", "worker.js")}`,
    ]);
    server = await startWorkerd(join(dir, "config.capnp"));
  });

  after(async () => {
    if (server) {
      server.child.kill("SIGTERM"); // workerd drains open connections first
      await withDeadline(exited(server.child), 5_000, "workerd to exit").catch(() =>
        server?.child.kill("SIGKILL")
      );
      await exited(server.child);
    }
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

  it("worker keeps a quiet connection open with keep-alive comments and still delivers to it", async () => {
    const { url } = server!;
    const quiet = await SseClient.connect(`${url}/events/quiet`);
    try {
      // Without a pending timer in its own request, workerd would end this response as "hung".
      await quiet.textUntil((text) => text.split(":\n").length > 4);
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
