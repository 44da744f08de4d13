// A Connection's own behaviour over real servers: closing, listeners, Safari-style streams,
// and backpressure towards a slow iterator.
import { describe, it } from "../helpers/timed.ts";
import assert from "node:assert/strict";
import { connect } from "../../client.ts";
import { Hub } from "../../mod.ts";
import { record } from "../helpers/connection.ts";
import { recordingServer, SSE } from "../helpers/recording_server.ts";
import { serve, until, withDeadline } from "../helpers/server.ts";

describe("Connection", () => {
  it("Connection.close ends iteration at once, and aborting the signal closes it", async () => {
    const hub = new Hub<string>();
    const server = serve((request) => hub.response(request, { topics: "t" }));
    const abort = new AbortController();
    const connection = connect(server.url, { signal: abort.signal });
    const recording = record(connection);
    await until(() => connection.state === "open", "open");
    await until(() => hub.size === 1, "the hub to count the subscriber");
    abort.abort();
    assert.equal(connection.state, "closed");
    await recording.end();
    await withDeadline(connection.closed, 5000, "closed");
    assert.equal(recording.error, undefined);
    await until(() => hub.size === 0, "the server to see the client leave");
    hub.close();
    await server.close();
  });

  it("Connection.on calls listeners by event name, and a throwing listener closes the connection with its error", async () => {
    const body =
      'event: a\ndata: 1\n\nevent: b\ndata: 2\n\nevent: sse-hub:reset\ndata: {"reason":"bus-gap"}\n\n' +
      "event: a\ndata: 3\n\n";
    const { server } = recordingServer(() => new Response(body, { headers: SSE }));
    const connection = connect(server.url);
    const seen: string[] = [];
    connection.on("a", (data, item) => {
      seen.push(`a:${data}:${item.event}`);
      if (data === "3") throw new Error("listener failed");
    });
    connection.on("sse-hub:reset", (item) => seen.push(`reset:${item.reason}`));
    await withDeadline(connection.closed, 10_000, "the throwing listener to close the connection");
    assert.deepEqual(seen, ["a:1:a", "reset:bus-gap", "a:3:a"]);
    assert.equal((connection.error as Error).message, "listener failed");
    await server.close();
  });

  it("Connection.on, added after an event arrived, still gets it, and reading goes on", async () => {
    const { server } = recordingServer(() =>
      new Response("id: 1\ndata: a\n\nid: 2\ndata: b\n\n", { headers: SSE })
    );
    const connection = connect(server.url);
    try {
      await until(() => connection.lastEventId === "1", "the first event, with nobody listening yet");
      const data: string[] = [];
      connection.on("message", (text) => data.push(text));
      await until(() => data.length === 2, "both events");
      assert.deepEqual(data, ["a", "b"]);
    } finally {
      connection.close();
      await server.close();
    }
  });

  it("Connection reads with getReader where ReadableStream is not async-iterable (Safari)", async () => {
    const proto = ReadableStream.prototype as unknown as Record<symbol, unknown>;
    const iterator = proto[Symbol.asyncIterator];
    const { server } = recordingServer(() => new Response("data: a\n\ndata: b\n\n", { headers: SSE }));
    delete proto[Symbol.asyncIterator];
    try {
      assert.equal(Symbol.asyncIterator in new ReadableStream(), false);
      const connection = connect(server.url);
      const items = await record(connection).count(2);
      connection.close();
      assert.deepEqual(items.slice(0, 2).map((item) => item.type === "event" && item.data), ["a", "b"]);
    } finally {
      proto[Symbol.asyncIterator] = iterator;
      await server.close();
    }
  });
});

describe("connect backpressure", () => {
  it("Connection reads no further ahead of a slow iterator than the socket holds", async () => {
    const chunk = new TextEncoder().encode(`data: ${"x".repeat(64 * 1024)}\n\n`);
    const total = 1000; // 64 MiB: a client that read ahead of its iterator would take it all
    let pulled = 0;
    const server = serve(() =>
      new Response(
        new ReadableStream<Uint8Array>({
          pull(controller) {
            if (pulled++ === total) controller.close();
            else controller.enqueue(chunk);
          },
        }, { highWaterMark: 0 }),
        { headers: SSE },
      )
    );
    const connection = connect(server.url);
    const iterator = connection[Symbol.asyncIterator]();
    try {
      assert.equal((await iterator.next()).done, false);
      // Wait until the server stops being pulled (deadline-guarded): the socket buffers are full.
      let seen = -1;
      await withDeadline(
        (async () => {
          while (seen !== pulled) {
            seen = pulled;
            await new Promise((resolve) => setTimeout(resolve, 300));
          }
        })(),
        20_000,
        "the server to stop being pulled",
      );
      assert.ok(
        pulled < total / 2,
        `the server was pulled ${pulled} times of ${total} while the iterator took 1 item`,
      );
      let received = 1;
      while (!(await iterator.next()).done && ++received < total);
      assert.equal(received, total);
    } finally {
      await iterator.return?.();
      await server.close();
    }
  });
});
