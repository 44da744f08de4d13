import { describe, it } from "./helpers/timed.ts";
import assert from "node:assert/strict";
import { Hub, HubError, publishHandler } from "../mod.ts";
import type { Bridge, BridgeSink, HubMessage, PublishHandlerOptions } from "../mod.ts";
import type { HubErrorType, PublishTarget } from "../mod.ts";
import type { BridgeMessage } from "../src/bridge/bridge.ts";
import { SseClient } from "./helpers/client.ts";
import { rawRequest, rawResponseHead } from "./helpers/raw.ts";
import { serve, until, withDeadline } from "./helpers/server.ts";

const URL_ = "http://localhost/publish";
const JSON_HEADERS = { "content-type": "application/json" };
const encoder = new TextEncoder();

function post(body: BodyInit | null, headers: HeadersInit = JSON_HEADERS, init: RequestInit = {}): Request {
  const streaming = body instanceof ReadableStream ? { duplex: "half" } : {};
  return new Request(URL_, { method: "POST", headers, body, ...streaming, ...init } as RequestInit);
}

const postJson = (value: unknown): Request => post(JSON.stringify(value));

/** A stream body that sends `chunk` on every pull, forever (or never, when `chunk` is undefined), and records its cancel. */
function endless(chunk: Uint8Array | undefined, first?: Uint8Array) {
  const state = { pulled: 0, bytes: 0, cancelled: false };
  let sentFirst = false;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (first !== undefined && !sentFirst) {
        sentFirst = true;
        controller.enqueue(first);
        return;
      }
      if (chunk === undefined) return new Promise<void>(() => {}); // a peer that stops sending
      state.pulled++;
      state.bytes += chunk.byteLength;
      controller.enqueue(chunk);
    },
    cancel() {
      state.cancelled = true;
    },
  }, { highWaterMark: 0 });
  return { stream, state };
}

/** A hub, a handler and an in-process subscriber of "t" that must see only the good publishes. */
function setup(options: PublishHandlerOptions<string> = {}) {
  const hub = new Hub<string>({ keepAlive: false });
  const reader = hub.subscribe("t").getReader();
  const handle = publishHandler(hub, options);
  const next = async (): Promise<HubMessage<string>> => {
    const { value, done } = await withDeadline(reader.read(), 5000, "a message on t");
    assert.equal(done, false);
    return value!;
  };
  /** Publishes `text` through the handler; the subscriber's very next message must be it. */
  const stillServing = async (text = "still serving") => {
    const response = await handle(postJson({ topic: "t", msg: text }));
    assert.equal(response.status, 200);
    assert.equal((await next()).data, text);
  };
  return { hub, handle, next, stillServing, close: () => hub.close() };
}

async function assertRefusal(response: Response, status: number, pattern?: RegExp): Promise<string> {
  assert.equal(response.status, status);
  assert.equal(response.headers.get("content-type"), "application/json; charset=utf-8");
  assert.equal(response.headers.get("cache-control"), "no-store");
  const body = await response.json() as { error: unknown };
  assert.deepEqual(Object.keys(body), ["error"]);
  assert.equal(typeof body.error, "string");
  if (pattern) assert.match(body.error as string, pattern);
  return body.error as string;
}

