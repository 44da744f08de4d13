import { describe, it } from "./helpers/timed.ts";
import assert from "node:assert/strict";
import { createEventStream, EventFieldError, eventStreamResponse } from "../mod.ts";
import { MOD, runScript } from "./helpers/script.ts";
import { until, withDeadline } from "./helpers/server.ts";

const decoder = new TextDecoder();

/** Reads chunks until the text holds `count` blank-line-ended blocks (the opening comment included). */
async function readBlocks(reader: ReadableStreamDefaultReader<Uint8Array>, count: number): Promise<string> {
  let text = "";
  while (text.split("\n\n").length - 1 < count) {
    const { value, done } = await withDeadline(reader.read(), 5000, "a chunk");
    if (done) break;
    text += decoder.decode(value);
  }
  return text;
}

async function readAll(response: Response): Promise<string> {
  return await withDeadline(response.text(), 5000, "the whole body");
}

describe("createEventStream", () => {
  it("createEventStream answers with SSE headers, extra headers and an opening comment", async () => {
    const stream = createEventStream({ headers: { "access-control-allow-origin": "*" }, keepAlive: false });
    assert.equal(stream.response.status, 200);
    assert.equal(stream.response.headers.get("content-type"), "text/event-stream; charset=utf-8");
    assert.equal(stream.response.headers.get("cache-control"), "no-cache, no-transform");
    assert.equal(stream.response.headers.get("access-control-allow-origin"), "*");
    stream.close();
    assert.equal(await readAll(stream.response), ":\n\n");
  });

  it("createEventStream opens with a retry hint when `retry` is set", async () => {
    const stream = createEventStream({ retry: 2500, keepAlive: false });
    stream.close();
    assert.equal(await readAll(stream.response), "retry: 2500\n\n");
  });

  it("createEventStream throws EventFieldError when `retry` is invalid", () => {
    assert.throws(() => createEventStream({ retry: -1 }), EventFieldError);
  });

  it("EventStream.send sends a string as data and an object as a whole event", async () => {
    const stream = createEventStream<{ n: number }>({ keepAlive: false });
    assert.equal(stream.send("a\nb"), true);
    assert.equal(stream.send({ event: "tick", id: "7", data: { n: 1 } }), true);
    stream.close();
    assert.equal(
      await readAll(stream.response),
      ':\n\ndata: a\ndata: b\n\nevent: tick\nid: 7\ndata: {"n":1}\n\n',
    );
  });

  it("EventStream.send uses the `serialize` option for non-string data", async () => {
    const stream = createEventStream({ keepAlive: false, serialize: (value) => `<${String(value)}>` });
    stream.send({ data: 5 });
    stream.send("as is");
    stream.close();
    assert.equal(await readAll(stream.response), ":\n\ndata: <5>\n\ndata: as is\n\n");
  });

  it("EventStream.send throws EventFieldError and writes nothing when the event is invalid", async () => {
    const stream = createEventStream({ keepAlive: false });
    assert.throws(() => stream.send({ event: "x\ndata: forged", data: "hi" }), (error: unknown) => {
      assert.ok(error instanceof EventFieldError);
      assert.equal(error.field, "event");
      return true;
    });
    assert.throws(() => stream.send("\uD800"), EventFieldError);
    assert.equal(stream.open, true);
    stream.send("ok");
    stream.close();
    assert.equal(await readAll(stream.response), ":\n\ndata: ok\n\n");
  });

  it("EventStream.comment sends comment lines", async () => {
    const stream = createEventStream({ keepAlive: false });
    assert.equal(stream.comment("a\nb"), true);
    stream.close();
    assert.equal(await readAll(stream.response), ":\n\n: a\n: b\n");
  });

  it("EventStream.close sends the final event, ends the body, aborts the signal and resolves closed", async () => {
    const stream = createEventStream({ keepAlive: false });
    stream.send("one");
    stream.close({ event: "done", data: "" });
    assert.equal(stream.open, false);
    assert.equal(stream.signal.aborted, true);
    await withDeadline(stream.closed, 5000, "closed");
    assert.equal(await readAll(stream.response), ":\n\ndata: one\n\nevent: done\ndata: \n\n");
  });

  it("EventStream.send and comment return false without throwing after close", () => {
    const stream = createEventStream({ keepAlive: false });
    stream.close();
    assert.equal(stream.send("late"), false);
    assert.equal(stream.send({ event: "bad\n" }), false);
    assert.equal(stream.comment("late"), false);
    assert.doesNotThrow(() => stream.close("again"));
    assert.equal(stream.desiredSize, 0);
  });

  it("EventStream.close throws and keeps the stream open when the final event is invalid", async () => {
    const stream = createEventStream({ keepAlive: false });
    assert.throws(() => stream.close({ id: "a\rb" }), EventFieldError);
    assert.equal(stream.open, true);
    assert.equal(stream.signal.aborted, false);
    stream.close("bye");
    assert.equal(await readAll(stream.response), ":\n\ndata: bye\n\n");
  });

  it("EventStream.signal aborts and closed resolves when the client cancels the body", async () => {
    const stream = createEventStream({ keepAlive: false });
    const reader = stream.response.body!.getReader();
    await readBlocks(reader, 1);
    await reader.cancel();
    assert.equal(stream.signal.aborted, true);
    assert.ok(stream.signal.reason instanceof DOMException);
    assert.equal((stream.signal.reason as DOMException).name, "AbortError");
    await withDeadline(stream.closed, 5000, "closed");
    assert.equal(stream.open, false);
    assert.equal(stream.send("gone"), false);
  });

  it("EventStream.ready stays pending past `bufferBytes` and resolves when the client reads", async () => {
    const stream = createEventStream({ keepAlive: false, bufferBytes: 100 });
    const reader = stream.response.body!.getReader();
    await readBlocks(reader, 1); // the opening comment
    await stream.ready;
    stream.send("x".repeat(200));
    assert.ok(stream.desiredSize <= 0);
    let ready = false;
    const waiting = stream.ready.then(() => ready = true);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(ready, false);
    await readBlocks(reader, 1);
    await withDeadline(waiting, 5000, "ready after a read");
    assert.equal(stream.desiredSize, 100);
    stream.close();
  });

  it("EventStream.ready resolves when the client leaves while it waits", async () => {
    const stream = createEventStream({ keepAlive: false, bufferBytes: 10 });
    stream.send("x".repeat(50));
    const waiting = stream.ready;
    await stream.response.body!.cancel();
    await withDeadline(waiting, 5000, "ready after cancel");
    assert.equal(stream.open, false);
  });
});

