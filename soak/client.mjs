// Soak clients: the long versions of tests/hardening/*, run by scripts/soak.mjs under Node
// against soak/server.ts (a separate Deno or Bun process, so the numbers are the server's
// alone). Each scenario takes { url, cycles, stats } and returns { cycles, note }.
import net from "node:net";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export async function withDeadline(promise, ms, what) {
  let timer;
  try {
    return await Promise.race([
      promise,
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export async function until(condition, what, ms = 30_000) {
  const start = Date.now();
  while (!(await condition())) {
    if (Date.now() - start > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await delay(20);
  }
}

function open(url, head, { pause = false } = {}) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.createConnection({ host: hostname, port: Number(port) }, () => {
      socket.write(head + "\r\n\r\n");
      resolve(socket);
    });
    if (pause) socket.once("data", () => socket.pause());
    socket.on("error", () => {});
    socket.once("error", reject);
  });
}

function received(socket, bytes = 1) {
  return new Promise((resolve) => {
    let got = 0;
    const onData = (chunk) => {
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

const closed = (socket) => (socket.destroyed ? Promise.resolve() : new Promise((r) => socket.once("close", r)));
const reset = (socket) => (typeof socket.resetAndDestroy === "function" ? socket.resetAndDestroy() : socket.destroy());

// The same ways to leave as tests/hardening/churn_test.ts.
const CYCLE_KINDS = [
  async (url) => {
    const abort = new AbortController();
    const response = await fetch(`${url}/events/live`, { signal: abort.signal });
    const reader = response.body.getReader();
    await reader.read();
    abort.abort();
    await reader.cancel().catch(() => {});
  },
  async (url) => {
    const response = await fetch(`${url}/events/live`);
    const reader = response.body.getReader();
    await reader.read();
    await reader.cancel();
  },
  async (url) => {
    const socket = await open(url, "GET /events/live HTTP/1.1\r\nHost: x");
    await received(socket);
    socket.destroy();
    await closed(socket);
  },
  async (url) => {
    const socket = await open(url, "GET /events/live HTTP/1.1\r\nHost: x");
    reset(socket);
    await closed(socket);
  },
  async (url) => {
    const socket = await open(url, "GET /events/live HTTP/1.1\r\nHost: x");
    await received(socket);
    socket.pause();
    await delay(5);
    reset(socket);
    await closed(socket);
  },
  async (url) => {
    const response = await fetch(`${url}/events/live`, { method: "HEAD" });
    await response.body?.cancel();
  },
  async (url, from) => {
    const socket = await open(url, `GET /events/replay HTTP/1.1\r\nHost: x\r\nLast-Event-ID: ${from}`);
    await received(socket);
    reset(socket);
    await closed(socket);
  },
  async (url, from) => {
    const socket = await open(url, `GET /events/replay HTTP/1.1\r\nHost: x\r\nLast-Event-ID: ${from}`);
    socket.destroy();
    await closed(socket);
  },
  async (url, from) => {
    const socket = await open(url, `GET /events/replay HTTP/1.1\r\nHost: x\r\nLast-Event-ID: ${from}`);
    socket.pause();
    await delay(5);
    reset(socket);
    await closed(socket);
  },
  async (url) => {
    const socket = await open(url, "GET /auth/live HTTP/1.1\r\nHost: x");
    reset(socket);
    await closed(socket);
  },
];

async function runCycles(cycles, parallel, cycle) {
  let next = 0;
  let failures = 0;
  const worker = async () => {
    while (next < cycles) {
      const n = next++;
      try {
        await withDeadline(cycle(n), 15_000, `cycle ${n}`);
      } catch {
        failures++; // a refused connection under load; counted, the run goes on
      }
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return failures;
}

/** Connect/disconnect in every way a client can leave: the long version of churn_test.ts. */
export async function churn({ url, cycles, stats }) {
  const { replayFrom } = await stats();
  const failures = await runCycles(cycles, 50, (n) => CYCLE_KINDS[n % CYCLE_KINDS.length](url, replayFrom));
  return { cycles, note: `${CYCLE_KINDS.length} ways to leave, 50 at a time; ${failures} cycles failed client-side` };
}

let slowClientBinary;
function buildSlowClient() {
  if (slowClientBinary !== undefined) return slowClientBinary;
  const source = fileURLToPath(new URL("./slow_client.go", import.meta.url));
  const output = join(mkdtempSync(join(tmpdir(), "sse-hub-soak-")), "slow_client");
  const built = spawnSync("go", ["build", "-o", output, source], { encoding: "utf8" });
  slowClientBinary = built.error === undefined && built.status === 0 ? output : null;
  return slowClientBinary;
}

/**
 * Slow and stalled clients while big events are published: 50 that never read, 10 with a
 * 4 KB receive window reading one byte a second (Go), 10 fast readers that must see every
 * event. `cycles` events of 16 KB are published, in bursts of 10 (160 KB: within the 256 KB
 * budget, so a fast reader is never closed).
 */
export async function slow({ url, cycles }) {
  const stalled = await Promise.all(
    Array.from({ length: 50 }, () => open(url, "GET /events/big HTTP/1.1\r\nHost: x", { pause: true })),
  );
  const binary = buildSlowClient();
  const { host } = new URL(url);
  const trickling = binary
    ? Array.from({ length: 10 }, () =>
      spawn(binary, ["-addr", host, "-path", "/events/big", "-rcvbuf", "4096", "-read", "1", "-every", "1s"], {
        stdio: ["pipe", "ignore", "ignore"],
      }))
    : [];
  const fast = await Promise.all(Array.from({ length: 10 }, async () => {
    const response = await fetch(`${url}/events/big`);
    const reader = response.body.getReader();
    const state = { events: 0, done: false };
    (async () => {
      const decoder = new TextDecoder();
      let text = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
        const blocks = text.split("\n\n");
        text = blocks.pop();
        state.events += blocks.filter((b) => b.includes("data: ")).length;
      }
      state.done = true;
    })().catch(() => (state.done = true));
    return { reader, state };
  }));
  await delay(500);
  let published = 0;
  try {
    while (published < cycles) {
      const response = await fetch(`${url}/burst?topic=big&n=10&size=16384`, { method: "POST" });
      await response.body?.cancel();
      published += 10;
      // Fast readers keep up: each burst reaches them all before the next is sent.
      await until(() => fast.every((f) => f.state.events >= published || f.state.done), `fast readers at ${published}`, 30_000);
      if (fast.some((f) => f.state.done)) throw new Error(`a fast reader was disconnected after ${published} events`);
    }
  } finally {
    for (const socket of stalled) socket.destroy();
    for (const child of trickling) child.kill("SIGKILL");
    for (const { reader } of fast) await reader.cancel().catch(() => {});
  }
  return {
    cycles: published,
    note: `50 stalled, ${trickling.length} one-byte-a-second (4 KB window), 10 fast readers; 16 KB events`,
  };
}

/**
 * Hostile requests in a loop: bad topics, Last-Event-IDs no client would send, too many
 * topics, endless and non-UTF-8 publish bodies. Every answer must be the documented one.
 */
export async function hostile({ url, cycles }) {
  const bad = [];
  const expect = (what, ok) => {
    if (!ok && bad.length < 5) bad.push(what);
  };
  const requests = [
    async () => {
      const r = await fetch(`${url}/events/..%2F..%2Fetc`);
      expect("traversal topic → 400", r.status === 400);
      await r.body?.cancel();
    },
    async () => {
      const r = await fetch(`${url}/events/a%00b`);
      expect("NUL topic → 400", r.status === 400);
      await r.body?.cancel();
    },
    async () => {
      const r = await fetch(`${url}/events/replay`, { headers: { "last-event-id": "9".repeat(4096) } });
      const reader = r.body.getReader();
      let text = "";
      while (!text.includes("unknown-id")) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      expect("huge Last-Event-ID → reset, not echoed", text.includes("sse-hub:reset") && !text.includes("99999999"));
      await reader.cancel();
    },
    async () => {
      const r = await fetch(`${url}/events/?${Array.from({ length: 1000 }, (_, i) => `topic=t${i}`).join("&")}`);
      expect("1000 topics → 400/414/431", [400, 414, 431].includes(r.status));
      await r.body?.cancel();
    },
    async () => {
      const r = await fetch(`${url}/publish`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: new Uint8Array([0x7b, 0xff, 0x7d]),
      });
      expect("invalid UTF-8 → 400", r.status === 400);
      await r.body?.cancel();
    },
    async () => {
      const r = await fetch(`${url}/publish`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "[".repeat(5000) + "]".repeat(5000),
      });
      expect("deep JSON → 400", r.status === 400);
      await r.body?.cancel();
    },
    async () => {
      const socket = await open(
        url,
        "POST /publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked",
      );
      socket.write("1\r\n[");
      let answer = "";
      socket.on("data", (chunk) => (answer += chunk));
      const pump = setInterval(() => {
        if (!socket.destroyed && socket.writableLength < 65536) socket.write("\r\n1000\r\n" + " ".repeat(4096));
      }, 1);
      try {
        await until(() => /"error"/.test(answer) || socket.destroyed, "an answer to an endless upload", 10_000);
      } finally {
        clearInterval(pump);
        socket.destroy();
      }
      expect(`endless upload → 413 (got ${answer.slice(0, 12) || "nothing"})`, /^HTTP\/1\.1 413/.test(answer));
    },
  ];
  const failures = await runCycles(cycles, 20, (n) => requests[n % requests.length]());
  return {
    cycles,
    note: `${requests.length} kinds of hostile request, 20 at a time; ${failures} failed client-side` +
      (bad.length ? `; WRONG ANSWERS: ${bad.join(", ")}` : "; every answer as documented"),
  };
}

/**
 * Close under load: `cycles` clients (fetch, reading) while bursts are published, then
 * POST /close; every client must get every event of the burst topic published before the
 * close, once and in order, then the last event, then the end.
 */
export async function shutdown({ url, cycles }) {
  await fetch(`${url}/ticker?on=0`, { method: "POST" }).then((r) => r.body?.cancel());
  const clients = await Promise.all(Array.from({ length: cycles }, async () => {
    const response = await fetch(`${url}/events/burst`);
    const reader = response.body.getReader();
    const state = { text: "", ended: false, error: undefined };
    (async () => {
      const decoder = new TextDecoder();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        state.text += decoder.decode(value, { stream: true });
      }
      state.ended = true;
    })().catch((error) => {
      state.error = error;
      state.ended = true;
    });
    return state;
  }));
  const bursts = [];
  const publishing = (async () => {
    for (;;) {
      const r = await fetch(`${url}/burst?topic=burst&n=50&size=64`, { method: "POST" }).catch(() => undefined);
      if (!r || r.status !== 200) break;
      bursts.push(await r.json());
    }
  })();
  await delay(1000);
  await fetch(`${url}/close`, { method: "POST" }).then((r) => r.body?.cancel());
  await publishing;
  await until(() => clients.every((c) => c.ended), "every stream to end", 60_000);
  const expected = bursts.length * 50;
  let wrong = 0;
  for (const client of clients) {
    const blocks = client.text.split("\n\n").filter((b) => b.includes("data: "));
    const last = blocks.pop() ?? "";
    const ids = blocks.map((b) => /^id: (\d+)$/m.exec(b)?.[1]);
    const ordered = ids.every((id, i) => i === 0 || BigInt(id) > BigInt(ids[i - 1]));
    if (blocks.length !== expected || !ordered || !last.includes("event: shutdown") || client.error) wrong++;
  }
  return {
    cycles,
    note: `${cycles} clients, ${expected} events each before the close; ` +
      (wrong ? `${wrong} CLIENTS GOT SOMETHING ELSE` : "all got every event once, in order, then the last, then the end"),
  };
}
