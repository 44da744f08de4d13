// What every framework recipe (examples/frameworks/*, examples/node/server.mjs) must do over real
// HTTP, read by a real fetch client from the byte stream: one fixture, run by a short test file per
// framework and runtime. Each recipe serves `GET /events/:topic` and `POST /publish` (publishHandler:
// `{"topic", "msg"}`) from one hub, so publishing goes through the framework too.
import { after, before, it } from "../helpers/timed.ts";
import assert from "node:assert/strict";
import { SseClient } from "../helpers/client.ts";
import { until } from "../helpers/server.ts";

export interface FrameworkServer {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  url: string;
  /** The hub's subscriber count. */
  subscribers(): Promise<number>;
  /** Closes the hub, then the server. */
  close(): Promise<void>;
}

/** `POST /publish` through the recipe; resolves with the hub's answer. */
export async function publish(
  url: string,
  topic: string,
  msg: string,
): Promise<{ id: string; delivered: number }> {
  const response = await fetch(`${url}/publish`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ topic, msg }),
  });
  assert.equal(response.status, 200, await response.clone().text());
  return await response.json();
}

export interface ContractOptions {
  /** How long a disconnected client may stay subscribed (a server that notices on the next write). */
  leaveMs?: number;
}

/**
 * Registers the contract's tests (call inside a `describe`); `start` runs once, before them. Returns
 * the running server, for the framework's own tests in the same `describe`.
 */
export function frameworkContract(
  name: string,
  start: () => Promise<FrameworkServer>,
  options: ContractOptions = {},
): () => FrameworkServer {
  let server: FrameworkServer | undefined;
  before(async () => {
    server = await start();
  });
  after(async () => {
    await server?.close();
  });

  it(`${name} sends the hub's SSE headers and the events published after the client joined, in order`, async () => {
    const { url, subscribers } = server!;
    const client = await SseClient.connect(`${url}/events/news`);
    try {
      assert.equal(client.response.status, 200);
      assert.equal(client.response.headers.get("content-type"), "text/event-stream; charset=utf-8");
      assert.equal(client.response.headers.get("cache-control"), "no-cache, no-transform");
      assert.equal(client.response.headers.get("x-accel-buffering"), "no");
      assert.equal(client.response.headers.get("content-encoding"), null);
      await client.textUntil((text) => text.length > 0); // the head and the opening chunk are flushed
      await until(async () => await subscribers() === 1, "the client to be subscribed");
      const sent = ["one", "two\nlines", "three"];
      const ids: string[] = [];
      for (const data of sent) ids.push((await publish(url, "news", data)).id);
      const events = await client.take(3);
      assert.deepEqual(events.map((e) => [e.data, e.id]), sent.map((data, i) => [data, ids[i]]));
    } finally {
      await client.close();
    }
  });

  it(`${name} replays the events after the client's Last-Event-ID, then goes live`, async () => {
    const { url, subscribers } = server!;
    await until(async () => await subscribers() === 0, "no subscribers left from the test before");
    const ids: string[] = [];
    for (const data of ["missed-0", "missed-1", "missed-2"]) {
      ids.push((await publish(url, "replay", data)).id);
    }
    const client = await SseClient.connect(`${url}/events/replay`, { headers: { "last-event-id": ids[0]! } });
    try {
      assert.equal(client.response.status, 200);
      const replayed = await client.take(2);
      assert.deepEqual(replayed.map((e) => [e.data, e.id]), [["missed-1", ids[1]], ["missed-2", ids[2]]]);
      await until(async () => await subscribers() === 1, "the replayed client to be live");
      const { id: live } = await publish(url, "replay", "live");
      assert.deepEqual(await client.next().then((e) => [e.data, e.id]), ["live", live]);
    } finally {
      await client.close();
    }
  });

  it(`${name} unsubscribes a client that disconnects`, async () => {
    const { url, subscribers } = server!;
    await until(async () => await subscribers() === 0, "no subscribers left from the tests before");
    const client = await SseClient.connect(`${url}/events/leaving`);
    await client.textUntil((text) => text.length > 0);
    await until(async () => await subscribers() === 1, "the client to be subscribed");
    await client.close();
    await until(
      async () => await subscribers() === 0,
      "the hub to drop the client that left",
      options.leaveMs,
    );
    assert.equal((await publish(url, "leaving", "nobody listens")).delivered, 0);
  });
  return () => server!;
}
