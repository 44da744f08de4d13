// Slow and stalled clients over real HTTP: clients that never read, that read a trickle, and
// that stall mid-replay. Per subscriber the hub holds at most its budget (plus what it replays,
// which shares the history's bytes), the overflow policy acts, and fast clients never wait.
import { describe, it } from "../helpers/timed.ts";
import assert from "node:assert/strict";
import net from "node:net";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { EventDecoderStream, Hub, MemoryHistory } from "../../mod.ts";
import type { DecodedEvent, HistoryStore, HubOptions, MemoryHistoryOptions } from "../../mod.ts";
import { describeGrowth, memory } from "../helpers/memory.ts";
import { delay, serve, until, withDeadline } from "../helpers/server.ts";
import { watchUnhandled } from "../helpers/unhandled.ts";
import { readOpening } from "../helpers/client.ts";

function start(options: HubOptions) {
  const hub = new Hub<string>(options);
  const server = serve((request) => {
    const topic = new URL(request.url).pathname.slice(1);
    return hub.response(request, { topics: topic });
  });
  return { hub, server };
}

/** A client that reads nothing after `bytes` bytes (its TCP window fills, then the server's queue). */
function stalled(url: string, head: string, bytes = 1): Promise<net.Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    let got = 0;
    const socket = net.createConnection(
      { host: hostname, port: Number(port) },
      () => socket.write(head + "\r\n\r\n"),
    );
    socket.on("data", (chunk: Uint8Array) => {
      got += chunk.byteLength;
      if (got >= bytes) {
        socket.pause();
        resolve(socket);
      }
    });
    socket.on("error", () => {});
    socket.once("error", reject);
  });
}

/** A fast client that keeps nothing but the events it has not taken yet (no transcript). */
async function fastClient(url: string) {
  const response = await fetch(url);
  assert.equal(response.status, 200);
  const reader = response.body!.pipeThrough(new EventDecoderStream()).getReader();
  return {
    async next(): Promise<DecodedEvent> {
      const { value, done } = await withDeadline(reader.read(), 10_000, "the next event");
      assert.ok(!done, "the fast client's stream ended");
      return value;
    },
    close: () => reader.cancel().catch(() => {}),
  };
}

