#!/usr/bin/env node
// Cross-instance latency through the Redis bridge, against in-run baselines.
//
//   npm run bench:cross                 Deno and Bun, 5 repetitions of 400 events
//   npm run bench:cross -- --quick      3 repetitions of 150 events
//   npm run bench:cross -- --runtimes bun --events 1000 --reps 7
//
// For each runtime, three server processes of examples/scale-out/server.ts:
//   memory   one instance without Redis (the in-memory hub): the baseline;
//   A and B  two instances bridged by one fresh redis-server.
// A Node client holds an SSE stream on each, then publishes one event at a time
// (POST /publish, the next only after every stream has it) and times publish → receive:
//   same instance   POST to A, received on A (through Redis: A's own echo);
//   cross instance  POST to A, received on B;
//   in-memory       POST to memory, received on memory.
// p50/p99 are per repetition; the table shows their medians, and ratios against in-memory.
// Writes bench/results/cross_instance.json. Everything is bounded: events, reps, a hard limit.
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import * as h from "./_harness.mjs"; // its children are killed on exit

const { root } = h;
const argv = process.argv.slice(2);
const option = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : fallback;
};
const quick = argv.includes("--quick");
const runtimes = option("runtimes", "deno,bun").split(",");
const events = Number(option("events", quick ? 150 : 400));
const reps = Number(option("reps", quick ? 3 : 5));
const warmup = 200; // per measurement, not timed: JIT and connection warm-up
const hardLimit = setTimeout(() => {
  console.error("bench:cross: hard time limit reached");
  h.killAll();
  process.exit(1);
}, (quick ? 3 : 10) * 60_000);

async function startServer(runtime, redisUrl) {
  const args = runtime === "deno"
    ? ["run", "-A", "examples/scale-out/server.ts"]
    : ["run", "examples/scale-out/server.ts"];
  const env = { ...process.env, PORT: "0", HOST: "127.0.0.1", NO_COLOR: "1" };
  delete env.REDIS_URL;
  if (redisUrl) env.REDIS_URL = redisUrl;
  const child = spawn(join(root, "node_modules/.bin", runtime), args, {
    cwd: root,
    env,
    stdio: ["ignore", "pipe", "inherit"],
  });
  h.children.add(child);
  child.on("exit", () => h.children.delete(child));
  const url = await new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const match = /listening on (http:\/\/[\d.]+:\d+)/.exec(out);
      if (match) resolve(match[1]);
    });
    child.once("exit", (code) => reject(new Error(`${runtime} server exited (${code})`)));
  });
  return { url, child };
}

// An SSE stream read by fetch: calls `onData(data, at)` with performance.now() for every event.
async function subscribe(url, topic, onData) {
  const abort = new AbortController();
  const response = await fetch(`${url}/events/${topic}`, { signal: abort.signal });
  if (response.status !== 200) throw new Error(`subscribe ${url}: ${response.status}`);
  const decoder = new TextDecoder();
  let buffer = "";
  const pump = (async () => {
    try {
      for await (const chunk of response.body) {
        const at = performance.now();
        buffer += decoder.decode(chunk, { stream: true });
        let end;
        while ((end = buffer.indexOf("\n\n")) !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block.split("\n").filter((line) => line.startsWith("data: ")).map((line) =>
            line.slice(6)
          );
          if (data.length > 0) onData(data.join("\n"), at);
        }
      }
    } catch {
      // aborted
    }
  })();
  return { close: async () => (abort.abort(), await pump) };
}

async function publish(url, topic, msg) {
  const response = await fetch(`${url}/publish`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ topic, msg }),
  });
  const body = await response.text();
  if (response.status !== 200) throw new Error(`publish ${url}: ${response.status} ${body}`);
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length % 2
    ? sorted[(sorted.length - 1) / 2]
    : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
};

