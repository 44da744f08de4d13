#!/usr/bin/env node
// Publishes/s through the Redis bridge from one instance, against plain PUBLISH from the same
// client in the same run (issue 14 aims at ≥ 0.6× of it).
//
//   npm run bench:bus                         Deno (node-redis) and Bun (node-redis, Bun's RedisClient)
//   npm run bench:bus -- --quick              fewer events, 3 reps
//   npm run bench:bus -- --runtimes bun --in-flight 1,16,256 --events 20000 --reps 7 --quiet-ms 5000
//
// Run by node, this file runs itself under each runtime (`deno run -A` / `bun`), which starts a
// fresh redis-server (tests/helpers/redis.ts, no persistence) and measures, per client library and
// per number of publishes in flight (a closed loop: each of K callers publishes again as soon as
// its publish settles), the rate of:
//   PUBLISH          plain `PUBLISH channel body` (a body of the bridge's size), the same client;
//   PUBLISH, heard   the same to a channel this instance's subscriber connection listens to (a
//                    listener that only counts), as every bridged instance hears its own events:
//                    the floor of a bus, before any script;
//   one script/event what the bridge did before batching: one EVALSHA (XADD + PUBLISH) per event;
//   bridge.publish   RedisBridge.publish: resolves with the stream id (batched: one call for
//                    the publishes waiting);
//   hub.publishAsync a bridged Hub: resolves once its own echo came back over pub/sub.
// The five alternate within each repetition; the table shows medians and ratios against both PUBLISHes.
// Writes bench/results/bus.json and prints a RESULT line (bench/run.mjs reads it). Every wait is bounded; the whole run stops after --limit-min.
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const argv = process.argv.slice(2);
const option = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : fallback;
};
const quick = argv.includes("--quick");
const config = {
  inFlight: option("in-flight", "1,16,256").split(",").map(Number),
  // Per measurement (÷ 10 with 1 in flight). 10,000 was ~40 calls at 256 in flight: too short for a
  // steady state (the ratios moved by ±0.2 between runs).
  events: Number(option("events", quick ? 10_000 : 50_000)),
  reps: Number(option("reps", quick ? 3 : 5)),
  quietMs: Number(option("quiet-ms", 2000)), // the longest wait for a quiet machine before a measurement
};
const median = (values) => {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

if ("Deno" in globalThis || "Bun" in globalThis) await measure();
else await orchestrate();

// ---------------------------------------------------------------- under Deno or Bun
async function measure() {
  const { Hub, RedisBridge } = await import("../mod.ts");
  const { evalScript, PUBLISH_SCRIPT } = await import("../src/bridge/_redis_scripts.ts");
  const { clientKinds, startRedis } = await import("../tests/helpers/redis.ts");
  const { waitQuiet, watchForeign } = await import("./_load.mjs");
  const redis = await startRedis({ persistence: false });
  // Redis's CPU is part of what is measured, not "others'".
  const redisPid = Number(/process_id:(\d+)/.exec(String(await redis.command("INFO", "server")))[1]);
  const ours = ["self", redisPid];
  const data = JSON.stringify({ r: 1, i: 0, t: Date.now() * 1000, p: "x".repeat(40) });
  const body = JSON.stringify(["bench", null, data, 1, "abcdefgh:1"]);
  const rows = [];
  try {
    for (const kind of clientKinds) {
      const pair = await kind.connect(redis.url);
      const bridge = new RedisBridge({ client: pair.client, subscriber: pair.subscriber, key: "bench" });
      const hub = new Hub({ bridge });
      await bridge.ready;
      let heard = 0;
      await pair.subscriber.subscribe("bench-heard", () => heard++);
      const raw = "send" in pair.client
        ? (args) => pair.client.send(args[0], args.slice(1))
        : (args) => pair.client.sendCommand(args);
      let origin = 0;
      const ops = {
        "PUBLISH": () => raw(["PUBLISH", "bench-plain", `1796000000000-0 ${body}`]),
        "PUBLISH, heard": () => raw(["PUBLISH", "bench-heard", `1796000000000-0 ${body}`]),
        "one script/event": () =>
          evalScript(
            pair.client,
            PUBLISH_SCRIPT,
            ["bench-single"],
            ["10000", "bench-single", "bench", body],
            2000,
          ),
        "bridge.publish": () =>
          bridge.publish({ topic: "bench", data, json: true, origin: `bench:${++origin}` }),
        "hub.publishAsync": () => hub.publishAsync("bench", data),
      };
      for (const inFlight of config.inFlight) {
        const total = inFlight === 1 ? Math.max(100, config.events / 10) : config.events;
        const runs = Object.fromEntries(Object.keys(ops).map((name) => [name, []]));
        for (let rep = -1; rep < config.reps; rep++) { // rep -1: warm-up, not recorded
          const names = Object.keys(ops);
          if (rep % 2) names.reverse(); // alternate the order between repetitions
          for (const name of names) {
            if (rep >= 0) await waitQuiet({ ours, maxMs: config.quietMs });
            const watch = watchForeign(ours);
            const perS = await closedLoop(inFlight, rep < 0 ? Math.min(total, 2000) : total, ops[name]);
            if (rep >= 0) runs[name].push({ perS, foreignCpus: +watch.stop().toFixed(3) });
          }
        }
        const plain = median(runs["PUBLISH"].map((r) => r.perS));
        const plainHeard = median(runs["PUBLISH, heard"].map((r) => r.perS));
        for (const [name, list] of Object.entries(runs)) {
          const perS = median(list.map((r) => r.perS));
          rows.push({
            runtime: "Deno" in globalThis ? "deno" : "bun",
            library: kind.name,
            inFlight,
            path: name,
            perS,
            vsPublish: perS / plain,
            vsHeard: perS / plainHeard,
            foreignCpusMax: Math.max(...list.map((r) => r.foreignCpus)),
            reps: list,
          });
        }
        console.error(`  ${kind.name}, ${inFlight} in flight: done (${heard} heard)`);
      }
      hub.close();
      await bridge.close();
      await pair.close();
    }
  } finally {
    await redis.stop();
  }
  console.log(JSON.stringify(rows));
  process.exit(0);
}

// K callers, each publishing again once its publish settled, until `total` were sent; per second.
async function closedLoop(inFlight, total, op) {
  let sent = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (sent < total) {
      sent++;
      await op();
    }
  }));
  return total / ((performance.now() - start) / 1000);
}