describe("Hub.response with slow and stalled clients", () => {
  it('Hub.response keeps memory bounded by the budget when 20 clients never read 200 MB of events (overflow "drop")', async () => {
    const watch = watchUnhandled();
    const { hub, server } = start({ overflow: "drop", bufferBytes: 256 * 1024, keepAlive: false });
    const stalledClients = await Promise.all(
      Array.from({ length: 20 }, () => stalled(server.url, "GET /big HTTP/1.1\r\nHost: x")),
    );
    const fast = await fastClient(`${server.url}/big`);
    await until(() => hub.size === 21, "21 subscribers");
    const payload = "x".repeat(64 * 1024);
    const events = 3200; // 200 MB published to each stalled client
    let before = await memory();
    for (let i = 0; i < events; i++) {
      if (i === 200) before = await memory(); // once warmed up and the queues are full
      hub.publish("big", payload);
      // Each event reaches the fast client before the next is published: nobody waits for the stalled ones.
      assert.equal((await fast.next()).data.length, payload.length);
    }
    const after = await memory();
    const stats = hub.stats();
    console.log(describeGrowth(`20 stalled clients, ${events} × 64 KB published`, before, after));
    console.log(
      `stats: dropped ${stats.dropped}, delivered ${stats.delivered}, subscribers ${stats.subscribers}`,
    );
    assert.equal(stats.subscribers, 21, 'under "drop" the stalled clients stay subscribed');
    assert.equal(stats.slowDisconnects, 0);
    // Almost everything was dropped for the stalled clients: each took at most its budget plus
    // what the sockets buffer (Linux autotunes loopback buffers up to ~36 MB: 600 events), of 200 MB.
    assert.ok(stats.dropped > 20 * (events - 600), `dropped ${stats.dropped}`);
    assert.ok(stats.delivered < events + 20 * 600, `delivered ${stats.delivered}`);
    if (after.collected) {
      assert.ok(
        after.heap - before.heap < 50,
        describeGrowth("the heap grew with the amount published", before, after),
      );
    }
    for (const socket of stalledClients) socket.destroy();
    await fast.close();
    await until(() => hub.size === 0, "no subscribers");
    hub.close();
    await server.close();
    await watch.assertNone();
  });

  it("Hub.response closes a client with a 4 KB receive window reading one byte a second, and keeps fast clients on time", async () => {
    // Without Go this FAILS (never skips: Deno would report a runtime skip as a pass).
    const binary = await buildSlowClient();
    assert.ok(
      binary !== undefined,
      "needs `go` to build soak/slow_client.go (Debian/Ubuntu: apt-get install golang-go)",
    );
    const watch = watchUnhandled();
    const { hub, server } = start({ overflow: "close", bufferBytes: 32 * 1024, keepAlive: false });
    const slow = await spawnSlowClient(binary, server.url, "/t", { rcvbuf: 4096, read: 1, every: "1s" });
    const fast = await Promise.all(Array.from({ length: 5 }, () => fastClient(`${server.url}/t`)));
    await until(() => hub.size === 6, "6 subscribers");
    const payload = "y".repeat(4096);
    let sent = 0;
    let report: { bytes: number; end: string };
    try {
      while (hub.stats().slowDisconnects === 0 && sent < 10_000) {
        hub.publish("t", `${sent}:${payload}`);
        // Each event reaches every fast client before the next is published.
        for (const client of fast) assert.equal((await client.next()).data, `${sent}:${payload}`);
        sent++;
      }
      report = await slow.drain(); // ends only if the server ended the connection
    } finally {
      slow.stop();
    }
    const { bytes, end } = report;
    console.log(
      `the slow client was closed after ${sent} events of 4 KB; it had read ${bytes} bytes (${end})`,
    );
    const stats = hub.stats();
    assert.equal(stats.slowDisconnects, 1);
    assert.equal(stats.subscribers, 5);
    // What it was sent before the policy acted: its 32 KB budget plus what the sockets hold.
    assert.ok(sent < 2000, `the slow client took ${sent} events of 4 KB before it was closed`);
    assert.ok(end === "eof" || end === "reset" || end === "error", `its connection was ended (${end})`);
    hub.publish("t", "after");
    for (const client of fast) assert.equal((await client.next()).data, "after");
    await Promise.all(fast.map((client) => client.close()));
    await until(() => hub.size === 0, "no subscribers");
    hub.close();
    await server.close();
    await watch.assertNone();
  });

  it("Hub.response keeps fast clients on time and forgets 100 clients that stalled mid-replay", async () => {
    const watch = watchUnhandled();
    const { hub, server } = start({ keepAlive: false });
    const first = publishHistory(hub, "h");
    const clients = await Promise.all(
      Array.from(
        { length: 100 },
        () => stalled(server.url, `GET /h HTTP/1.1\r\nHost: x\r\nLast-Event-ID: ${first}`),
      ),
    );
    const fast = await fastClient(`${server.url}/h`);
    await until(() => hub.size === 101, "101 subscribers");
    for (let i = 0; i < 50; i++) {
      hub.publish("h", `live ${i}`);
      assert.equal((await fast.next()).data, `live ${i}`);
    }
    assert.equal(hub.stats().replayed, 100 * 999);
    for (const socket of clients) socket.destroy();
    await until(() => hub.size === 1, "the stalled clients gone");
    await fast.close();
    await until(() => hub.size === 0, "no subscribers");
    hub.close();
    await server.close();
    await watch.assertNone();
  });
});

