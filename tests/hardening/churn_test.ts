// Churn: thousands of connect/disconnect cycles over real HTTP, in every way a client can
// leave, then: no subscriber, no topic, no timer, and memory back near its baseline.
// The same scenarios, 20k+ cycles and in a separate server process, run in `npm run soak`.
import { describe, it } from "../helpers/timed.ts";
import assert from "node:assert/strict";
import net from "node:net";
import { Hub } from "../../mod.ts";
import { describeGrowth, memory } from "../helpers/memory.ts";
import { delay, serve, until, withDeadline } from "../helpers/server.ts";
import { watchUnhandled } from "../helpers/unhandled.ts";

const CYCLES = 2000;
const PARALLEL = 25;

/** Opens a raw HTTP/1.1 request; resolves once it is written. */
function open(url: string, head: string): Promise<net.Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.createConnection({ host: hostname, port: Number(port) }, () => {
      socket.write(head + "\r\n\r\n");
      resolve(socket);
    });
    socket.on("error", () => {}); // resets are the point of these tests
    socket.once("error", reject);
  });
}

/** Resolves with the socket once it has received at least `bytes` bytes (or closed). */
function received(socket: net.Socket, bytes = 1): Promise<void> {
  return new Promise((resolve) => {
    let got = 0;
    const onData = (chunk: Uint8Array) => {
      got += chunk.byteLength;
      if (got >= bytes) done();
    };
    const done = () => {
      socket.off("data", onData);
      socket.off("close", done);
      resolve();
    };
    socket.on("data", onData);
    socket.once("close", done);
  });
}

function closed(socket: net.Socket): Promise<void> {
  return socket.destroyed
    ? Promise.resolve()
    : new Promise((resolve) => socket.once("close", () => resolve()));
}

function reset(socket: net.Socket): void {
  if (typeof socket.resetAndDestroy === "function") socket.resetAndDestroy();
  else socket.destroy();
}

function startChurnServer() {
  const hub = new Hub<string>({ keepAlive: 50 });
  const server = serve(async (request) => {
    const url = new URL(request.url);
    const [, kind, topic] = url.pathname.split("/");
    if (kind === "auth") await delay(20); // a slow access check the client does not wait for
    return hub.response(request, { topics: topic ?? "" });
  });
  // A big history: a client resuming from its start gets ~1 MB replayed.
  const kilobyte = "r".repeat(1000);
  const first = hub.publish("replay", `0:${kilobyte}`).id;
  for (let i = 1; i < 1000; i++) hub.publish("replay", `${i}:${kilobyte}`);
  return { hub, server, first };
}

type Cycle = (url: string, first: string) => Promise<void>;

