import { describe, it } from "../helpers/timed.ts";
import assert from "node:assert/strict";
import { Hub } from "../../mod.ts";
import type { HubOptions } from "../../mod.ts";
import { SseClient } from "../helpers/client.ts";
import { rawRequest } from "../helpers/raw.ts";
import { delay, serve, until } from "../helpers/server.ts";
import type { TestServer } from "../helpers/server.ts";

// GET /events/:topic, or /events?topic=a&topic=b for several.
function start(options: HubOptions = {}, serveOptions = {}) {
  const hub = new Hub<string>(options);
  const server = serve((request) => {
    const url = new URL(request.url);
    const match = /^\/events\/(.*)$/.exec(url.pathname);
    const topics = match ? decodeURIComponent(match[1]!) : url.searchParams.getAll("topic");
    return hub.response(request, { topics });
  }, serveOptions);
  return { hub, server, stop: () => stop(hub, server) };
}

async function stop(hub: Hub<string>, server: TestServer) {
  hub.close();
  await server.close();
}

describe("Hub.response over HTTP", () => {
  it("Hub.response sends SSE headers without hop-by-hop ones and flushes the head at once", async () => {
    const { server, stop } = start({ retry: 1500 });
    const client = await SseClient.connect(`${server.url}/events/news`);
    assert.equal(client.response.status, 200);
    assert.equal(client.response.headers.get("content-type"), "text/event-stream; charset=utf-8");
    assert.equal(client.response.headers.get("cache-control"), "no-cache, no-transform");
    assert.equal(client.response.headers.get("x-accel-buffering"), "no");
    assert.equal(client.response.headers.get("connection"), null);
    assert.equal(await client.textUntil((t) => t.length > 0), "retry: 1500\n\n");
    await client.close();
    await stop();
  });

  it("Hub.response delivers to many subscribers on several topics exactly what was published to them, in order", async () => {
    const { hub, server, stop } = start();
    const topics = ["a", "b", "c"];
    const clients = await Promise.all(
      Array.from({ length: 30 }, (_, i) => SseClient.connect(`${server.url}/events/${topics[i % 3]}`)),
    );
    const both = await SseClient.connect(`${server.url}/events?topic=a&topic=c`);
    await until(() => hub.size === 31, "31 subscribers");
    const sent: Record<string, string[]> = { a: [], b: [], c: [] };
    for (let i = 0; i < 60; i++) {
      const topic = topics[(i * 7) % 3]!;
      const data = `${topic}-${i}\nsecond line`;
      hub.publish(topic, data);
      sent[topic]!.push(data);
    }
    for (const [i, client] of clients.entries()) {
      const expected = sent[topics[i % 3]!]!;
      assert.deepEqual((await client.take(expected.length)).map((e) => e.data), expected);
    }
    const merged = await both.take(40);
    assert.deepEqual(merged.map((e) => e.data).filter((d) => d.startsWith("a")), sent.a);
    assert.deepEqual(merged.map((e) => e.data).filter((d) => d.startsWith("c")), sent.c);
    const ids = merged.map((e) => BigInt(e.id));
    assert.deepEqual(ids, [...ids].sort((x, y) => (x < y ? -1 : 1)));
    assert.equal(hub.stats().delivered, 10 * 60 + 40);
    await Promise.all([...clients, both].map((c) => c.close()));
    await stop();
  });

  for (const overflow of ["close", "drop"] as const) {
    it(`Hub.response keeps fast clients on time while one stops reading (overflow "${overflow}")`, async () => {
      const { hub, server, stop } = start({ bufferBytes: 64 * 1024, overflow, keepAlive: false });
      const stalled = await rawRequest(server.url, "GET /events/big HTTP/1.1\r\nHost: x", { pause: true });
      const fast = await SseClient.connect(`${server.url}/events/big`);
      await until(() => hub.size === 2, "2 subscribers");
      const payload = "x".repeat(64 * 1024);
      let sent = 0;
      // Each event must reach the fast client before the next is published: it never waits for the stalled one.
      while (sent < 2000) {
        hub.publish("big", `${sent}:${payload}`);
        sent++;
        const event = await fast.next();
        assert.equal(event.data, `${sent - 1}:${payload}`);
        const stats = hub.stats();
        if (overflow === "close" ? stats.slowDisconnects > 0 : stats.dropped > 10) break;
      }
      const stats = hub.stats();
      if (overflow === "close") {
        assert.equal(stats.slowDisconnects, 1);
        assert.equal(stats.subscribers, 1);
      } else {
        assert.ok(stats.dropped > 10);
        assert.equal(stats.subscribers, 2);
      }
      assert.ok(sent < 2000, `the stalled client was never handled after ${sent} events`);
      stalled.socket.destroy();
      await fast.close();
      await until(() => hub.size === 0, "no subscribers");
      await stop();
    });
  }

  it("Hub.response unsubscribes 500 clients that vanish abruptly and stops its timer", async () => {
    const { hub, server, stop } = start();
    const fetched = await Promise.all(
      Array.from({ length: 250 }, () => SseClient.connect(`${server.url}/events/t`)),
    );
    const raw = await Promise.all(
      Array.from({ length: 250 }, () => rawRequest(server.url, "GET /events/t HTTP/1.1\r\nHost: x")),
    );
    await until(() => hub.size === 500, "500 subscribers", 20_000);
    assert.equal(hub.stats().timers, 1);
    hub.publish("t", "hello");
    for (const socket of raw) socket.socket.resetAndDestroy?.() ?? socket.socket.destroy();
    await Promise.all(fetched.map((c) => c.close()));
    await until(() => hub.size === 0, "every subscriber gone", 20_000);
    const stats = hub.stats();
    assert.equal(stats.subscribers, 0);
    assert.equal(stats.topics, 0);
    assert.equal(stats.timers, 0);
    await stop();
  });

  // On Bun the hub does not listen to request.signal (reading it costs ~0.6 KB per connection):
  // a client that is gone before its response exists must still never stay subscribed.
  it("Hub.response leaves no subscriber behind for clients that disconnect while authorize runs", async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => release = resolve);
    let waiting = 0, joined = 0, left = 0;
    const { hub, server, stop } = start({
      onJoin: () => joined++,
      onLeave: () => left++,
      authorize: async () => {
        waiting++;
        await released;
        return true;
      },
    });
    const clients = await Promise.all(
      Array.from({ length: 20 }, () => rawRequest(server.url, "GET /events/t HTTP/1.1\r\nHost: x")),
    );
    await until(() => waiting === 20, "20 requests in authorize", 10_000);
    for (const client of clients) client.socket.resetAndDestroy?.() ?? client.socket.destroy();
    await delay(50); // the resets reach the server before the responses exist
    release();
    await until(() => joined === 20 && left === 20, "20 joins, then 20 leaves", 10_000);
    assert.equal(hub.size, 0);
    assert.equal(hub.publish("t", "after").delivered, 0);
    assert.equal(hub.stats().timers, 0);
    await stop();
  });

  it("Hub.response replays what a client missed exactly once when it reconnects with Last-Event-ID, then goes live", async () => {
    const { hub, server, stop } = start();
    const first = await SseClient.connect(`${server.url}/events/t`);
    await until(() => hub.size === 1, "subscriber");
    for (let i = 1; i <= 3; i++) hub.publish("t", `m${i}`);
    const seen = await first.take(3);
    await first.close();
    await until(() => hub.size === 0, "unsubscribed");
    for (let i = 4; i <= 6; i++) hub.publish("t", `m${i}`);
    hub.publish("other", "not mine");
    const again = await SseClient.connect(`${server.url}/events/t`, {
      headers: { "last-event-id": seen[2]!.id },
    });
    assert.deepEqual((await again.take(3)).map((e) => e.data), ["m4", "m5", "m6"]);
    hub.publish("t", "m7");
    assert.deepEqual((await again.take(1)).map((e) => e.data), ["m7"]);
    assert.equal(again.buffered.length, 0);
    assert.equal(hub.stats().replayed, 3);
    // A first connect can resume with ?lastEventId= too.
    const viaQuery = await SseClient.connect(`${server.url}/events/t?lastEventId=${seen[2]!.id}`);
    assert.deepEqual((await viaQuery.take(4)).map((e) => e.data), ["m4", "m5", "m6", "m7"]);
    await again.close();
    await viaQuery.close();
    await stop();
  });

  it("Hub.response sends a reset event with the latest id for an unknown Last-Event-ID, never echoing it", async () => {
    const { hub, server, stop } = start();
    const latest = hub.publish("t", "x").id;
    for (const bad of ["abc", "9".repeat(16), "1".repeat(10_000), "<script>", "é"]) {
      const client = await SseClient.connect(`${server.url}/events/t`, { headers: { "last-event-id": bad } });
      const reset = await client.next();
      assert.deepEqual(reset, { event: "sse-hub:reset", data: '{"reason":"unknown-id"}', id: latest });
      assert.ok(!client.text.includes(bad), "the raw id is never written back");
      await client.close();
    }
    // CR, LF and NUL can only arrive through the query string (a header cannot carry them).
    const client = await SseClient.connect(`${server.url}/events/t?lastEventId=1%0Adata:%20forged%00`);
    assert.deepEqual(await client.next(), {
      event: "sse-hub:reset",
      data: '{"reason":"unknown-id"}',
      id: latest,
    });
    assert.ok(!client.text.includes("forged"));
    await client.close();
    await stop();
  });

  it("Hub.response refuses a Last-Event-ID header with a bare CR or NUL at the runtime, and keeps serving", async () => {
    const { hub, server, stop } = start();
    const live = await SseClient.connect(`${server.url}/events/t`);
    for (const evil of ["1\r2", "1\x002"]) {
      const raw = await rawRequest(server.url, `GET /events/t HTTP/1.1\r\nHost: x\r\nLast-Event-ID: ${evil}`);
      await until(() => raw.received().length > 0 || raw.socket.destroyed, "an answer");
      assert.doesNotMatch(raw.received(), /^HTTP\/1\.1 200/);
      raw.socket.destroy();
    }
    hub.publish("t", "still here");
    assert.equal((await live.next()).data, "still here");
    await live.close();
    await stop();
  });

  it("Hub.response sends a reset then what it still has when the id is older than the history", async () => {
    const { hub, server, stop } = start();
    const ids = Array.from({ length: 1003 }, (_, i) => hub.publish("t", `m${i}`).id);
    const client = await SseClient.connect(`${server.url}/events/t`, {
      headers: { "last-event-id": ids[0]! },
    });
    const [reset, ...rest] = await client.take(1001);
    assert.deepEqual(reset, { event: "sse-hub:reset", data: '{"reason":"history-exceeded"}', id: "" });
    assert.equal(rest[0]!.data, "m3");
    assert.equal(rest.at(-1)!.data, "m1002");
    await client.close();
    await stop();
  });

  it("Hub.response answers 400 to invalid topics and to too many of them", async () => {
    const { hub, server, stop } = start();
    for (
      const path of [
        "/events/",
        "/events/..%2Fetc",
        "/events/a%20b",
        "/events/%00",
        `/events/${"x".repeat(200)}`,
      ]
    ) {
      const response = await fetch(server.url + path);
      assert.equal(response.status, 400, path);
      await response.body?.cancel();
    }
    const many = "?" + Array.from({ length: 500 }, (_, i) => `topic=t${i}`).join("&");
    const response = await fetch(`${server.url}/events${many}`);
    assert.equal(response.status, 400);
    assert.match(await response.text(), /at most 32/);
    assert.equal(hub.size, 0);
    assert.equal(hub.stats().rejected, 6);
    await stop();
  });

  it("Hub.response answers 503 with Retry-After past maxSubscribers", async () => {
    const { hub, server, stop } = start({ maxSubscribers: 2, retryAfter: 7 });
    const a = await SseClient.connect(`${server.url}/events/t`);
    const b = await SseClient.connect(`${server.url}/events/t`);
    const refused = await fetch(`${server.url}/events/t`);
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get("retry-after"), "7");
    await refused.body?.cancel();
    hub.publish("t", "ok");
    assert.equal((await a.next()).data, "ok");
    assert.equal((await b.next()).data, "ok");
    await Promise.all([a.close(), b.close()]);
    await stop();
  });

  it("Hub.response lets authorize refuse with 403 or its own response before subscribing", async () => {
    const { hub, server, stop } = start({
      authorize: async (request, topics) => {
        await delay(1);
        if (!request.headers.has("authorization")) return new Response("login first", { status: 401 });
        return !topics.includes("secret");
      },
    });
    const anonymous = await fetch(`${server.url}/events/t`);
    assert.equal(anonymous.status, 401);
    assert.equal(await anonymous.text(), "login first");
    const forbidden = await fetch(`${server.url}/events/secret`, { headers: { authorization: "x" } });
    assert.equal(forbidden.status, 403);
    await forbidden.body?.cancel();
    assert.equal(hub.stats().subscribers, 0);
    const allowed = await SseClient.connect(`${server.url}/events/t`, { headers: { authorization: "x" } });
    assert.equal(allowed.response.status, 200);
    await allowed.close();
    await stop();
  });

  it("Hub.response sends each subscriber only what its filter accepts, live and replayed", async () => {
    const hub = new Hub<string>();
    const server = serve((request) =>
      hub.response(request, {
        topics: "t",
        filter: (m) => m.data.startsWith(new URL(request.url).searchParams.get("p")!),
      })
    );
    const first = hub.publish("t", "a1").id;
    hub.publish("t", "b1");
    hub.publish("t", "a2");
    const a = await SseClient.connect(`${server.url}/?p=a`, {
      headers: { "last-event-id": String(BigInt(first) - 1n) },
    });
    assert.deepEqual((await a.take(2)).map((e) => e.data), ["a1", "a2"]);
    hub.publish("t", "b2");
    hub.publish("t", "a3");
    assert.deepEqual((await a.take(1)).map((e) => e.data), ["a3"]);
    await a.close();
    await stop(hub, server);
  });

  it("Hub.close ends every stream after a last event, and later requests get 204 or 503", async () => {
    for (const closedStatus of [204, 503] as const) {
      const { hub, server } = start({ closedStatus });
      const client = await SseClient.connect(`${server.url}/events/t`);
      await until(() => hub.size === 1, "subscriber");
      hub.publish("t", "last live");
      hub.close({ event: { event: "shutdown", data: "bye" }, retry: 30000 });
      const events = await client.end();
      assert.deepEqual(events.map((e) => [e.event, e.data]), [["message", "last live"], ["shutdown", "bye"]]);
      assert.equal(events[1]!.retry, 30000);
      const after = await fetch(`${server.url}/events/t`);
      assert.equal(after.status, closedStatus);
      await after.body?.cancel();
      await server.close();
    }
  });

  it("Hub.response keeps an idle stream open past 12 s on the runtime's default server options", async () => {
    const { hub, server, stop } = start();
    const client = await SseClient.connect(`${server.url}/events/quiet`);
    await delay(12_500);
    assert.equal(client.ended, false, `the stream ended: ${String(client.error)}`);
    assert.ok(client.comments.length >= 2, `keep-alive comments seen: ${client.comments.length}`);
    hub.publish("quiet", "still open");
    assert.equal((await client.next()).data, "still open");
    await client.close();
    await stop();
  });
});