describe("publishHandler", () => {
  it("publishHandler publishes {topic, msg} and answers 200 with delivered, topic and id", async () => {
    const { hub, handle, next, close } = setup();
    const msg = "line 1\nline 2\r\né ☃ 😀";
    const response = await handle(postJson({ topic: "t", msg }));
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "application/json; charset=utf-8");
    const body = await response.json() as { delivered: number; topic: string; id: string };
    assert.deepEqual(Object.keys(body), ["delivered", "topic", "id"]);
    assert.equal(body.delivered, 1);
    assert.equal(body.topic, "t");
    const message = await next();
    assert.deepEqual(message, { topic: "t", id: body.id, event: undefined, data: msg });
    assert.equal(hub.stats().published, 1);
    close();
  });

  it("publishHandler sends the optional event field as the event type", async () => {
    const { handle, next, close } = setup();
    assert.equal((await handle(postJson({ topic: "t", msg: "hi", event: "greeting" }))).status, 200);
    assert.equal((await next()).event, "greeting");
    close();
  });

  it("publishHandler accepts a UTF-8 charset and +json media types", async () => {
    const { handle, next, close } = setup();
    for (
      const type of [
        "application/json; charset=utf-8",
        'Application/JSON;charset="UTF-8"',
        "application/vnd.x+json",
      ]
    ) {
      assert.equal(
        (await handle(post(JSON.stringify({ topic: "t", msg: type }), { "content-type": type }))).status,
        200,
      );
      assert.equal((await next()).data, type);
    }
    close();
  });

  it("publishHandler reads a body that arrives in many small chunks", async () => {
    const { handle, next, close } = setup();
    const bytes = encoder.encode(JSON.stringify({ topic: "t", msg: "😀".repeat(100) }));
    let i = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (i >= bytes.length) return controller.close();
        controller.enqueue(bytes.slice(i, i + 3)); // splits code points across chunks
        i += 3;
      },
    });
    assert.equal((await handle(post(stream))).status, 200);
    assert.equal((await next()).data, "😀".repeat(100));
    close();
  });

  it("publishHandler accepts a body of exactly maxBytes", async () => {
    const { handle, next, close } = setup({ maxBytes: 100 });
    const prefix = JSON.stringify({ topic: "t", msg: "" }).length;
    const msg = "x".repeat(100 - prefix);
    assert.equal((await handle(postJson({ topic: "t", msg }))).status, 200);
    assert.equal((await next()).data, msg);
    assert.equal((await handle(postJson({ topic: "t", msg: msg + "x" }))).status, 413);
    close();
  });

  it("publishHandler keeps brackets inside strings out of the depth count", async () => {
    const { handle, next, close } = setup({ maxDepth: 2 });
    const msg = '[[[{{{"\\"[[[' + "[".repeat(100);
    assert.equal((await handle(postJson({ topic: "t", msg, extra: [1] }))).status, 200);
    assert.equal((await next()).data, msg);
    close();
  });

  describe("refusals (each followed by a good publish the subscriber must receive next)", () => {
    const cases: [name: string, status: number, request: () => Request, pattern?: RegExp][] = [
      ["GET", 405, () => new Request(URL_), /use POST/],
      ["PUT", 405, () => new Request(URL_, { method: "PUT", body: "{}" }), /use POST/],
      [
        "a missing Content-Type",
        415,
        () => post(JSON.stringify({ topic: "t", msg: "x" }), {}),
        /application\/json/,
      ],
      ["text/plain", 415, () => post('{"topic":"t","msg":"x"}', { "content-type": "text/plain" })],
      [
        "a form body",
        415,
        () => post("topic=t&msg=x", { "content-type": "application/x-www-form-urlencoded" }),
      ],
      [
        "a non-UTF-8 charset",
        415,
        () => post('{"topic":"t","msg":"x"}', { "content-type": "application/json; charset=latin1" }),
      ],
      [
        "a Content-Length over maxBytes",
        413,
        () => post("{}", { ...JSON_HEADERS, "content-length": "70000" }),
        /65536/,
      ],
      ["a body over maxBytes", 413, () => postJson({ topic: "t", msg: "x".repeat(64 * 1024) }), /65536/],
      ["an invalid UTF-8 byte", 400, () => post(new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x7d])), /UTF-8/],
      ["an overlong UTF-8 sequence", 400, () => post(new Uint8Array([0x22, 0xc0, 0xaf, 0x22])), /UTF-8/],
      ["UTF-8 of a surrogate", 400, () => post(new Uint8Array([0x22, 0xed, 0xa0, 0x80, 0x22])), /UTF-8/],
      ["a truncated UTF-8 sequence", 400, () => post(new Uint8Array([0x22, 0xe2, 0x98])), /UTF-8/],
      ["an empty body", 400, () => post(null), /JSON/],
      ["truncated JSON", 400, () => post('{"topic":"t","msg":"x"'), /JSON/],
      ["single-quoted JSON", 400, () => post("{'topic':'t','msg':'x'}"), /JSON/],
      ["trailing garbage", 400, () => post('{"topic":"t","msg":"x"} x'), /JSON/],
      [
        "JSON nested 33 deep",
        400,
        () => post(`{"topic":"t","msg":"x","a":${"[".repeat(32)}${"]".repeat(32)}}`),
        /deeper than 32/,
      ],
      ["JSON nested 30000 deep", 400, () => post("[".repeat(30_000) + "]".repeat(30_000)), /deeper than 32/],
      ["a JSON array", 422, () => postJson([{ topic: "t", msg: "x" }]), /JSON object/],
      ["a JSON string", 422, () => postJson("t"), /JSON object/],
      ["JSON null", 422, () => postJson(null), /JSON object/],
      ["a missing topic", 422, () => postJson({ msg: "x" }), /`topic`/],
      ["an empty topic", 422, () => postJson({ topic: "", msg: "x" }), /`topic`/],
      ["a numeric topic", 422, () => postJson({ topic: 1, msg: "x" }), /`topic`/],
      ["an array topic", 422, () => postJson({ topic: ["t"], msg: "x" }), /`topic`/],
      ["a missing msg", 422, () => postJson({ topic: "t" }), /`msg`/],
      ["an empty msg", 422, () => postJson({ topic: "t", msg: "" }), /`msg`/],
      ["an object msg", 422, () => postJson({ topic: "t", msg: { a: 1 } }), /`msg`/],
      ["a null msg", 422, () => postJson({ topic: "t", msg: null }), /`msg`/],
      ["a msg only on the prototype", 422, () => post('{"topic":"t","__proto__":{"msg":"x"}}'), /`msg`/],
      ["a numeric event", 422, () => postJson({ topic: "t", msg: "x", event: 1 }), /`event`/],
      ["an empty event", 422, () => postJson({ topic: "t", msg: "x", event: "" }), /`event`/],
      [
        "an event with a line break",
        422,
        () => postJson({ topic: "t", msg: "x", event: "a\ndata: forged" }),
        /`event`/,
      ],
      ["a topic with a space", 422, () => postJson({ topic: "a b", msg: "x" }), /`topic`/],
      ["a path-like topic", 422, () => postJson({ topic: "../t", msg: "x" }), /`topic`/],
      ["a 200-character topic", 422, () => postJson({ topic: "t".repeat(200), msg: "x" }), /`topic`/],
      ["a lone surrogate in msg", 422, () => post('{"topic":"t","msg":"a\\ud800b"}'), /`data`/],
      ["a reserved event type", 400, () => postJson({ topic: "t", msg: "x", event: "sse-hub:x" }), /sse-hub/],
    ];
    for (const [name, status, request, pattern] of cases) {
      it(`publishHandler answers ${status} to ${name} and publishes nothing`, async () => {
        const { hub, handle, stillServing, close } = setup();
        await assertRefusal(await handle(request()), status, pattern);
        assert.equal(hub.stats().published, 0);
        await stillServing();
        close();
      });
    }
  });

  it("publishHandler answers 405 with Allow: POST", async () => {
    const { handle, close } = setup();
    const response = await handle(new Request(URL_, { method: "DELETE" }));
    assert.equal(response.headers.get("allow"), "POST");
    await assertRefusal(response, 405);
    close();
  });

  it("publishHandler answers 413 without reading when Content-Length announces more than maxBytes", async () => {
    const { handle, stillServing, close } = setup({ maxBytes: 1000 });
    const { stream, state } = endless(new Uint8Array(100));
    const request = post(stream, { ...JSON_HEADERS, "content-length": "1001" });
    await assertRefusal(await handle(request), 413, /1000 bytes/);
    await until(() => state.cancelled, "the body cancelled");
    assert.equal(state.pulled, 0);
    await stillServing();
    close();
  });

  it("publishHandler answers 413 to an endless body once past maxBytes and cancels it", async () => {
    const { handle, stillServing, close } = setup({ maxBytes: 10_000 });
    const { stream, state } = endless(encoder.encode(" ".repeat(1000)), encoder.encode("["));
    await assertRefusal(await withDeadline(handle(post(stream)), 5000, "the 413"), 413, /10000 bytes/);
    await until(() => state.cancelled, "the body cancelled");
    assert.ok(state.bytes <= 11_000, `read ${state.bytes} bytes past a 10000-byte limit`);
    await stillServing();
    close();
  });

  it("publishHandler answers 408 to a body slower than readTimeout and cancels it", async () => {
    const { handle, stillServing, close } = setup({ readTimeout: 50 });
    const { stream, state } = endless(undefined, encoder.encode('{"topic":"t",'));
    await assertRefusal(await withDeadline(handle(post(stream)), 5000, "the 408"), 408, /50 ms/);
    await until(() => state.cancelled, "the body cancelled");
    await stillServing();
    close();
  });

  it("publishHandler answers 400 when the body stream errors", async () => {
    const { handle, stillServing, close } = setup();
    const stream = new ReadableStream<Uint8Array>({ pull: (c) => c.error(new Error("connection reset")) });
    await assertRefusal(await handle(post(stream)), 400, /could not be read/);
    await stillServing();
    close();
  });

  it("publishHandler answers 400 when the body was already read", async () => {
    const { handle, stillServing, close } = setup();
    const request = postJson({ topic: "t", msg: "read twice" });
    await request.text();
    await assertRefusal(await handle(request), 400, /could not be read/);
    await stillServing();
    close();
  });

  it("publishHandler accepts nesting of exactly maxDepth", async () => {
    const { handle, next, close } = setup();
    const body = `{"topic":"t","msg":"deep","a":${"[".repeat(31)}${"]".repeat(31)}}`;
    assert.equal((await handle(post(body))).status, 200);
    assert.equal((await next()).data, "deep");
    close();
  });

  it("publishHandler answers 503 when the hub is closed", async () => {
    const { hub, handle, close } = setup();
    close();
    await assertRefusal(await handle(postJson({ topic: "t", msg: "late" })), 503, /closed/);
    assert.equal(hub.stats().published, 0);
  });

  it("publishHandler answers 503 when the hub closes while the body is read", async () => {
    const hub = new Hub<string>();
    const handle = publishHandler(hub);
    let send!: () => void;
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        send = () => {
          controller.enqueue(encoder.encode('{"topic":"t","msg":"x"}'));
          controller.close();
        };
      },
    });
    const pending = handle(post(stream));
    hub.close();
    send();
    await assertRefusal(await pending, 503, /closed/);
  });

  it("publishHandler reads custom field names and ignores event when eventField is false", async () => {
    const { handle, next, close } = setup({ topicField: "channel", dataField: "text", eventField: false });
    assert.equal((await handle(postJson({ channel: "t", text: "hi", event: "ignored" }))).status, 200);
    const message = await next();
    assert.equal(message.data, "hi");
    assert.equal(message.event, undefined);
    await assertRefusal(await handle(postJson({ topic: "t", msg: "x" })), 422, /`channel`/);
    close();
  });

  it("publishHandler uses validate to map, refuse (422) or answer the body itself", async () => {
    const hub = new Hub<{ text: string }>({ keepAlive: false });
    const reader = hub.subscribe("room.a").getReader();
    const handle = publishHandler(hub, {
      validate: (body, request) => {
        const { room, text } = body as { room?: unknown; text?: unknown };
        if (request.headers.get("x-user") === null) return new Response("who are you?", { status: 401 });
        if (typeof room !== "string" || typeof text !== "string") return "`room` and `text` must be strings";
        return { topic: `room.${room}`, data: { text }, event: "said" };
      },
    });
    const send = (value: unknown, user = true) =>
      handle(post(JSON.stringify(value), { ...JSON_HEADERS, ...(user ? { "x-user": "ann" } : {}) }));
    const denied = await send({ room: "a", text: "hi" }, false);
    assert.equal(denied.status, 401);
    assert.equal(await denied.text(), "who are you?");
    await assertRefusal(await send({ room: "a" }), 422, /^`room` and `text` must be strings$/);
    const ok = await send({ room: "a", text: "hi" });
    assert.equal(ok.status, 200);
    assert.equal((await ok.json() as { topic: string }).topic, "room.a");
    const { value } = await withDeadline(reader.read(), 5000, "a message");
    assert.deepEqual(value?.data, { text: "hi" });
    assert.equal(value?.event, "said");
    assert.equal(hub.stats().published, 1);
    hub.close();
  });

  it("publishHandler answers 500 and calls onError when validate throws", async () => {
    const hub = new Hub<string>();
    const errors: unknown[] = [];
    const boom = new Error("validator bug");
    const handle = publishHandler(hub, {
      validate: () => {
        throw boom;
      },
      onError: (error) => errors.push(error),
    });
    const error = await assertRefusal(await handle(postJson({ topic: "t", msg: "x" })), 500);
    assert.ok(!error.includes("validator bug"), "the details stay on the server");
    assert.deepEqual(errors, [boom]);
    hub.close();
  });

  it("publishHandler lets authorize refuse with 403 or its own response before reading the body", async () => {
    const hub = new Hub<string>();
    const handle = publishHandler(hub, {
      authorize: (request) => {
        const token = request.headers.get("authorization");
        if (token === null) return new Response("login first", { status: 401 });
        return token === "Bearer good";
      },
    });
    const { stream, state } = endless(new Uint8Array(10));
    const anonymous = await handle(post(stream));
    assert.equal(anonymous.status, 401);
    assert.equal(await anonymous.text(), "login first");
    await until(() => state.cancelled, "the body cancelled");
    assert.equal(state.pulled, 0);
    await assertRefusal(
      await handle(post('{"topic":"t","msg":"x"}', { ...JSON_HEADERS, authorization: "Bearer bad" })),
      403,
    );
    const allowed = await handle(
      post('{"topic":"t","msg":"x"}', { ...JSON_HEADERS, authorization: "Bearer good" }),
    );
    assert.equal(allowed.status, 200);
    assert.equal(hub.stats().published, 1);
    hub.close();
  });

  it("publishHandler adds the headers option to every response", async () => {
    const { handle, close } = setup({ headers: { "access-control-allow-origin": "*" } });
    const ok = await handle(postJson({ topic: "t", msg: "x" }));
    const refused = await handle(new Request(URL_));
    for (const response of [ok, refused]) {
      assert.equal(response.headers.get("access-control-allow-origin"), "*");
      await response.body?.cancel();
    }
    close();
  });

  it("publishHandler publishes through a bridge and answers with the id the bus assigned", async () => {
    let sink: BridgeSink | undefined;
    const bridge: Bridge = {
      start: (s) => void (sink = s),
      publish: (message: Omit<BridgeMessage, "id">) => {
        queueMicrotask(() => sink?.deliver({ ...message, id: "bus-7" }));
        return Promise.resolve("bus-7");
      },
      close() {},
    };
    const hub = new Hub<string>({ bridge, history: false });
    const reader = hub.subscribe("t").getReader();
    const response = await publishHandler(hub)(postJson({ topic: "t", msg: "via bus" }));
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { delivered: 1, topic: "t", id: "bus-7" });
    const { value } = await withDeadline(reader.read(), 5000, "the bridged message");
    assert.equal(value?.data, "via bus");
    hub.close();
  });

  it("publishHandler answers 503 and calls onError when the bridge refuses the event", async () => {
    const down = new Error("bus down");
    const bridge: Bridge = { start() {}, publish: () => Promise.reject(down), close() {} };
    const hub = new Hub<string>({ bridge, history: false });
    const errors: unknown[] = [];
    const handle = publishHandler(hub, { onError: (error) => errors.push(error) });
    await assertRefusal(await handle(postJson({ topic: "t", msg: "x" })), 503, /could not be published/);
    assert.deepEqual(errors, [down]);
    await assertRefusal(await handle(postJson({ topic: "a b", msg: "x" })), 422, /`topic`/);
    hub.close();
  });

  it("publishHandler throws RangeError for limits that are not positive integers", () => {
    const hub = new Hub<string>();
    for (
      const options of [{ maxBytes: 0 }, { maxBytes: 1.5 }, { readTimeout: -1 }, { maxDepth: Number.NaN }]
    ) {
      assert.throws(() => publishHandler(hub, options), RangeError);
    }
    hub.close();
  });
});

