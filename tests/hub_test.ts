import { describe, it } from "./helpers/timed.ts";
import assert from "node:assert/strict";
import { EventFieldError, Hub, HubError } from "../mod.ts";
import type { HubMessage } from "../mod.ts";
import { read } from "./helpers/client.ts";
import { withDeadline } from "./helpers/server.ts";

describe("Hub.publish", () => {
  it("Hub.publish returns the topic, an increasing id and the subscribers reached", async () => {
    const hub = new Hub<string>();
    const a = hub.subscribe("news");
    const b = hub.subscribe(["news", "sport"]);
    const first = hub.publish("news", "one");
    const second = hub.publish("sport", "two");
    assert.equal(first.topic, "news");
    assert.equal(first.delivered, 2);
    assert.equal(second.delivered, 1);
    assert.ok(BigInt(second.id) === BigInt(first.id) + 1n);
    assert.deepEqual((await read(a, 1)).map((m) => m.data), ["one"]);
    assert.deepEqual((await read(b, 2)).map((m) => [m.topic, m.data]), [["news", "one"], ["sport", "two"]]);
    hub.close();
  });

  it("Hub.publish reaches nobody and still records when a topic has no subscribers", () => {
    const hub = new Hub<number>();
    assert.equal(hub.publish("empty", 1).delivered, 0);
    assert.equal(hub.stats().published, 1);
    assert.equal(hub.stats().topics, 0);
    hub.close();
  });

  it("Hub.publish throws HubError invalid-topic for a bad topic name", () => {
    const hub = new Hub<string>();
    for (const bad of ["", "a/b", "../etc", ".hidden", "a b", "x".repeat(129), "a\nb"]) {
      assert.throws(
        () => hub.publish(bad, "x"),
        (e: unknown) => e instanceof HubError && e.type === "invalid-topic",
      );
    }
    hub.close();
  });

  it("Hub.publish throws EventFieldError for a forged event name and consumes no id", async () => {
    const hub = new Hub<string>();
    const sub = hub.subscribe("t");
    const before = hub.publish("t", "a").id;
    assert.throws(() => hub.publish("t", "x", { event: "e\ndata: forged" }), EventFieldError);
    const after = hub.publish("t", "b").id;
    assert.equal(BigInt(after), BigInt(before) + 1n);
    assert.deepEqual((await read(sub, 2)).map((m) => m.data), ["a", "b"]);
    assert.equal(hub.stats().published, 2);
    hub.close();
  });

  it("Hub.publish throws HubError closed after close", () => {
    const hub = new Hub<string>();
    hub.close();
    assert.throws(() => hub.publish("t", "x"), (e: unknown) => e instanceof HubError && e.type === "closed");
    assert.throws(() => hub.subscribe("t"), (e: unknown) => e instanceof HubError && e.type === "closed");
  });

  it("Hub.publish serializes once with the hub's serializer", async () => {
    let calls = 0;
    const hub = new Hub<{ n: number }>({ serialize: (v) => (calls++, `n=${(v as { n: number }).n}`) });
    const streams = [1, 2, 3].map(() => hub.response(new Request("http://x/"), { topics: "t" }));
    const bodies = await Promise.all(streams);
    hub.publish("t", { n: 7 });
    assert.equal(calls, 1);
    hub.close();
    for (const response of bodies) {
      assert.match(
        await withDeadline(response.text(), 5000, "the whole body"),
        /^:\n\nid: \d+\ndata: n=7\n\n$/,
      );
    }
  });
});

describe("Hub.response", () => {
  it("Hub.response takes a custom status and headers, and keeps the SSE ones", async () => {
    const hub = new Hub<string>();
    const response = await hub.response(new Request("http://x/"), {
      topics: "t",
      status: 201,
      headers: { "access-control-allow-origin": "*", "cache-control": "no-store" },
    });
    assert.equal(response.status, 201);
    assert.equal(response.headers.get("access-control-allow-origin"), "*");
    assert.equal(response.headers.get("cache-control"), "no-store");
    assert.equal(response.headers.get("content-type"), "text/event-stream; charset=utf-8");
    await response.body!.cancel();
    assert.equal(hub.size, 0);
    hub.close();
  });
});

