// Hostile requests, each with a bounded, documented answer (see SECURITY.md), while an
// honest subscriber keeps being served: Last-Event-ID values no client would send, topic
// names built to escape, too many topics, a flood past maxSubscribers, and publish bodies
// that trickle, never end, or are not UTF-8. tests/http/hub_test.ts and tests/publish_test.ts
// cover the plain cases; these go further.
import { describe, it } from "../helpers/timed.ts";
import assert from "node:assert/strict";
import net from "node:net";
import { Hub, MemoryHistory, publishHandler } from "../../mod.ts";
import type { HistoryStore, HubMessage, HubOptions, PublishHandlerOptions } from "../../mod.ts";
import { SseClient } from "../helpers/client.ts";
import { describeGrowth, memory } from "../helpers/memory.ts";
import { delay, serve, until, withDeadline } from "../helpers/server.ts";
import { watchUnhandled } from "../helpers/unhandled.ts";

const encoder = new TextEncoder();

/** GET /events?topic=…, POST /publish, and a live subscriber of "live" that must keep getting events. */
async function start(options: HubOptions = {}, publishOptions: PublishHandlerOptions<string> = {}) {
  const hub = new Hub<string>({ keepAlive: false, ...options });
  const publish = publishHandler(hub, publishOptions);
  const server = serve((request) => {
    const url = new URL(request.url);
    if (url.pathname === "/publish") return publish(request);
    const match = /^\/events\/(.*)$/.exec(url.pathname);
    return hub.response(request, {
      topics: match ? decodeURIComponent(match[1]!) : url.searchParams.getAll("topic"),
    });
  });
  const live = await SseClient.connect(`${server.url}/events/live`);
  await until(() => hub.size === 1, "the live subscriber");
  let n = 0;
  /** Publishes to "live"; the live client's very next event must be it. Returns its id (the newest). */
  const stillServing = async (): Promise<string> => {
    const data = `still serving ${n++}`;
    const { id } = hub.publish("live", data);
    assert.equal((await live.next()).data, data);
    return id;
  };
  return {
    hub,
    server,
    stillServing,
    async stop() {
      await live.close();
      hub.close();
      await server.close();
    },
  };
}

/**
 * Sends raw bytes as a request and collects the answer until `done(text)` holds or the
 * server closes the connection.
 */
async function rawExchange(
  url: string,
  request: Uint8Array,
  done: (text: string) => boolean,
): Promise<string> {
  const { hostname, port } = new URL(url);
  const socket = net.createConnection({ host: hostname, port: Number(port) });
  socket.on("error", () => {});
  let text = "";
  const decoder = new TextDecoder();
  try {
    await withDeadline(
      new Promise<void>((resolve) => {
        socket.on("connect", () => socket.write(request));
        socket.on("data", (chunk: Uint8Array) => {
          text += decoder.decode(chunk, { stream: true });
          if (done(text)) resolve();
        });
        socket.on("close", () => resolve());
      }),
      10_000,
      "an answer to a raw request",
    ).catch((error: Error) => {
      throw new Error(`${error.message}; received so far: ${JSON.stringify(text.slice(0, 500))}`);
    });
  } finally {
    socket.destroy();
  }
  return text;
}

const bytes = (...parts: (string | number[] | Uint8Array)[]): Uint8Array<ArrayBuffer> => {
  const arrays = parts.map((
    part,
  ) => (typeof part === "string" ? encoder.encode(part) : Uint8Array.from(part)));
  const all = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let offset = 0;
  for (const array of arrays) {
    all.set(array, offset);
    offset += array.length;
  }
  return all;
};