describe("eventStreamResponse", () => {
  it("eventStreamResponse sends every yielded event in order, then the final event, then ends", async () => {
    async function* tokens() {
      yield "Hel";
      yield "lo";
      yield { event: "usage", data: { tokens: 2 } };
    }
    const response = eventStreamResponse(tokens(), { final: { event: "done", data: "" }, keepAlive: false });
    assert.equal(response.headers.get("content-type"), "text/event-stream; charset=utf-8");
    assert.equal(
      await readAll(response),
      ':\n\ndata: Hel\n\ndata: lo\n\nevent: usage\ndata: {"tokens":2}\n\nevent: done\ndata: \n\n',
    );
  });

  it("eventStreamResponse pulls the next event only when the client reads", async () => {
    let pulled = 0;
    async function* endless() {
      for (;;) {
        pulled++;
        yield `token ${pulled}`;
      }
    }
    const response = eventStreamResponse(endless(), { keepAlive: false });
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(pulled, 0);
    const reader = response.body!.getReader();
    const text = await readBlocks(reader, 4);
    assert.equal(text, ":\n\ndata: token 1\n\ndata: token 2\n\ndata: token 3\n\n");
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(pulled, 3);
    await reader.cancel();
  });

  it("eventStreamResponse calls the iterator's return() when the client leaves", async () => {
    let cleaned = false;
    async function* tokens() {
      try {
        for (let i = 0;; i++) yield String(i);
      } finally {
        cleaned = true;
      }
    }
    const reader = eventStreamResponse(tokens(), { keepAlive: false }).body!.getReader();
    await readBlocks(reader, 2);
    assert.equal(cleaned, false);
    await reader.cancel();
    await until(() => cleaned, "the generator's finally block");
  });

  it("eventStreamResponse aborts the signal given to a source function when the client leaves", async () => {
    let seen: AbortSignal | undefined;
    const response = eventStreamResponse((signal) => {
      seen = signal;
      return (async function* () {
        yield "first";
        await new Promise((resolve) => signal.addEventListener("abort", resolve));
      })();
    }, { keepAlive: false });
    const reader = response.body!.getReader();
    await readBlocks(reader, 2);
    assert.equal(seen?.aborted, false);
    await reader.cancel();
    assert.equal(seen?.aborted, true);
  });

  it("eventStreamResponse calls a source function only on the first read", async () => {
    let calls = 0;
    const response = eventStreamResponse(() => {
      calls++;
      return (async function* () {})();
    }, { keepAlive: false });
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(calls, 0);
    assert.equal(await readAll(response), ":\n\n");
    assert.equal(calls, 1);
  });

  it("eventStreamResponse errors the body when the iterable throws and no onError is given", async () => {
    async function* failing() {
      yield "before";
      throw new Error("upstream failed");
    }
    const reader = eventStreamResponse(failing(), { keepAlive: false, final: "not sent" }).body!.getReader();
    assert.equal(await readBlocks(reader, 2), ":\n\ndata: before\n\n");
    await assert.rejects(withDeadline(reader.read(), 5000, "the error"), /upstream failed/);
  });

  it("eventStreamResponse sends the onError event and ends cleanly when the iterable throws", async () => {
    async function* failing() {
      yield "before";
      throw new Error("upstream failed");
    }
    const errors: unknown[] = [];
    const response = eventStreamResponse(failing(), {
      keepAlive: false,
      final: "not sent",
      onError: (error) => {
        errors.push(error);
        return { event: "error", data: { message: (error as Error).message } };
      },
    });
    assert.equal(
      await readAll(response),
      ':\n\ndata: before\n\nevent: error\ndata: {"message":"upstream failed"}\n\n',
    );
    assert.equal(errors.length, 1);
  });

  it("eventStreamResponse ends through onError and releases the iterator when it yields an invalid event", async () => {
    let cleaned = false;
    async function* forging() {
      try {
        yield "fine";
        yield { id: "1\ndata: forged" };
        yield "never";
      } finally {
        cleaned = true;
      }
    }
    let seen: unknown;
    const response = eventStreamResponse(forging(), {
      keepAlive: false,
      onError: (error) => {
        seen = error;
        return { event: "error", data: "invalid event" };
      },
    });
    assert.equal(await readAll(response), ":\n\ndata: fine\n\nevent: error\ndata: invalid event\n\n");
    assert.ok(seen instanceof EventFieldError);
    await until(() => cleaned, "the generator's finally block");
  });

  it("eventStreamResponse errors the body when onError throws", async () => {
    async function* failing() {
      yield* [];
      throw new Error("first");
    }
    const response = eventStreamResponse(failing(), {
      keepAlive: false,
      onError: () => {
        throw new Error("second");
      },
    });
    await assert.rejects(readAll(response), /second/);
  });

  it("eventStreamResponse throws EventFieldError at once when the final event is invalid", () => {
    async function* none() {}
    assert.throws(() => eventStreamResponse(none(), { final: { event: "a\nb" } }), EventFieldError);
  });
});

describe("createEventStream timers", () => {
  it("createEventStream and eventStreamResponse leave no timer behind when they end", async () => {
    // A leftover keep-alive interval would keep the child process alive until the deadline.
    const { code, output } = await runScript(`import { createEventStream, eventStreamResponse } from ${MOD};
const closed = createEventStream({ keepAlive: 5 });
const reader = closed.response.body!.getReader();
await reader.read();
await new Promise((resolve) => setTimeout(resolve, 20));
closed.close();
const left = createEventStream({ keepAlive: 5 });
await left.response.body!.cancel();
async function* tokens() { for (;;) yield "t"; }
const pulled = eventStreamResponse(tokens(), { keepAlive: 5 }).body!.getReader();
await pulled.read();
await pulled.read();
await pulled.cancel();
async function* short() { yield "t"; }
await eventStreamResponse(short(), { keepAlive: 5 }).text();
console.log("done");
`);
    assert.equal(output.trim(), "done");
    assert.equal(code, 0);
  });
});