// Loopback TCP buffers absorb megabytes per connection, so whether a socket client's queue is
// still full when the next event comes is up to the kernel. A response body read no further
// than its opening (which a runtime reads at once) is a client that stops reading there,
// deterministically: the hub's own accounting, exactly.
describe("Hub.response with unread response bodies", () => {
  it("Hub.response queues a replay by reference to the history's bytes, not by copy, for 200 unread streams", async () => {
    const hub = new Hub<string>({ overflow: "drop", keepAlive: false });
    const first = publishHistory(hub, "h");
    const before = await memory();
    const responses: Response[] = [];
    for (let i = 0; i < 200; i++) {
      const request = new Request("http://localhost/h", { headers: { "last-event-id": first } });
      responses.push(await readOpening(await hub.response(request, { topics: "h" })));
    }
    const after = await memory();
    console.log(describeGrowth("200 unread streams each replaying ~1 MB of history", before, after));
    assert.equal(hub.stats().replayed, 200 * 999);
    if (after.collected) {
      // 200 MB if each replay copied the history; its queue entries only point into it.
      assert.ok(after.heap - before.heap < 100, describeGrowth("replays copied the history", before, after));
    }
    await Promise.all(responses.map((response) => response.body!.cancel()));
    assert.equal(hub.size, 0);
    hub.close();
  });

  for (const overflow of ["close", "drop"] as const) {
    it(`Hub.response applies the overflow policy ("${overflow}") at the first live event when a replay fills the budget`, async () => {
      const hub = new Hub<string>({ overflow, keepAlive: false, bufferBytes: 64 * 1024 });
      const first = publishHistory(hub, "h");
      const request = new Request("http://localhost/h", { headers: { "last-event-id": first } });
      const unread = await readOpening(await hub.response(request, { topics: "h" }));
      const live = await hub.response(new Request("http://localhost/h"), { topics: "h" });
      const reader = live.body!.pipeThrough(new EventDecoderStream()).getReader();
      const result = hub.publish("h", "live");
      assert.equal(result.delivered, 1);
      assert.equal((await withDeadline(reader.read(), 5000, "the live event")).value?.data, "live");
      const stats = hub.stats();
      if (overflow === "close") {
        assert.equal(stats.slowDisconnects, 1);
        assert.equal(hub.size, 1);
        await assert.rejects(unread.body!.getReader().read(), { name: "HubError", type: "slow-subscriber" });
      } else {
        assert.equal(stats.dropped, 1);
        assert.equal(hub.size, 2);
        await unread.body!.cancel();
      }
      await reader.cancel();
      assert.equal(hub.size, 0);
      hub.close();
    });
  }
});

describe("Hub.response with a slow history store", () => {
  /**
   * A store that answers `since` only when released (Redis under load, or down), reading
   * its memory either when asked (`snapshot: "early"`) or when released (`"late"`).
   */
  function gatedStore(snapshot: "early" | "late", options: MemoryHistoryOptions = {}) {
    const memory = new MemoryHistory(options);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const store: HistoryStore = {
      append: (entry) => memory.append(entry),
      since: async (topics, id) => {
        const early = snapshot === "early" ? memory.since(topics, id) : undefined;
        await gate;
        return early ?? memory.since(topics, id);
      },
    };
    return { store, release };
  }

  /** Reads events until one whose data is `last` (deadline-guarded). */
  async function readUntil(body: ReadableStream<Uint8Array>, last: string): Promise<DecodedEvent[]> {
    const reader = body.pipeThrough(new EventDecoderStream()).getReader();
    const events: DecodedEvent[] = [];
    while (events.at(-1)?.data !== last) {
      const { value, done } = await withDeadline(
        reader.read(),
        5000,
        `the event "${last}" (have ${events.length})`,
      );
      if (done) break;
      events.push(value);
    }
    await reader.cancel();
    return events;
  }

  for (const overflow of ["close", "drop"] as const) {
    it(`Hub.response closes a client whose held live events pass its budget before the store answers (overflow "${overflow}")`, async () => {
      const { store, release } = gatedStore("late");
      const hub = new Hub<string>({ history: store, overflow, keepAlive: false, bufferBytes: 64 * 1024 });
      const first = hub.publish("t", "before").id;
      const waiting = await hub.response(
        new Request("http://localhost/t", { headers: { "last-event-id": first } }),
        {
          topics: "t",
        },
      );
      const payload = "p".repeat(16 * 1024);
      for (let i = 0; i < 1000; i++) hub.publish("t", `${i}:${payload}`); // 16 MB while the store is silent
      assert.equal(
        hub.stats().slowDisconnects,
        1,
        "held within the budget, then closed (it resumes on reconnect)",
      );
      assert.equal(hub.size, 0);
      release();
      await assert.rejects(waiting.body!.getReader().read(), { name: "HubError", type: "slow-subscriber" });
      hub.close();
    });
  }

  for (const snapshot of ["early", "late"] as const) {
    it(`Hub.response sends what the store missed and what was published meanwhile once and in order (store reads ${snapshot})`, async () => {
      const { store, release } = gatedStore(snapshot, { maxEvents: 10 });
      const hub = new Hub<string>({ history: store, keepAlive: false });
      const ids = [hub.publish("t", "e0").id];
      for (let i = 1; i <= 5; i++) ids.push(hub.publish("t", `e${i}`).id);
      // Resumes after e2: e3..e5 are in the store; e6..e100 are published while it is asked.
      const waiting = await readOpening(
        await hub.response(new Request("http://localhost/t", { headers: { "last-event-id": ids[2]! } }), {
          topics: "t",
        }),
      );
      for (let i = 6; i <= 100; i++) hub.publish("t", `e${i}`);
      release();
      await delay(10); // the store answers
      hub.publish("t", "end");
      const events = await readUntil(waiting.body!, "end");
      const data = events.map((e) => e.data);
      if (snapshot === "early") {
        // The store answered as of the request: e3..e5, then every event held meanwhile.
        assert.deepEqual(data, [...Array.from({ length: 98 }, (_, i) => `e${i + 3}`), "end"]);
      } else {
        // The store answered after e6..e90 had left its 10 events: it says so, then the 10 it has;
        // the held copies of what it had no longer are not sent after newer ones.
        assert.equal(events[0]!.event, "sse-hub:reset");
        assert.deepEqual(data.slice(1), [...Array.from({ length: 10 }, (_, i) => `e${i + 91}`), "end"]);
      }
      const sent = events.slice(events[0]!.event === "sse-hub:reset" ? 1 : 0).map((e) => BigInt(e.id));
      assert.deepEqual(sent, [...sent].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)), "ids only grow");
      hub.close();
    });
  }
});