describe("Hub.response against hostile Last-Event-ID values", () => {
  it("Hub.response answers hostile Last-Event-ID headers with a reset or a runtime 4xx, never echoing them, and keeps serving", async () => {
    const watch = watchUnhandled();
    const { hub, server, stillServing, stop } = await start();
    let latest = hub.publish("t", "history").id;
    const cases: [string, Uint8Array | (() => Uint8Array)][] = [
      ["8 KB of digits", bytes(`Last-Event-ID: ${"9".repeat(8192)}`)],
      ["one past the newest id", () => bytes(`Last-Event-ID: ${BigInt(latest) + 1n}`)],
      ["the largest 16-digit id", bytes("Last-Event-ID: 9999999999999999")],
      ["a negative id", bytes("Last-Event-ID: -1")],
      ["an id with a fraction or exponent", bytes("Last-Event-ID: 1e3")],
      ["UTF-8 bytes", bytes("Last-Event-ID: ", [0xc3, 0xa9, 0xf0, 0x9f, 0x98, 0x80])],
      ["invalid UTF-8 bytes", bytes("Last-Event-ID: ", [0xff, 0xfe, 0x80])],
      ["a tab and a DEL", bytes("Last-Event-ID: 1\t2\x7f")],
      ["an obs-fold continuation line", bytes("Last-Event-ID: 1\r\n data: forged")],
      ["two Last-Event-ID headers", bytes("Last-Event-ID: 1\r\nLast-Event-ID: forged")],
      ["64 KB of digits", bytes(`Last-Event-ID: ${"7".repeat(64 * 1024)}`)],
    ];
    for (const [name, header] of cases) {
      const request = bytes(
        "GET /events/t HTTP/1.1\r\nHost: x\r\n",
        typeof header === "function" ? header() : header,
        "\r\n\r\n",
      );
      const text = await rawExchange(
        server.url,
        request,
        (t) => /\r\n\r\n/.test(t) && !t.startsWith("HTTP/1.1 200") || /reason[^\n]*\n\n/.test(t),
      );

      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      if (status === 200) {
        const body = text.slice(text.indexOf("\r\n\r\n"));
        assert.match(
          body,
          new RegExp(`event: sse-hub:reset\\r?\\n(?:[0-9a-f]+\\r\\n)?id: ${latest}\\n`),
          name,
        );
        assert.doesNotMatch(
          body,
          /forged|99999999|77777777|\u00e9|\ufffd/,
          `${name}: nothing of the id is echoed`,
        );
      } else {
        assert.ok(
          status >= 400 && status < 500 || status === 0,
          `${name}: answered ${status}: ${text.slice(0, 80)}`,
        );
      }
      latest = await stillServing();
    }
    assert.equal(hub.size, 1);
    await stop();
    await watch.assertNone();
  });

  it("Hub.response treats a Last-Event-ID query of 100 KB, or with CR, LF and NUL, as unknown and never echoes it", async () => {
    const watch = watchUnhandled();
    const { hub, server, stillServing, stop } = await start();
    let latest = hub.publish("t", "history").id;
    // Raw requests: fetch clients refuse some of these URLs before sending them (Deno: 100 KB).
    for (
      const id of [
        "%0D%0Aevent:%20forged%0D%0A%0D%0A",
        "1%00forged",
        "%E2%80%A8forged",
        "9".repeat(100 * 1024),
      ]
    ) {
      const text = await rawExchange(
        server.url,
        bytes(`GET /events/t?lastEventId=${id} HTTP/1.1\r\nHost: x\r\n\r\n`),
        (t) => /\r\n\r\n/.test(t) && !t.startsWith("HTTP/1.1 200") || /reason[^\n]*\n\n/.test(t),
      );
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      if (status === 200) {
        assert.match(
          text,
          new RegExp(`event: sse-hub:reset\\nid: ${latest}\\ndata: \\{"reason":"unknown-id"\\}\\n\\n`),
        );
        assert.doesNotMatch(text, /forged|9999999999/);
      } else {
        assert.ok(status === 414 || status === 431 || status === 400, `answered ${status}`);
      }
      latest = await stillServing();
    }
    await until(() => hub.size === 1, "only the live subscriber");
    await stop();
    await watch.assertNone();
  });
});

describe("Hub.response against a Last-Event-ID that replays into a throwing filter", () => {
  for (const store of ["sync", "async"] as const) {
    it(`Hub.response closes only the resuming client whose filter throws on a replayed event (${store} history), with nothing unhandled`, async () => {
      const watch = watchUnhandled();
      const memory = new MemoryHistory();
      const history: HistoryStore = store === "sync" ? memory : {
        append: (entry) => memory.append(entry),
        since: async (topics, id) => {
          await delay(5);
          return memory.since(topics, id);
        },
      };
      const hub = new Hub<string>({ history, keepAlive: false });
      // An application filter with a bug a crafted event triggers.
      const filter = (message: HubMessage<string>) => {
        if (message.data === "poison") throw new TypeError("filter bug");
        return true;
      };
      const server = serve((request) => hub.response(request, { topics: "t", filter }));
      const live = await SseClient.connect(`${server.url}/`);
      await until(() => hub.size === 1, "a live subscriber");
      const before = hub.publish("t", "fine").id;
      assert.equal((await live.next()).data, "fine");
      hub.publish("t", "poison"); // closes the live subscriber, as a throwing filter does
      await until(() => hub.size === 0, "the live subscriber closed by its filter");
      for (let i = 0; i < 3; i++) {
        // The stream fails (Bun resets the connection before the head when that is at once).
        await fetch(`${server.url}/`, { headers: { "last-event-id": before } }).then((r) => r.text()).catch(
          () => "",
        );
        assert.equal(hub.size, 0);
      }
      const fresh = await SseClient.connect(`${server.url}/`);
      await until(() => hub.size === 1, "a fresh subscriber");
      hub.publish("t", "after");
      assert.equal((await fresh.next()).data, "after");
      await fresh.close();
      await live.close();
      hub.close();
      await server.close();
      await watch.assertNone();
    });
  }
});

