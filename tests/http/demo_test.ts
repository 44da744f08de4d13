// The demo app as a real subprocess (Deno under `deno test`, Bun under `bun test`), read by an
// independent client: the npm `eventsource` package (WHATWG EventSource over global fetch).
import { after, before, describe, it } from "../helpers/timed.ts";
import assert from "node:assert/strict";
import { EventSource } from "eventsource";
import { startDemo } from "../helpers/demo_process.ts";
import type { DemoProcess } from "../helpers/demo_process.ts";
import { delay, runtime, until, withDeadline } from "../helpers/server.ts";

interface Received {
  type: string;
  data: string;
  id: string;
}

/** An EventSource that records what it gets. */
function listen(url: string, types: string[] = ["message"]) {
  const source = new EventSource(url);
  const events: Received[] = [];
  const state = { opens: 0, errors: 0 };
  source.addEventListener("open", () => state.opens++);
  source.addEventListener("error", () => state.errors++);
  for (const type of types) {
    source.addEventListener(
      type,
      (event) => events.push({ type: event.type, data: event.data, id: event.lastEventId }),
    );
  }
  return {
    source,
    events,
    state,
    opened: (n = 1) => until(() => state.opens >= n, `${n} open event(s) from ${url}`),
    /** Waits for `n` events in all, then returns them all. */
    take: async (n: number) => {
      await until(() => events.length >= n, `${n} events from ${url} (have ${events.length})`);
      return events.slice();
    },
    close: () => source.close(),
  };
}

/** Polls an async condition until it holds (deadline-guarded). */
async function eventually(condition: () => Promise<boolean>, what: string): Promise<void> {
  await withDeadline(
    (async () => {
      while (!(await condition())) await delay(20);
    })(),
    10_000,
    what,
  );
}

let topicCounter = 0;
const uniqueTopic = (name: string) => `${name}-${++topicCounter}`;