// Publishes to `publisher` one at a time; `streams` are the URLs whose receive times are recorded.
async function measure(publisher, streams, count) {
  const topic = `bench${Math.random().toString(36).slice(2, 8)}`;
  const arrivals = streams.map(() => new Map());
  let wake = () => {};
  const subscriptions = await Promise.all(streams.map((url, i) =>
    subscribe(url, topic, (data, at) => {
      arrivals[i].set(data, at);
      wake();
    })
  ));
  const sentAt = new Map();
  try {
    for (let n = 0; n < warmup + count; n++) {
      const msg = String(n);
      const arrived = new Promise((resolve) => {
        wake = () => arrivals.every((map) => map.has(msg)) && resolve();
        wake();
      });
      sentAt.set(msg, performance.now());
      await publish(publisher, topic, msg);
      await Promise.race([
        arrived,
        new Promise((_, reject) => setTimeout(() => reject(new Error(`event ${n} lost`)), 10_000)),
      ]);
    }
  } finally {
    await Promise.all(subscriptions.map((s) => s.close()));
  }
  return arrivals.map((map) => {
    const latencies = [];
    for (let n = warmup; n < warmup + count; n++) latencies.push(map.get(String(n)) - sentAt.get(String(n)));
    latencies.sort((a, b) => a - b);
    return { p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
  });
}

async function benchRuntime(runtime) {
  const redis = await h.startRedis(`0-${cpus().length - 1}`);
  const [memory, a, b] = await Promise.all([
    startServer(runtime),
    startServer(runtime, redis.url),
    startServer(runtime, redis.url),
  ]);
  const runs = { memory: [], same: [], cross: [] };
  try {
    for (let rep = 0; rep < reps; rep++) {
      const [inMemory] = await measure(memory.url, [memory.url], events);
      const [same, cross] = await measure(a.url, [a.url, b.url], events);
      runs.memory.push(inMemory);
      runs.same.push(same);
      runs.cross.push(cross);
      process.stderr.write(
        `  ${runtime} rep ${rep + 1}/${reps}: memory p50 ${inMemory.p50.toFixed(3)} ms, ` +
          `same ${same.p50.toFixed(3)} ms, cross ${cross.p50.toFixed(3)} ms\n`,
      );
    }
  } finally {
    await Promise.all([memory, a, b].map((s) => h.stop(s.child)));
    await redis.stop();
  }
  const summary = {};
  for (const [name, list] of Object.entries(runs)) {
    summary[name] = { p50: median(list.map((r) => r.p50)), p99: median(list.map((r) => r.p99)), reps: list };
  }
  return summary;
}

const results = {
  date: new Date().toISOString(),
  cpus: cpus().length,
  node: process.version,
  events,
  reps,
  runtimes: {},
};
console.error(
  `bench:cross: ${runtimes.join(", ")}; ${reps} reps × ${events} events (+${warmup} warm-up), one at a time`,
);
for (const runtime of runtimes) results.runtimes[runtime] = await benchRuntime(runtime);

const rows = [
  ["in-memory (1 instance, no Redis)", "memory"],
  ["bridged, same instance (A → Redis → A)", "same"],
  ["bridged, cross instance (A → Redis → B)", "cross"],
];
console.log(
  `\n### Publish → receive latency, one event at a time (medians of ${reps} reps × ${events} events)\n`,
);
console.log("| runtime | path | p50 ms | p99 ms | p50 vs in-memory | p99 vs in-memory |");
console.log("| --- | --- | --- | --- | --- | --- |");
for (const [runtime, summary] of Object.entries(results.runtimes)) {
  for (const [label, key] of rows) {
    const { p50, p99 } = summary[key];
    const base = summary.memory;
    console.log(
      `| ${runtime} | ${label} | ${p50.toFixed(3)} | ${p99.toFixed(3)} | ` +
        `${(p50 / base.p50).toFixed(2)}× | ${(p99 / base.p99).toFixed(2)}× |`,
    );
  }
}
mkdirSync(join(root, "bench/results"), { recursive: true });
writeFileSync(join(root, "bench/results/cross_instance.json"), JSON.stringify(results, null, 2) + "\n");
console.error("\nwrote bench/results/cross_instance.json");
clearTimeout(hardLimit);