// Every way a client leaves, each one cycle.
const CYCLE_KINDS: [string, Cycle][] = [
  ["fetch, first bytes, abort", async (url) => {
    const abort = new AbortController();
    const response = await fetch(`${url}/events/live`, { signal: abort.signal });
    const reader = response.body!.getReader();
    await reader.read();
    abort.abort();
    await reader.cancel().catch(() => {});
  }],
  ["fetch, reader cancelled mid-stream", async (url) => {
    const response = await fetch(`${url}/events/live`);
    const reader = response.body!.getReader();
    await reader.read();
    await reader.cancel();
  }],
  ["raw, first bytes, destroy", async (url) => {
    const socket = await open(url, "GET /events/live HTTP/1.1\r\nHost: x");
    await received(socket);
    socket.destroy();
    await closed(socket);
  }],
  ["raw, reset at once", async (url) => {
    const socket = await open(url, "GET /events/live HTTP/1.1\r\nHost: x");
    reset(socket);
    await closed(socket);
  }],
  ["raw, half-read then reset", async (url) => {
    const socket = await open(url, "GET /events/live HTTP/1.1\r\nHost: x");
    await received(socket);
    socket.pause(); // reads no more while events keep coming
    await delay(5);
    reset(socket);
    await closed(socket);
  }],
  ["HEAD", async (url) => {
    const response = await fetch(`${url}/events/live`, { method: "HEAD" });
    assert.equal(response.status, 200);
    await response.body?.cancel();
  }],
  ["replay, leave after its first bytes", async (url, first) => {
    const socket = await open(url, `GET /events/replay HTTP/1.1\r\nHost: x\r\nLast-Event-ID: ${first}`);
    await received(socket);
    reset(socket);
    await closed(socket);
  }],
  ["replay, leave before the answer", async (url, first) => {
    const socket = await open(url, `GET /events/replay HTTP/1.1\r\nHost: x\r\nLast-Event-ID: ${first}`);
    socket.destroy();
    await closed(socket);
  }],
  ["replay, never read, then reset", async (url, first) => {
    const socket = await open(url, `GET /events/replay HTTP/1.1\r\nHost: x\r\nLast-Event-ID: ${first}`);
    socket.pause();
    await delay(5);
    reset(socket);
    await closed(socket);
  }],
  ["leave while the access check runs", async (url) => {
    const socket = await open(url, "GET /auth/live HTTP/1.1\r\nHost: x");
    reset(socket);
    await closed(socket);
  }],
];

async function churn(url: string, first: string, cycles: number, counts: Map<string, number>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < cycles) {
      const [name, cycle] = CYCLE_KINDS[next++ % CYCLE_KINDS.length]!;
      await withDeadline(cycle(url, first), 10_000, `cycle "${name}"`);
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
}

describe("Hub.response under churn", () => {
  it(`Hub.response leaves no subscriber, topic or timer and no memory behind after ${CYCLES} abrupt connect/disconnect cycles`, async () => {
    const watch = watchUnhandled();
    const { hub, server, first } = startChurnServer();
    // Live events while clients come and go, so streams are written to as they vanish.
    const publisher = setInterval(() => hub.publish("live", "tick ".repeat(20)), 2);
    try {
      const counts = new Map<string, number>();
      await churn(server.url, first, 200, counts); // warm-up: JIT, pools, buffers
      await until(() => hub.size === 0, "no subscribers after the warm-up", 20_000);
      const before = await memory();
      await churn(server.url, first, CYCLES, counts);
      await until(() => hub.size === 0, "every subscriber gone", 20_000);
      clearInterval(publisher);
      await delay(100); // the keep-alive ticks at 50 ms: let it see the hub empty
      const stats = hub.stats();
      const after = await memory();
      console.log(describeGrowth(`churn, ${CYCLES} cycles`, before, after));
      console.log(`cycles by kind: ${[...counts].map(([k, n]) => `${k}: ${n}`).join(", ")}`);
      console.log(`stats: ${JSON.stringify(stats)}`);
      assert.equal(stats.subscribers, 0);
      assert.equal(stats.topics, 0);
      assert.equal(stats.timers, 0);
      assert.ok(
        stats.replayed >= 1000,
        `replays were under way when clients left (replayed ${stats.replayed})`,
      );
      if (after.collected) {
        assert.ok(after.heap - before.heap < 50, describeGrowth("heap grew by 50 MB or more", before, after));
      }
      // Still serving: a new client gets the next event.
      const response = await fetch(`${server.url}/events/live`);
      const reader = response.body!.getReader();
      await reader.read(); // the opening comment
      await until(() => hub.size === 1, "one subscriber");
      hub.publish("live", "after the churn");
      let text = "";
      while (!text.includes("after the churn")) {
        const { value, done } = await withDeadline(reader.read(), 10_000, "the event after the churn");
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      assert.match(text, /data: after the churn\n\n/);
      await reader.cancel();
      await until(() => hub.size === 0, "the last client gone");
    } finally {
      clearInterval(publisher);
      hub.close();
      await server.close();
    }
    await watch.assertNone();
  });
});