describe("Hub.response against hostile topics", () => {
  it("Hub.response answers 400 on one short nosniff plain-text line to topics that traverse or hide control, bidi or look-alike characters", async () => {
    const watch = watchUnhandled();
    const { hub, server, stillServing, stop } = await start();
    const hostile = [
      "..",
      ".",
      "../../etc/passwd",
      "..%2F..%2Fetc",
      "%2e%2e",
      "a/b",
      "a\\b",
      "a%00b",
      "a%0Ab",
      "a%0D%0Ab",
      "a%09b",
      "a%7Fb",
      "%C2%85",
      "a%E2%80%A8b",
      "a%E2%80%AEb",
      "%D0%B0",
      "a%EF%BB%BFb",
      "%F0%9F%98%80",
      "-leading-dash",
      ".hidden",
      ":colon",
      "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
      "x".repeat(129),
    ];
    for (const topic of hostile) {
      const response = await fetch(`${server.url}/events/${topic}`);
      assert.equal(response.status, 400, topic);
      assert.equal(response.headers.get("content-type"), "text/plain; charset=utf-8");
      assert.equal(response.headers.get("x-content-type-options"), "nosniff");
      const text = await response.text();
      // What it quotes is JSON-escaped, cut to 64 characters, on one line of plain text.
      assert.ok(text.length < 300, `a short answer (${text.length} characters)`);
      const controls = [...text.slice(0, -1)].filter((c) => c.charCodeAt(0) < 0x20);
      assert.deepEqual(controls, [], "no control character, no second line");
    }
    assert.equal(hub.stats().rejected, hostile.length);
    assert.equal(hub.size, 1);
    await stillServing();
    await stop();
    await watch.assertNone();
  });

  it("Hub.response serves names like __proto__ and constructor as plain topics, each only to its own subscribers", async () => {
    const watch = watchUnhandled();
    const { hub, server, stillServing, stop } = await start();
    const names = ["__proto__", "constructor", "toString", "hasOwnProperty", "x".repeat(128)];
    const clients = await Promise.all(names.map((name) => SseClient.connect(`${server.url}/events/${name}`)));
    await until(() => hub.size === 1 + names.length, "a subscriber per name");
    for (const name of names) hub.publish(name, `for ${name}`);
    for (const [i, client] of clients.entries()) {
      assert.deepEqual((await client.take(1)).map((e) => e.data), [`for ${names[i]}`]);
    }
    hub.publish("__proto__", "again");
    assert.equal((await clients[0]!.next()).data, "again");
    for (const client of clients.slice(1)) assert.equal(client.buffered.length, 0);
    await Promise.all(clients.map((client) => client.close()));
    await stillServing();
    await stop();
    await watch.assertNone();
  });

  it("Hub.response answers 400 to 5000 topics in one request (or the runtime refuses the URL) and subscribes to none", async () => {
    const watch = watchUnhandled();
    const { hub, server, stillServing, stop } = await start();
    for (const count of [33, 1000, 5000]) {
      const query = Array.from({ length: count }, (_, i) => `topic=t${i}`).join("&");
      const response = await fetch(`${server.url}/events?${query}`);
      const text = await response.text();
      if (response.status === 400) assert.match(text, /at most 32/);
      else {assert.ok(
          response.status === 414 || response.status === 431,
          `${count} topics: ${response.status}`,
        );}
      await stillServing();
    }
    // Duplicates count too: 33 copies of one topic is 33 topics.
    const copies = await fetch(`${server.url}/events?${"topic=t&".repeat(33)}`);
    assert.equal(copies.status, 400);
    await copies.body?.cancel();
    assert.equal(hub.stats().topics, 1);
    assert.equal(hub.size, 1);
    await stop();
    await watch.assertNone();
  });
});