describe("Hub.subscribe", () => {
  it("Hub.subscribe is an async iterable that unsubscribes when the loop breaks", async () => {
    const hub = new Hub<string>();
    const stream = hub.subscribe("t");
    hub.publish("t", "a", { event: "greet" });
    hub.publish("t", "b");
    const seen: HubMessage<string>[] = [];
    for await (const message of stream) {
      seen.push(message);
      if (seen.length === 2) break;
    }
    assert.deepEqual(seen.map((m) => [m.event, m.data]), [["greet", "a"], [undefined, "b"]]);
    assert.equal(hub.size, 0);
    assert.equal(hub.stats().topics, 0);
    hub.close();
  });

  it("Hub.subscribe applies the filter", async () => {
    const hub = new Hub<number>();
    const even = hub.subscribe("n", { filter: (m) => m.data % 2 === 0 });
    for (let i = 1; i <= 6; i++) hub.publish("n", i);
    assert.deepEqual((await read(even, 3)).map((m) => m.data), [2, 4, 6]);
    hub.close();
  });

  it("Hub.subscribe closes a subscriber whose filter throws, and nobody else notices", async () => {
    const hub = new Hub<number>();
    const bad = hub.subscribe("n", {
      filter: () => {
        throw new Error("boom");
      },
    });
    const good = hub.subscribe("n");
    assert.equal(hub.publish("n", 1).delivered, 1);
    await assert.rejects(read(bad, 1), /boom/);
    assert.deepEqual((await read(good, 1)).map((m) => m.data), [1]);
    assert.equal(hub.size, 1);
    hub.close();
  });

  it("Hub.subscribe unsubscribes when its signal aborts", () => {
    const hub = new Hub<string>();
    const controller = new AbortController();
    hub.subscribe("t", { signal: controller.signal });
    assert.equal(hub.size, 1);
    controller.abort();
    assert.equal(hub.size, 0);
    hub.close();
  });

  it("Hub.subscribe throws HubError too-many-subscribers past maxSubscribers", () => {
    const hub = new Hub({ maxSubscribers: 2 });
    hub.subscribe("a");
    hub.subscribe("b");
    assert.throws(
      () => hub.subscribe("c"),
      (e: unknown) => e instanceof HubError && e.type === "too-many-subscribers",
    );
    hub.close();
  });

  it("Hub.subscribe throws HubError invalid-topic for no topics or too many", () => {
    const hub = new Hub({ maxTopicsPerSubscriber: 3 });
    assert.throws(() => hub.subscribe([]), HubError);
    assert.throws(() => hub.subscribe(["a", "b", "c", "d"]), HubError);
    assert.throws(() => hub.subscribe("a/../b"), HubError);
    hub.close();
  });
});

describe("Hub.close", () => {
  it("Hub.close sends the last event with a retry hint, then ends every stream", async () => {
    const hub = new Hub<string>();
    const response = await hub.response(new Request("http://x/"), { topics: "t" });
    const messages = hub.subscribe("t");
    hub.publish("t", "before");
    hub.close({ event: { event: "bye", data: "shutting down" }, retry: 60000 });
    const body = await withDeadline(new Response(response.body).text(), 5000, "the whole body");
    assert.match(body, /^:\n\nid: \d+\ndata: before\n\nevent: bye\nretry: 60000\ndata: shutting down\n\n$/);
    assert.deepEqual((await read(messages, 10, 5000)).map((m) => m.data), ["before"]);
    assert.equal(hub.stats().subscribers, 0);
    assert.equal(hub.stats().timers, 0);
    assert.equal(hub.closed, true);
  });

  it("Hub.close throws on an invalid last event and leaves the hub open", () => {
    const hub = new Hub<string>();
    assert.throws(() => hub.close({ event: { event: "a\nb" } }), EventFieldError);
    assert.equal(hub.closed, false);
    hub.close();
  });
});

describe("Hub.stats", () => {
  it("Hub.stats counts deliveries and runs the keep-alive timer only while there are subscribers", async () => {
    const hub = new Hub<string>();
    assert.equal(hub.stats().timers, 0);
    const a = hub.subscribe(["x", "y"]);
    const response = await hub.response(new Request("http://x/"), { topics: "x" });
    assert.equal(hub.stats().timers, 1);
    hub.publish("x", "1");
    hub.publish("y", "2");
    assert.deepEqual(
      { ...hub.stats() },
      {
        subscribers: 2,
        topics: 2,
        timers: 1,
        published: 2,
        delivered: 3,
        dropped: 0,
        slowDisconnects: 0,
        replayed: 0,
        rejected: 0,
        bridgeErrors: 0,
        bridgeGaps: 0,
      },
    );
    await a.cancel();
    await response.body!.cancel();
    assert.equal(hub.stats().subscribers, 0);
    assert.equal(hub.stats().topics, 0);
    assert.equal(hub.stats().timers, 0);
    hub.close();
  });
});