describe("publishHandler over HTTP", () => {
  function start(options: PublishHandlerOptions<string> = {}) {
    const hub = new Hub<string>();
    const publish = publishHandler(hub, options);
    const server = serve((request) => {
      const { pathname } = new URL(request.url);
      if (pathname === "/publish") return publish(request);
      return hub.response(request, { topics: pathname.slice("/events/".length) });
    });
    const send = (body: BodyInit, headers: HeadersInit = JSON_HEADERS, init: RequestInit = {}) =>
      fetch(`${server.url}/publish`, { method: "POST", headers, body, ...init } as RequestInit);
    return {
      hub,
      server,
      send,
      stop: async () => {
        hub.close();
        await server.close();
      },
    };
  }

  it("publishHandler serves SSE subscribers what real clients POST, and bad requests leave them serving", async () => {
    const { hub, server, send, stop } = start({ maxBytes: 4096 });
    const client = await SseClient.connect(`${server.url}/events/t`);
    await until(() => hub.size === 1, "a subscriber");
    const bad: [BodyInit, number, HeadersInit?][] = [
      ["{", 400],
      [new Uint8Array([0x7b, 0xff, 0x7d]), 400],
      ["[".repeat(40) + "]".repeat(40), 400],
      ['{"topic":"t"}', 422],
      ['{"topic":"bad topic","msg":"x"}', 422],
      ['{"topic":"t","msg":"x"}', 415, { "content-type": "text/plain" }],
      [JSON.stringify({ topic: "t", msg: "x".repeat(5000) }), 413],
    ];
    const expected: string[] = [];
    for (const [i, [body, status, headers]] of bad.entries()) {
      const response = await send(body, headers);
      assert.equal(response.status, status, `case ${i}`);
      assert.equal(typeof (await response.json() as { error: string }).error, "string");
      const msg = `good ${i}
😀`;
      expected.push(msg);
      const ok = await send(JSON.stringify({ topic: "t", msg }));
      assert.equal(ok.status, 200);
      assert.equal((await ok.json() as { delivered: number }).delivered, 1);
    }
    const got = await client.take(expected.length);
    assert.deepEqual(got.map((e) => e.data), expected);
    assert.equal(client.buffered.length, 0);
    await client.close();
    await stop();
  });

  // A raw socket, not fetch: Deno's fetch keeps uploading a stream body after the response came and
  // the request was aborted (2.9.6), and both servers drain what still arrives after the answer.
  it("publishHandler answers 413 to an endless chunked upload while it is still arriving, and keeps serving", async () => {
    const { hub, server, send, stop } = start({ maxBytes: 10_000 });
    const client = await SseClient.connect(`${server.url}/events/t`);
    await until(() => hub.size === 1, "a subscriber");
    const raw = await rawRequest(
      server.url,
      "POST /publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
    );
    raw.socket.write("1\r\n[\r\n");
    const chunk = "1000\r\n" + " ".repeat(4096) + "\r\n";
    let written = 0;
    await withDeadline(
      (async () => {
        while (!/\{"error":"[^"]*"\}/.test(raw.received())) {
          if (raw.socket.destroyed) throw new Error("the server closed the connection without an answer");
          if (!raw.socket.write(chunk)) await new Promise((resolve) => setTimeout(resolve, 1));
          written += 4096;
        }
      })(),
      10_000,
      "the 413 while uploading",
    );
    assert.match(raw.received(), /^HTTP\/1\.1 413 /);
    assert.match(raw.received(), /10000 bytes/);
    assert.ok(written > 10_000);
    raw.socket.destroy();
    const ok = await send(JSON.stringify({ topic: "t", msg: "after" }));
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
    assert.equal((await client.next()).data, "after");
    await client.close();
    await stop();
  });

  it("publishHandler answers 413 at once when Content-Length announces too much, without waiting for the body", async () => {
    const { server, stop } = start({ maxBytes: 1000 });
    const raw = await rawRequest(
      server.url,
      "POST /publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000000",
    );
    const text = await withDeadline(
      until(() => /\r\n\r\n\{"error":"[^"]*"\}/.test(raw.received()), "the 413").then(() => raw.received()),
      10_000,
      "the 413",
    );
    assert.match(text, /^HTTP\/1\.1 413 /);
    assert.match(text, /1000 bytes/);
    raw.socket.destroy();
    await stop();
  });

  it("publishHandler answers 408 to a raw client that stops sending its body", async () => {
    const { server, stop } = start({ readTimeout: 100 });
    const raw = await rawRequest(
      server.url,
      'POST /publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{"topic":',
    );
    await until(() => /\{"error":"[^"]*"\}/.test(raw.received()), "the 408");
    assert.match(raw.received(), /^HTTP\/1\.1 408 /);
    raw.socket.destroy();
    await stop();
  });
});

describe("publishHandler statuses and headers", () => {
  it("publishHandler answers each HubError the hub throws with its status, and reports the unexpected ones", async () => {
    // A target is any `{ publishAsync, closed }`: this one refuses with the error under test.
    const statuses: [HubErrorType, number][] = [
      ["invalid-topic", 422],
      ["reserved-event", 400],
      ["closed", 503],
      ["reentrant", 503],
      ["too-many-subscribers", 503],
      ["slow-subscriber", 503],
      ["bridged", 500],
    ];
    for (const [type, status] of statuses) {
      const errors: unknown[] = [];
      const refusing: PublishTarget<string> = {
        closed: false,
        publishAsync: () => Promise.reject(new HubError(type, `refused: ${type}`)),
      };
      const handle = publishHandler(refusing, { onError: (error) => errors.push(error) });
      await assertRefusal(await handle(postJson({ topic: "t", msg: "x" })), status);
      // A refusal the caller caused is its answer; an unexpected one on the server's side is reported too.
      assert.equal(errors.length, status >= 500 && type !== "closed" ? 1 : 0, type);
    }
  });

  it("publishHandler sends every Set-Cookie of its headers option on every response, over a real server", async () => {
    const hub = new Hub<string>();
    const publish = publishHandler(hub, {
      headers: [["set-cookie", "a=1; HttpOnly"], ["set-cookie", "b=2"], ["access-control-allow-origin", "*"]],
    });
    const server = serve(publish);
    try {
      const body = JSON.stringify({ topic: "t", msg: "x" });
      const requests = [
        `POST /publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
        "GET /publish HTTP/1.1\r\nHost: x", // 405, which adds its own `Allow` header
      ];
      for (const [i, request] of requests.entries()) {
        const head = await rawResponseHead(server.url, request);
        assert.match(head[0]!, i === 0 ? /^HTTP\/1\.1 200/ : /^HTTP\/1\.1 405/);
        const cookies = head.filter((line) => /^set-cookie:/i.test(line)).map((line) => line.slice(12));
        assert.deepEqual(cookies, ["a=1; HttpOnly", "b=2"], head[0]!);
        assert.ok(head.some((line) => /^access-control-allow-origin: \*$/i.test(line)), head[0]!);
      }
    } finally {
      hub.close();
      await server.close();
    }
  });
});
