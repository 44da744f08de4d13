// examples/node/server.mjs on Node (srvx over node:http), importing the built package
// (dist/, made here with `tsc -p tsconfig.build.json` when missing or older than the sources).
import { after, before, describe, it } from "../helpers/timed.ts";
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { SseClient } from "../helpers/client.ts";
import { buildIfNeeded, exited, startNode as startScript } from "../helpers/node_process.ts";
import { delay, runtime, withDeadline } from "../helpers/server.ts";

const startNode = () => startScript("examples/node/server.mjs");

async function stats(url: string): Promise<{ subscribers: number; topics: number }> {
  const response = await fetch(`${url}/stats`);
  assert.equal(response.status, 200);
  return await response.json();
}

async function publish(url: string, body: unknown): Promise<{ delivered: number; id: string }> {
  const response = await fetch(`${url}/publish`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  assert.equal(response.status, 200);
  return await response.json();
}

// The server under test is a Node process: the runtime driving it does not matter. Registered under
// `bun test` only, so it runs (and counts) once; Bun reports a signalled child's exit code (SIGTERM test).
const underBun = runtime === "bun" ? describe : undefined;
underBun?.("examples/node/server.mjs on Node (driven from Bun only)", () => {
  let server: { child: ChildProcess; url: string } | undefined;

  before(async () => {
    await buildIfNeeded();
    server = await startNode();
  });

  after(async () => {
    if (!server) return;
    server.child.kill("SIGTERM");
    await withDeadline(exited(server.child), 10_000, "node to exit").catch(() =>
      server?.child.kill("SIGKILL")
    );
  });

  it("server.mjs streams a published event to a subscriber of the topic", async () => {
    const { url } = server!;
    const client = await SseClient.connect(`${url}/events/news`);
    try {
      assert.equal(client.response.status, 200);
      assert.equal(client.response.headers.get("content-type"), "text/event-stream; charset=utf-8");
      await client.textUntil((text) => text.startsWith("retry: 2000\n\n"));
      assert.equal((await stats(url)).subscribers, 1);
      const result = await publish(url, { topic: "news", msg: "hello\nnode" });
      assert.equal(result.delivered, 1);
      const event = await client.next();
      assert.deepEqual([event.data, event.id], ["hello\nnode", result.id]);
    } finally {
      await client.close();
    }
  });

  it("server.mjs unsubscribes a client that disconnects", async () => {
    const { url } = server!;
    const client = await SseClient.connect(`${url}/events/leaving`);
    await client.textUntil((text) => text.length > 0);
    await client.close();
    let now = await stats(url);
    for (const start = Date.now(); now.subscribers !== 0; now = await stats(url)) {
      if (Date.now() - start > 10_000) {
        assert.fail(`still ${now.subscribers} subscribers after the client left`);
      }
      await delay(20);
    }
    assert.equal(now.topics, 0);
    assert.equal((await publish(url, { topic: "leaving", msg: "nobody" })).delivered, 0);
  });

  it("server.mjs streams eventStreamResponse tokens in order", async () => {
    const client = await SseClient.connect(`${server!.url}/tokens?text=${encodeURIComponent("a b c")}`);
    const events = await client.end();
    assert.deepEqual(events.map((e) => [e.event, e.data]), [["message", "a"], ["message", "b"], [
      "message",
      "c",
    ], [
      "done",
      "",
    ]]);
  });

  it("server.mjs ends open streams with a retry hint and exits on its own on SIGTERM", async () => {
    const { url, child } = server!;
    const client = await SseClient.connect(`${url}/events/shutdown`);
    await client.textUntil((text) => text.length > 0);
    child.kill("SIGTERM");
    await client.end();
    assert.match(client.text, /retry: 5000\n\n$/);
    // It exits once the server is closed: no timer or socket left behind. (Deno's node:child_process
    // reports a child it sent a signal to as killed by it, code null, even when it exited 0.)
    const code = await withDeadline(exited(child), 10_000, "node to exit on its own");
    if (runtime === "bun") assert.equal(code, 0);
  });
});
