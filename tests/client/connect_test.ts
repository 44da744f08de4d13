// The client against real servers on the runtime running the test (Deno.serve / Bun.serve):
// what it sends on every attempt, and how it reconnects, resumes and stops.
import { describe, it } from "../helpers/timed.ts";
import assert from "node:assert/strict";
import { ClientError, connect } from "../../client.ts";
import type { ConnectionState, Failure } from "../../client.ts";
import { Hub } from "../../mod.ts";
import { record } from "../helpers/connection.ts";
import { recordingServer, SSE } from "../helpers/recording_server.ts";
import { serve, withDeadline } from "../helpers/server.ts";

describe("connect", () => {
  it("connect yields events with name, data and id, and the hub's reset as its own item", async () => {
    const hub = new Hub<string>();
    const server = serve((request) => hub.response(request, { topics: "news" }));
    const before = hub.publish("news", "before");
    const connection = connect(`${server.url}/events`, { lastEventId: "not-an-id" }); // unknown to this hub
    const recording = record(connection);
    try {
      await recording.count(1);
      hub.publish("news", "one\ntwo", { event: "story" });
      const items = await recording.count(2);
      assert.deepEqual(items[0], { type: "reset", reason: "unknown-id", id: items[0]!.id });
      assert.equal(items[0]!.id, before.id); // the hub's newest id: the next reconnect resumes from now
      assert.equal(items[1]!.type, "event");
      assert.deepEqual(items[1], { type: "event", event: "story", data: "one\ntwo", id: items[1]!.id });
      assert.equal(connection.lastEventId, items[1]!.id);
    } finally {
      connection.close();
      hub.close();
      await server.close();
    }
  });

  it("connect calls the headers function before every attempt and resumes with Last-Event-ID", async () => {
    const { server, seen } = recordingServer((n) =>
      new Response(`retry: 5\nid: ${n + 1}\ndata: ${n + 1}\n\n`, { headers: SSE })
    );
    let tokens = 0;
    const connection = connect(server.url, {
      headers: () => Promise.resolve({ authorization: `Bearer t${tokens++}` }), // an async function
    });
    const recording = record(connection);
    try {
      const items = await recording.count(3);
      assert.deepEqual(items.slice(0, 3).map((item) => item.type === "event" && item.data), ["1", "2", "3"]);
      assert.deepEqual(seen.slice(0, 3).map((s) => s.headers.get("authorization")), [
        "Bearer t0",
        "Bearer t1",
        "Bearer t2",
      ]);
      assert.deepEqual(seen.slice(0, 3).map((s) => s.headers.get("last-event-id")), [null, "1", "2"]);
      assert.ok(seen.every((s) => s.headers.get("accept") === "text/event-stream"));
      assert.ok(connection.reconnects >= 2);
    } finally {
      connection.close();
      await server.close();
    }
  });

  it("connect puts the last event id in the lastEventId query parameter when lastEventIdIn is query", async () => {
    const { server, seen } = recordingServer((n) =>
      new Response(`retry: 5\nid: a${n}\ndata: x\n\n`, { headers: SSE })
    );
    const connection = connect(`${server.url}/s?topic=a`, { lastEventId: "start", lastEventIdIn: "query" });
    try {
      await record(connection).count(2);
      assert.deepEqual(seen.slice(0, 2).map((s) => s.url.search), [
        "?topic=a&lastEventId=start",
        "?topic=a&lastEventId=a0",
      ]);
      assert.equal(seen[0]!.headers.get("last-event-id"), null);
    } finally {
      connection.close();
      await server.close();
    }
  });

  it("connect POSTs its body again on every reconnect", async () => {
    const { server, seen } = recordingServer(() => new Response("retry: 5\ndata: x\n\n", { headers: SSE }));
    const body = JSON.stringify({ topics: ["a", "b"], note: "é 😀" });
    const connection = connect(server.url, {
      method: "POST",
      body,
      headers: { "content-type": "application/json" },
    });
    try {
      await record(connection).count(2);
      assert.deepEqual(seen.slice(0, 2).map((s) => [s.method, s.body, s.headers.get("content-type")]), [
        ["POST", body, "application/json"],
        ["POST", body, "application/json"],
      ]);
    } finally {
      connection.close();
      await server.close();
    }
  });

  it("connect stops without an error when the server answers 204", async () => {
    const { server, seen } = recordingServer((n) =>
      n === 0 ? new Response("data: x\n\n", { headers: SSE }) : new Response(null, { status: 204 })
    );
    const states: ConnectionState[] = [];
    const connection = connect(server.url, {
      onState: (state) => states.push(state),
      backoff: { initial: 10 },
    });
    const recording = record(connection);
    await withDeadline(connection.closed, 10_000, "the connection to stop on 204");
    await recording.end();
    assert.equal(connection.error, undefined);
    assert.equal(recording.error, undefined);
    assert.equal(recording.items.length, 1);
    assert.equal(seen.length, 2);
    assert.deepEqual(states, ["open", "connecting", "closed"]);
    await server.close();
  });

  it("connect stops with a status ClientError on 401, after asking onFailure", async () => {
    const { server, seen } = recordingServer(() => new Response("who are you?", { status: 401 }));
    const failures: Failure[] = [];
    const connection = connect(server.url, { onFailure: (failure) => void failures.push(failure) });
    const recording = record(connection);
    await recording.end();
    assert.ok(recording.error instanceof ClientError);
    assert.equal(recording.error, connection.error);
    assert.equal((recording.error as ClientError).type, "status");
    assert.equal((recording.error as ClientError).status, 401);
    assert.deepEqual(failures.map((f) => [f.error.status, f.attempt, f.delay]), [[401, 0, undefined]]);
    assert.equal(seen.length, 1);
    assert.equal(connection.state, "closed");
    await server.close();
  });

  it("connect retries a 401 when onFailure says so (e.g. after refreshing a token)", async () => {
    const { server, seen } = recordingServer((_, request) =>
      request.headers.get("authorization") === "Bearer fresh"
        ? new Response("data: in\n\n", { headers: SSE })
        : new Response(null, { status: 401 })
    );
    let token = "stale";
    const connection = connect(server.url, {
      headers: () => ({ authorization: `Bearer ${token}` }),
      onFailure: ({ error }) => {
        if (error.status !== 401) return undefined;
        token = "fresh";
        return 0;
      },
    });
    try {
      const [item] = await record(connection).count(1);
      assert.deepEqual(item, { type: "event", event: "message", data: "in", id: "" });
      assert.deepEqual(seen.slice(0, 2).map((s) => s.headers.get("authorization")), [
        "Bearer stale",
        "Bearer fresh",
      ]);
    } finally {
      connection.close();
      await server.close();
    }
  });

  it("connect waits the Retry-After of a 503 before it tries again", async () => {
    const { server, seen } = recordingServer((n) =>
      n === 0
        ? new Response("busy", { status: 503, headers: { "retry-after": "1" } })
        : new Response("data: x\n\n", { headers: SSE })
    );
    const failures: Failure[] = [];
    const connection = connect(server.url, { onFailure: (failure) => void failures.push(failure) });
    try {
      await record(connection).count(1);
      assert.equal(failures[0]!.error.retryAfter, 1000);
      assert.equal(failures[0]!.delay, 1000);
      assert.ok(seen[1]!.at - seen[0]!.at >= 990, `retried after ${seen[1]!.at - seen[0]!.at} ms`);
    } finally {
      connection.close();
      await server.close();
    }
  });

  it("connect counts failures in a row for its backoff, and starts again after a healthy connection", async () => {
    const answers = [500, 502, 200, 503, 204];
    const { server } = recordingServer((n) =>
      answers[n] === 200
        ? new Response("data: healthy\n\n", { headers: SSE })
        : new Response(null, { status: answers[n]! })
    );
    const failures: Failure[] = [];
    const connection = connect(server.url, {
      backoff: { initial: 10, max: 20 },
      onFailure: (failure) => void failures.push(failure),
    });
    connection.on("message", () => {}); // consumed: a connection nobody reads holds its first event
    await withDeadline(connection.closed, 10_000, "the 204 at the end");
    assert.deepEqual(failures.map((f) => [f.error.type, f.error.status, f.attempt]), [
      ["status", 500, 0],
      ["status", 502, 1],
      ["ended", undefined, 0], // the stream delivered an event: healthy
      ["status", 503, 1],
      ["status", 204, 2],
    ]);
    assert.ok(
      failures.slice(0, 4).every((f) => f.delay! >= 0 && f.delay! < 20),
      `${failures.map((f) => f.delay)}`,
    );
    assert.equal(failures[4]!.delay, undefined);
    await server.close();
  });

  it("connect fails with a content-type ClientError on a 200 that is not an event stream", async () => {
    const { server, seen } = recordingServer(() => Response.json({ not: "sse" }));
    const connection = connect(server.url);
    const recording = record(connection);
    await recording.end();
    const error = recording.error as ClientError;
    assert.equal(error.type, "content-type");
    assert.match(error.message, /expected text\/event-stream, got "application\/json/);
    assert.equal(seen.length, 1);
    await server.close();
  });

  it("connect reports a network failure and retries with backoff when nothing listens", async () => {
    const { server } = recordingServer(() => new Response(null, { status: 204 }));
    const url = server.url;
    await server.close(); // nothing listens on this port any more
    const failures: Failure[] = [];
    const connection = connect(url, {
      backoff: { initial: 20, max: 40 },
      onFailure: (failure) => {
        failures.push(failure);
        return failures.length === 3 ? "stop" : undefined;
      },
    });
    await withDeadline(connection.closed, 10_000, "three failed attempts");
    assert.deepEqual(failures.map((f) => [f.error.type, f.attempt]), [["network", 0], ["network", 1], [
      "network",
      2,
    ]]);
    assert.ok(failures.every((f) => f.delay! >= 0 && f.delay! < 40), `${failures.map((f) => f.delay)}`);
    assert.equal((connection.error as ClientError).type, "network");
    assert.equal(connection.reconnects, 2);
  });
});