// ---------------------------------------------------------------- under node
async function orchestrate() {
  const runtimes = option("runtimes", "deno,bun").split(",");
  const limit = setTimeout(() => {
    console.error("bench:bus: time limit reached");
    process.exit(1);
  }, Number(option("limit-min", 10)) * 60_000);
  const children = new Set();
  process.on("exit", () => children.forEach((child) => child.kill("SIGKILL")));
  for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(130));
  console.error(
    `bench:bus: ${runtimes.join(", ")}; in flight ${config.inFlight.join(", ")}; ` +
      `${config.events} publishes per measurement, ${config.reps} reps (medians)`,
  );
  const rows = [];
  for (const runtime of runtimes) {
    const args = runtime === "deno" ? ["run", "-A", "bench/bus.mjs", ...argv] : ["bench/bus.mjs", ...argv];
    const out = await new Promise((resolve, reject) => {
      const child = spawn(join(root, "node_modules/.bin", runtime), args, {
        cwd: root,
        env: { ...process.env, NO_COLOR: "1" },
        stdio: ["ignore", "pipe", "inherit"],
      });
      children.add(child);
      let text = "";
      child.stdout.on("data", (chunk) => (text += chunk));
      child.on("exit", (code) => {
        children.delete(child);
        code === 0 ? resolve(text) : reject(new Error(`${runtime} bench/bus.mjs exited ${code}`));
      });
    });
    rows.push(...JSON.parse(out.trim().split("\n").at(-1)));
  }
  clearTimeout(limit);
  console.log(`\n### Redis bridge: publishes/s from one instance (medians of ${config.reps} reps)\n`);
  const { busTable } = await import("./_extras.mjs");
  console.log(busTable({ rows }));
  const results = { date: new Date().toISOString(), cpus: cpus().length, config, rows };
  mkdirSync(join(root, "bench/results"), { recursive: true });
  writeFileSync(join(root, "bench/results/bus.json"), JSON.stringify(results, null, 2) + "\n");
  console.error("\nwrote bench/results/bus.json");
  console.log(`RESULT ${JSON.stringify(results)}`); // for bench/run.mjs
}