describe(`demo over HTTP (${runtime})`, () => {
  let demo: DemoProcess;
  const url = (path: string) => demo.url + path;
  const publish = async (body: unknown): Promise<{ status: number; json: Record<string, unknown> }> => {
    const response = await fetch(url("/publish"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: response.status, json: await response.json() as Record<string, unknown> };
  };
  const stats = async () => (await (await fetch(url("/stats"))).json()) as Record<string, number>;

  before(async () => {
    demo = await startDemo({ TICK_MS: "100", DEMO_DEBUG: "1" });
  });
  after(async () => {
    await demo?.stop();
  });

  it("demo GET / serves the HTML page with inline assets only", async () => {
    const response = await fetch(url("/"));
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "text/html; charset=utf-8");
    assert.match(response.headers.get("content-security-policy") ?? "", /default-src 'none'/);
    const html = await response.text();
    assert.match(html, /^<!doctype html>/);
    assert.match(html, /import \{ connect \} from "\/client\.js"/); // the page runs on sse-hub's client
    assert.doesNotMatch(html, /\b(?:src|href)="(?!data:)/, "no external script, style or link");
  });

  it("demo delivers multi-line, unicode and CRLF messages from POST /publish to EventSource exactly", async () => {
    const topic = uniqueTopic("chat");
    const client = listen(url(`/events/${topic}`));
    await client.opened();
    const messages = [
      "hello",
      "two\nlines",
      "é ☃ 😀",
      "crlf\r\nline\rcr",
      "  indented\n\ttabbed",
      "trailing newline\n",
      "\nleading newline",
      "data: not a field\nid: 99\n\nevent: forged",
      ": not a comment",
      "x".repeat(20_000),
    ];
    const ids: string[] = [];
    for (const msg of messages) {
      const { status, json } = await publish({ topic, msg });
      assert.equal(status, 200);
      assert.equal(json.topic, topic);
      assert.equal(json.delivered, 1);
      ids.push(json.id as string);
    }
    const received = await client.take(messages.length);
    // SSE carries lines: CRLF and CR arrive as LF, everything else byte for byte.
    assert.deepEqual(
      received,
      messages.map((msg, i) => ({ type: "message", data: msg.replace(/\r\n?/g, "\n"), id: ids[i] })),
    );
    client.close();
  });

  it("demo sends the publish's event field as the EventSource event type", async () => {
    const topic = uniqueTopic("typed");
    const client = listen(url(`/events/${topic}`), ["message", "greeting"]);
    await client.opened();
    assert.equal((await publish({ topic, msg: "hi", event: "greeting" })).status, 200);
    assert.equal((await publish({ topic, msg: "plain" })).status, 200);
    assert.deepEqual((await client.take(2)).map((e) => [e.type, e.data]), [["greeting", "hi"], [
      "message",
      "plain",
    ]]);
    client.close();
  });

  it("demo EventSource reconnects with Last-Event-ID after the server drops it and gets what it missed exactly once", async () => {
    const topic = uniqueTopic("resume");
    const client = listen(url(`/events/${topic}`));
    await client.opened();
    assert.equal((await publish({ topic, msg: "m1" })).status, 200);
    await client.take(1);
    const replayedBefore = (await stats()).replayed!;
    const drop = await fetch(url("/debug/drop"), { method: "POST" });
    assert.deepEqual(await drop.json(), { dropped: 1 });
    // The stream is gone (the hub unsubscribed it); the client waits its 1 s retry before reconnecting.
    assert.equal((await publish({ topic, msg: "m2" })).json.delivered, 0);
    assert.equal((await publish({ topic, msg: "m3" })).json.delivered, 0);
    assert.equal((await publish({ topic, msg: "m4\nmulti-line" })).json.delivered, 0);
    await client.opened(2);
    await client.take(4);
    assert.equal((await stats()).replayed! - replayedBefore, 3);
    assert.equal((await publish({ topic, msg: "m5" })).json.delivered, 1);
    const all = await client.take(5);
    assert.deepEqual(all.map((e) => e.data), ["m1", "m2", "m3", "m4\nmulti-line", "m5"]);
    assert.equal(new Set(all.map((e) => e.id)).size, 5);
    assert.ok(client.state.errors >= 1, "the drop was seen as an error (then a reconnect)");
    client.close();
  });

  it("demo replays from the lastEventId query parameter on a first connect", async () => {
    const topic = uniqueTopic("query");
    const ids: string[] = [];
    for (const msg of ["a", "b", "c"]) ids.push((await publish({ topic, msg })).json.id as string);
    const client = listen(url(`/events/${topic}?lastEventId=${ids[0]}`));
    assert.deepEqual((await client.take(2)).map((e) => [e.data, e.id]), [["b", ids[1]], ["c", ids[2]]]);
    client.close();
  });

  it("demo GET /stats and GET /metrics report the hub's counters", async () => {
    await eventually(async () => (await stats()).subscribers === 0, "no subscribers left from earlier tests");
    const topic = uniqueTopic("stats");
    const client = listen(url(`/events/${topic}`));
    await client.opened();
    await publish({ topic, msg: "counted" });
    await client.take(1);
    const response = await fetch(url("/stats"));
    assert.equal(response.headers.get("content-type")?.startsWith("application/json"), true);
    const body = await response.json() as Record<string, number>;
    assert.equal(body.subscribers, 1);
    for (const key of ["topics", "published", "delivered", "dropped", "replayed", "rejected"]) {
      assert.equal(typeof body[key], "number", key);
    }
    assert.ok(body.published! >= 1);
    const metrics = await fetch(url("/metrics"));
    assert.equal(metrics.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    const text = await metrics.text();
    assert.match(text, /^# TYPE sse_hub_subscribers gauge\nsse_hub_subscribers 1$/m);
    assert.match(text, /^# TYPE sse_hub_published_total counter\nsse_hub_published_total \d+$/m);
    client.close();
    await eventually(async () => (await stats()).subscribers === 0, "the client's unsubscribe");
  });

  it("demo refuses each bad publish with its status and the stream keeps serving", async () => {
    const topic = uniqueTopic("guarded");
    const client = listen(url(`/events/${topic}`));
    await client.opened();
    const json = { "content-type": "application/json" };
    const cases: [string, number, RequestInit][] = [
      ["GET", 405, { method: "GET" }],
      ["text/plain", 415, {
        method: "POST",
        headers: { "content-type": "text/plain" },
        body: `{"topic":"${topic}","msg":"x"}`,
      }],
      ["too large", 413, {
        method: "POST",
        headers: json,
        body: JSON.stringify({ topic, msg: "x".repeat(70_000) }),
      }],
      ["invalid JSON", 400, { method: "POST", headers: json, body: `{"topic":"${topic}","msg":` }],
      ["not UTF-8", 400, { method: "POST", headers: json, body: new Uint8Array([0x7b, 0xc3, 0x28, 0x7d]) }],
      ["nested too deep", 400, { method: "POST", headers: json, body: "[".repeat(100) + "]".repeat(100) }],
      ["missing msg", 422, { method: "POST", headers: json, body: JSON.stringify({ topic }) }],
      ["empty msg", 422, { method: "POST", headers: json, body: JSON.stringify({ topic, msg: "" }) }],
      ["invalid topic", 422, {
        method: "POST",
        headers: json,
        body: JSON.stringify({ topic: "no spaces", msg: "x" }),
      }],
      ["forged event", 422, {
        method: "POST",
        headers: json,
        body: JSON.stringify({ topic, msg: "x", event: "a\nb" }),
      }],
    ];
    const expected: string[] = [];
    for (const [name, status, init] of cases) {
      const response = await fetch(url("/publish"), init);
      assert.equal(response.status, status, name);
      assert.equal(typeof (await response.json() as { error?: unknown }).error, "string", name);
      const msg = `after ${name}`;
      expected.push(msg);
      assert.equal((await publish({ topic, msg })).status, 200);
    }
    assert.deepEqual((await client.take(expected.length)).map((e) => e.data), expected);
    assert.equal(client.state.errors, 0);
    assert.equal(client.state.opens, 1);
    client.close();
  });

  it("demo answers 400 to a missing or invalid topic, 405 to a wrong method and 404 to unknown paths", async () => {
    for (
      const [path, status, method] of [
        ["/events/", 400, "GET"],
        ["/events", 400, "GET"],
        ["/events/a%20b", 400, "GET"],
        ["/events/%E0%A4%A", 400, "GET"],
        ["/events/a,,b", 400, "GET"],
        ["/events/chat", 405, "POST"],
        ["/stats", 405, "POST"],
        ["/debug/drop", 405, "GET"],
        ["/nope", 404, "GET"],
        ["/events.php", 404, "GET"],
      ] as const
    ) {
      const response = await fetch(url(path), { method });
      assert.equal(response.status, status, `${method} ${path}`);
      await response.body?.cancel();
    }
  });

  it("demo sends a tick event on topic system every TICK_MS", async () => {
    const client = listen(url("/events/system"), ["tick"]);
    const ticks = await client.take(2);
    for (const tick of ticks) {
      const data = JSON.parse(tick.data) as { time: string; subscribers: number };
      assert.ok(!Number.isNaN(Date.parse(data.time)));
      assert.equal(typeof data.subscribers, "number");
    }
    assert.ok(BigInt(ticks[1]!.id) > BigInt(ticks[0]!.id));
    client.close();
  });
});

describe(`demo process (${runtime})`, () => {
  it("demo without DEMO_DEBUG has no /debug/drop, and shuts down cleanly on SIGTERM with a stream open", async () => {
    const demo = await startDemo({ TICK_MS: "0" });
    try {
      assert.match(demo.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.notEqual(demo.url, "http://127.0.0.1:0");
      const drop = await fetch(`${demo.url}/debug/drop`, { method: "POST" });
      assert.equal(drop.status, 404);
      await drop.body?.cancel();
      const client = listen(`${demo.url}/events/t`);
      await client.opened();
      // The exit code is not checked: Deno's child_process reports the signal it sent (2.9.6).
      const exited = new Promise<void>((resolve) => demo.child.once("exit", () => resolve()));
      demo.child.kill("SIGTERM");
      await withDeadline(exited, 10_000, "exit on SIGTERM");
      assert.match(demo.output(), /\nsse-hub demo stopped\n$/);
      client.close();
    } finally {
      await demo.stop();
    }
  });
});
