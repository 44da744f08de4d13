// createEventStream and eventStreamResponse over a real Deno.serve / Bun.serve server.
import { describe, it } from "../helpers/timed.ts";
import assert from "node:assert/strict";
import { createEventStream, eventStreamResponse } from "../../mod.ts";
import type { EventStream } from "../../mod.ts";
import { SseClient } from "../helpers/client.ts";
import { delay, serve, until, withDeadline } from "../helpers/server.ts";

describe("eventStreamResponse over HTTP", () => {
  it("eventStreamResponse delivers LLM-style tokens in order and ends with the final event", async () => {
    const words = Array.from({ length: 50 }, (_, i) => `token-${i} `);
    async function* tokens() {
      for (const [i, word] of words.entries()) {
        if (i % 10 === 0) await delay(1); // an upstream that yields now and then
        yield word;
      }
      yield { event: "usage", data: { tokens: words.length } };
    }
    const server = serve(() => eventStreamResponse(tokens(), { final: { event: "done", data: "[DONE]" } }));
    try {
      const client = await SseClient.connect(`${server.url}/chat`);
      assert.equal(client.response.status, 200);
      assert.equal(client.response.headers.get("content-type"), "text/event-stream; charset=utf-8");
      const events = await client.end();
      assert.deepEqual(events.slice(0, words.length).map((e) => e.data), words);
      assert.deepEqual(events.slice(words.length).map((e) => [e.event, e.data]), [
        ["usage", '{"tokens":50}'],
        ["done", "[DONE]"],
      ]);
    } finally {
      await server.close();
    }
  });

  it("eventStreamResponse runs the generator's finally block when the client disconnects", async () => {
    let cleaned = false;
    let aborted = false;
    const server = serve(() =>
      eventStreamResponse((signal) => {
        signal.addEventListener("abort", () => aborted = true);
        return (async function* () {
          try {
            for (let i = 0;; i++) {
              yield String(i);
              await delay(5);
            }
          } finally {
            cleaned = true;
          }
        })();
      })
    );
    try {
      const client = await SseClient.connect(`${server.url}/chat`);
      assert.deepEqual((await client.take(3)).map((e) => e.data), ["0", "1", "2"]);
      assert.equal(cleaned, false);
      await client.close();
      await until(() => cleaned && aborted, "the generator's finally block and the abort");
    } finally {
      await server.close();
    }
  });

  it("eventStreamResponse stops pulling when the client stops reading", async () => {
    const chunk = "x".repeat(16 * 1024);
    let pulled = 0;
    async function* endless() {
      for (;;) {
        pulled++;
        yield chunk;
      }
    }
    const server = serve(() => eventStreamResponse(endless(), { keepAlive: false }));
    const abort = new AbortController();
    try {
      const response = await fetch(`${server.url}/big`, { signal: abort.signal });
      const reader = response.body!.getReader();
      await reader.read(); // the client reads once, then stops
      // Wait until the producer settles (socket buffers full), deadline-guarded: an eager
      // stream would pull forever and never settle.
      let last = -1;
      let still = 0;
      await until(
        () => {
          still = pulled === last ? still + 1 : 0;
          last = pulled;
          return still >= 20;
        },
        "the producer to stop",
        30_000,
      );
      assert.ok(pulled * chunk.length < 64 * 1024 * 1024, `pulled ${pulled} events of 16 KiB`);
      await reader.cancel();
    } finally {
      abort.abort();
      await server.close();
    }
  });
});

describe("createEventStream over HTTP", () => {
  it("EventStream.send delivers events in order and close ends the response", async () => {
    const server = serve(() => {
      const stream = createEventStream<{ n: number }>({ retry: 1000 });
      void (async () => {
        for (let n = 0; n < 20; n++) {
          await stream.ready;
          stream.send({ event: "progress", id: String(n), data: { n } });
        }
        stream.close({ event: "done", data: "" });
      })();
      return stream.response;
    });
    try {
      const client = await SseClient.connect(`${server.url}/job`);
      const events = await client.end();
      assert.equal(events.length, 21);
      assert.equal(events[0]!.retry, undefined); // the retry block carries no data: not dispatched
      assert.match(client.text, /^retry: 1000\n\n/);
      assert.deepEqual(
        events.slice(0, 20).map((e) => e.data),
        Array.from({ length: 20 }, (_, n) => `{"n":${n}}`),
      );
      assert.deepEqual(events.map((e) => e.id).slice(0, 3), ["0", "1", "2"]);
      assert.equal(events[20]!.event, "done");
    } finally {
      await server.close();
    }
  });

  it("EventStream.signal aborts and closed resolves when the client disconnects", async () => {
    let stream: EventStream | undefined;
    const server = serve(() => {
      stream = createEventStream();
      stream.send("hello");
      return stream.response;
    });
    try {
      const client = await SseClient.connect(`${server.url}/job`);
      assert.equal((await client.next()).data, "hello");
      assert.equal(stream!.open, true);
      await client.close();
      await withDeadline(stream!.closed, 10_000, "closed after the client left");
      assert.equal(stream!.signal.aborted, true);
      assert.equal(stream!.open, false);
      assert.equal(stream!.send("too late"), false);
    } finally {
      await server.close();
    }
  });

  it("createEventStream sends keep-alive comments over a quiet connection", async () => {
    let stream: EventStream | undefined;
    const server = serve(() => {
      stream = createEventStream({ keepAlive: 20 });
      return stream.response;
    });
    try {
      const client = await SseClient.connect(`${server.url}/quiet`);
      await client.textUntil((text) => text.startsWith(":\n\n:\n:\n"));
      assert.equal(client.buffered.length, 0);
      stream!.close();
      await client.end();
    } finally {
      await server.close();
    }
  });
});
