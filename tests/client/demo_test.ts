// The client against the demo app as a real subprocess (Deno under `deno test`, Bun under
// `bun test`): tokens, POST bodies, resets, and the statuses that stop or delay it.
import { after, before, describe, it } from "../helpers/timed.ts";
import assert from "node:assert/strict";
import { ClientError, connect } from "../../client.ts";
import type { ClientItem, Failure } from "../../client.ts";
import { startDemo } from "../helpers/demo_process.ts";
import type { DemoProcess } from "../helpers/demo_process.ts";
import { record } from "../helpers/connection.ts";
import { runtime, until, withDeadline } from "../helpers/server.ts";

let demo: DemoProcess;

async function post(path: string, body: unknown): Promise<Response> {
  return await fetch(`${demo.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

async function publish(topic: string, msg: string): Promise<string> {
  const response = await post("/publish", { topic, msg });
  assert.equal(response.status, 200, await response.clone().text());
  return ((await response.json()) as { id: string }).id;
}

async function ticket(): Promise<string> {
  const response = await post("/private/token", {});
  assert.equal(response.status, 200);
  return ((await response.json()) as { token: string }).token;
}

const data = (items: ClientItem<Record<string, string>>[]) =>
  items.map((item) => item.type === "event" ? item.data : item.type);

describe(`client against the demo (${runtime})`, () => {
  before(async () => {
    demo = await startDemo({ TICK_MS: "0", DEMO_DEBUG: "1" });
  });
  after(async () => {
    await demo.stop();
  });

  it("connect fetches a fresh bearer ticket for every reconnect and loses nothing across a drop", async () => {
    let asked = 0;
    const connection = connect(`${demo.url}/private/events/tickets`, {
      headers: async () => ({ authorization: `Bearer ${(asked++, await ticket())}` }),
    });
    // A ticket is single-use: the same header twice is refused, so a client that did not refresh it stops.
    const fixed = connect(`${demo.url}/private/events/tickets`, {
      headers: { authorization: `Bearer ${await ticket()}` },
    });
    const recording = record(connection);
    const fixedRecording = record(fixed);
    try {
      await until(() => connection.state === "open" && fixed.state === "open", "both streams to open");
      await publish("tickets", "before");
      await recording.count(1);
      const dropped = await (await post("/debug/drop", {})).json();
      assert.deepEqual(dropped, { dropped: 2 });
      await publish("tickets", "during");
      await fixedRecording.end();
      assert.equal((fixed.error as ClientError).status, 401);
      await until(() => connection.state === "open" && connection.reconnects === 1, "the reconnect");
      await publish("tickets", "after");
      assert.deepEqual(data(await recording.count(3)), ["before", "during", "after"]);
      assert.equal(asked, 2);
    } finally {
      connection.close();
      fixed.close();
    }
  });

  it("connect POSTs a JSON body to /subscribe and sends it again, with Last-Event-ID, on reconnect", async () => {
    const connection = connect(`${demo.url}/subscribe`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ topics: ["post-a", "post-b"] }),
    });
    const recording = record(connection);
    try {
      await until(() => connection.state === "open", "open");
      await publish("post-a", "a1");
      await publish("post-b", "b1");
      await recording.count(2);
      await post("/debug/drop", {});
      await publish("post-b", "b2");
      await until(() => connection.reconnects === 1 && connection.state === "open", "the reconnect");
      await publish("post-a", "a2");
      assert.deepEqual(data(await recording.count(4)), ["a1", "b1", "b2", "a2"]);
    } finally {
      connection.close();
    }
  });

  it("connect yields a history-exceeded reset when it resumes from an id the history no longer keeps", async () => {
    const first = connect(`${demo.url}/events/overflow`);
    const seen = record(first);
    await until(() => first.state === "open", "open");
    const id = await publish("overflow", "seen");
    await seen.count(1);
    first.close();
    // The demo's history keeps 1000 events a topic; 1001 more push "seen" out of it.
    for (let i = 0; i < 1001; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, 1001 - i) }, (_, j) => publish("overflow", `m${i + j}`)),
      );
    }
    const resumed = connect(`${demo.url}/events/overflow`, { lastEventId: id });
    const recording = record(resumed);
    try {
      const items = await recording.count(1001, 30_000);
      assert.equal(items[0]!.type, "reset");
      assert.equal((items[0] as { reason: string }).reason, "history-exceeded");
      assert.equal(items.slice(1).filter((item) => item.type === "event").length, 1000);
    } finally {
      resumed.close();
    }
  });

  it("connect stops on 204, stops on 401, and waits out a 503's Retry-After", async () => {
    await post("/debug/refuse", { status: 204 });
    const noContent = connect(`${demo.url}/events/refused`);
    await withDeadline(noContent.closed, 10_000, "204 to stop the client");
    assert.equal(noContent.error, undefined);
    assert.equal(noContent.reconnects, 0);

    const unauthorized = connect(`${demo.url}/private/events/refused`); // no ticket
    await withDeadline(unauthorized.closed, 10_000, "401 to stop the client");
    assert.equal((unauthorized.error as ClientError).status, 401);

    assert.equal((await post("/debug/refuse", { status: 503, retryAfter: 1 })).status, 200);
    const failures: Failure[] = [];
    const started = Date.now();
    const busy = connect(`${demo.url}/events/refused`, {
      onFailure: (failure) => void failures.push(failure),
    });
    try {
      await until(() => busy.state === "open", "the client to connect after the 503", 10_000);
      assert.deepEqual(failures.map((f) => [f.error.status, f.delay]), [[503, 1000]]);
      assert.ok(Date.now() - started >= 1000, `opened ${Date.now() - started} ms after the 503`);
      assert.equal(busy.reconnects, 1);
    } finally {
      busy.close();
    }
  });
});