describe("Hub.response against a subscription flood", () => {
  it("Hub.response admits exactly maxSubscribers of a 400-request flood, answers the rest 503 with Retry-After, and its subscribers never notice", async () => {
    const watch = watchUnhandled();
    const { hub, server, stillServing, stop } = await start({
      maxSubscribers: 50,
      retryAfter: 9,
      authorize: async () => {
        await delay(Math.random() * 5); // every request passes the access check at a different moment
        return true;
      },
    });
    const ticker = setInterval(() => hub.publish("flood", "tick"), 2);
    const flood = await Promise.all(
      Array.from({ length: 400 }, async () => {
        const response = await fetch(`${server.url}/events/flood`);
        if (response.status !== 200) await response.body?.cancel();
        return response;
      }),
    );
    clearInterval(ticker);
    const admitted = flood.filter((r) => r.status === 200);
    const refused = flood.filter((r) => r.status !== 200);
    assert.equal(admitted.length, 49); // the live subscriber holds one place
    assert.equal(refused.length, 351);
    for (const response of refused) {
      assert.equal(response.status, 503);
      assert.equal(response.headers.get("retry-after"), "9");
    }
    assert.equal(hub.size, 50);
    assert.equal(hub.stats().rejected, 351);
    await stillServing();
    // Places free up as the admitted leave, and are given again.
    await Promise.all(admitted.slice(0, 10).map((r) => r.body!.cancel()));
    await until(() => hub.size === 40, "10 places free");
    const again = await Promise.all(Array.from({ length: 11 }, () => fetch(`${server.url}/events/flood`)));
    assert.deepEqual(again.map((r) => r.status).sort(), [...Array(10).fill(200), 503]);
    await Promise.all([...admitted.slice(10), ...again].map((r) => r.body?.cancel()));
    await until(() => hub.size === 1, "only the live subscriber");
    await stillServing();
    await stop();
    await watch.assertNone();
  });
});