/** Publishes 1000 events of ~1 KB (~1 MB, the default history per topic); returns the first id. */
function publishHistory(hub: Hub<string>, topic: string): string {
  const kilobyte = "h".repeat(1000);
  const first = hub.publish(topic, `0:${kilobyte}`).id;
  for (let i = 1; i < 1000; i++) hub.publish(topic, `${i}:${kilobyte}`);
  return first;
}

let slowClientBinary: Promise<string | undefined> | undefined;

/** Builds soak/slow_client.go once per process (a second or so, then Go's build cache). */
function buildSlowClient(): Promise<string | undefined> {
  slowClientBinary ??= Promise.resolve().then(() => {
    const source = fileURLToPath(new URL("../../soak/slow_client.go", import.meta.url));
    const output = join(mkdtempSync(join(tmpdir(), "sse-hub-slow-client-")), "slow_client");
    const built = spawnSync("go", ["build", "-o", output, source], { encoding: "utf8" });
    if (built.error !== undefined) return undefined; // no Go toolchain
    assert.equal(built.status, 0, `go build failed: ${built.stderr}`);
    assert.ok(existsSync(output));
    return output;
  });
  return slowClientBinary;
}

/** Starts the Go slow client; resolves once its request is written. */
async function spawnSlowClient(
  binary: string,
  url: string,
  path: string,
  options: { rcvbuf: number; read: number; every: string; headers?: string[] },
) {
  const { host } = new URL(url);
  const args = [
    "-addr",
    host,
    "-path",
    path,
    "-rcvbuf",
    String(options.rcvbuf),
    "-read",
    String(options.read),
  ];
  args.push("-every", options.every);
  for (const header of options.headers ?? []) args.push("-header", header);
  const child = spawn(binary, args, { stdio: ["pipe", "pipe", "pipe"] });
  let output = "";
  const result = new Promise<{ bytes: number; end: string }>((resolve, reject) => {
    child.once("exit", () => {
      const line = output.trim().split("\n").at(-1) ?? "";
      try {
        resolve(JSON.parse(line));
      } catch {
        reject(new Error(`the slow client ended without its report: ${output}`));
      }
    });
  });
  await withDeadline(
    new Promise<void>((resolve, reject) => {
      child.stdout!.on("data", (chunk: Uint8Array) => {
        output += new TextDecoder().decode(chunk);
        if (output.includes("connected\n")) resolve();
      });
      child.stderr!.on("data", (chunk: Uint8Array) => (output += new TextDecoder().decode(chunk)));
      child.once("exit", (code) => reject(new Error(`the slow client exited (${code}): ${output}`)));
    }),
    10_000,
    "the slow client to connect",
  );
  result.catch(() => {}); // awaited through drain()
  return {
    /** Makes it read everything still buffered; resolves with its report once the server has closed the connection. */
    drain() {
      child.stdin!.write("drain\n");
      return withDeadline(result, 10_000, "the server to end the slow client's connection").finally(() =>
        child.kill()
      );
    },
    /** Kills it (cleanup when a test fails before `drain`). */
    stop: () => child.kill("SIGKILL"),
  };
}