describe("publishHandler against hostile bodies", () => {
  it("publishHandler answers 408 to a body that trickles one byte every 20 ms past readTimeout", async () => {
    const watch = watchUnhandled();
    const { hub, server, stillServing, stop } = await start({}, { readTimeout: 300 });
    const { hostname, port } = new URL(server.url);
    const socket = net.createConnection({ host: hostname, port: Number(port) });
    socket.on("error", () => {});
    let answer = "";
    socket.on("data", (chunk: Uint8Array) => (answer += new TextDecoder().decode(chunk)));
    socket.write(
      "POST /publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n",
    );
    let sent = 0;
    const trickle = setInterval(() => {
      if (!socket.destroyed) socket.write(sent++ === 0 ? "[" : " ");
    }, 20);
    try {
      await until(() => /\{"error":"[^"]*"\}/.test(answer), "an answer while the body still trickles");
    } finally {
      clearInterval(trickle);
      socket.destroy();
    }
    assert.match(answer, /^HTTP\/1\.1 408 /);
    assert.equal(hub.stats().published, 0);
    await stillServing();
    await stop();
    await watch.assertNone();
  });

  it("publishHandler bounds 100 concurrent uploads that never end, answering 413 or 408, while subscribers keep being served", async () => {
    const watch = watchUnhandled();
    const { hub, server, stillServing, stop } = await start({}, { maxBytes: 16 * 1024, readTimeout: 1000 });
    const { hostname, port } = new URL(server.url);
    const before = await memory();
    const uploads = Array.from({ length: 100 }, (_, i) => {
      const socket = net.createConnection({ host: hostname, port: Number(port) });
      socket.on("error", () => {});
      let answer = "";
      socket.on("data", (chunk: Uint8Array) => (answer += new TextDecoder().decode(chunk)));
      socket.write(
        "POST /publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n[\r\n",
      );
      // Half of them stream as fast as the socket takes it, half send a byte now and then.
      const chunk = i % 2 === 0 ? "1000\r\n" + " ".repeat(4096) + "\r\n" : "1\r\n \r\n";
      const pump = setInterval(() => {
        if (!socket.destroyed && socket.writableLength < 64 * 1024) socket.write(chunk);
      }, i % 2 === 0 ? 1 : 50);
      return { socket, pump, answer: () => answer, fast: i % 2 === 0 };
    });
    try {
      for (let i = 0; i < 5; i++) {
        await stillServing();
        await delay(50);
      }
      await until(
        () => uploads.every((u) => /\{"error":"[^"]*"\}/.test(u.answer())),
        "an answer to every upload",
        20_000,
      );
    } finally {
      for (const upload of uploads) {
        clearInterval(upload.pump);
        upload.socket.destroy();
      }
    }
    const after = await memory();
    console.log(describeGrowth("100 endless uploads", before, after));
    for (const upload of uploads) {
      assert.match(upload.answer(), upload.fast ? /^HTTP\/1\.1 (413|408) / : /^HTTP\/1\.1 408 /);
    }
    assert.equal(hub.stats().published, 5);
    if (after.collected) {
      assert.ok(after.heap - before.heap < 50, describeGrowth("uploads were buffered", before, after));
    }
    await stillServing();
    await stop();
    await watch.assertNone();
  });

  it("publishHandler refuses UTF-16, Latin-1 and Windows-1252 bodies with 415 or 400, and accepts UTF-8 with a BOM", async () => {
    const watch = watchUnhandled();
    const { hub, server, stillServing, stop } = await start();
    const json = '{"topic":"live","msg":"café"}';
    const utf16 = (littleEndian: boolean) => {
      const out = new Uint8Array(2 + json.length * 2);
      out.set(littleEndian ? [0xff, 0xfe] : [0xfe, 0xff]);
      for (let i = 0; i < json.length; i++) {
        const c = json.charCodeAt(i);
        out.set(littleEndian ? [c & 0xff, c >> 8] : [c >> 8, c & 0xff], 2 + i * 2);
      }
      return out;
    };
    const latin1 = Uint8Array.from(json, (c) => c.charCodeAt(0)); // é as the single byte 0xE9
    const cases: [string, BodyInit, string, number][] = [
      ["UTF-16LE with a charset", utf16(true), "application/json; charset=utf-16", 415],
      ["UTF-16LE without a charset", utf16(true), "application/json", 400],
      ["UTF-16BE without a charset", utf16(false), "application/json", 400],
      ["Latin-1 with a charset", latin1, "application/json; charset=iso-8859-1", 415],
      ["Latin-1 without a charset", latin1, "application/json", 400],
      ["Windows-1252 with a charset", latin1, "application/json; charset=windows-1252", 415],
    ];
    for (const [name, body, type, status] of cases) {
      const response = await fetch(`${server.url}/publish`, {
        method: "POST",
        headers: { "content-type": type },
        body,
      });
      assert.equal(response.status, status, name);
      assert.equal(typeof ((await response.json()) as { error: unknown }).error, "string");
      await stillServing();
    }
    assert.equal(hub.stats().published, cases.length);
    const bom = await fetch(`${server.url}/publish`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: bytes([0xef, 0xbb, 0xbf], '{"topic":"t","msg":"café"}'),
    });
    assert.equal(bom.status, 200);
    await bom.body?.cancel();
    await stop();
    await watch.assertNone();
  });

  it("publishHandler answers a body shorter or longer than its Content-Length without publishing it, and keeps serving", async () => {
    const watch = watchUnhandled();
    const { hub, server, stillServing, stop } = await start({}, { readTimeout: 300 });
    const body = '{"topic":"live","msg":"smuggled"}';
    // Longer than announced: the runtime reads 10 bytes (invalid JSON); the rest is not a request.
    const longer = await rawExchange(
      server.url,
      bytes(
        `POST /publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n${body}`,
      ),
      (t) => /\{"error":"[^"]*"\}/.test(t) && (t.match(/HTTP\/1\.1/g)?.length ?? 0) >= 1,
    );
    assert.match(longer, /^HTTP\/1\.1 400 /);
    // Shorter than announced: the server waits for the rest, then gives up.
    const shorter = await rawExchange(
      server.url,
      bytes(
        `POST /publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n${body}`,
      ),
      (t) => /\{"error":"[^"]*"\}/.test(t),
    );
    assert.match(shorter, /^HTTP\/1\.1 408 /);
    await delay(50);
    assert.equal(hub.stats().published, 0);
    await stillServing();
    await stop();
    await watch.assertNone();
  });
});
