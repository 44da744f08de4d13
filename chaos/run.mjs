#!/usr/bin/env node
// `npm run chaos`: every fault scenario of chaos/scenarios.ts, long, against real redis-server
// and real demo processes on Deno and on Bun, with each Redis client library the demo can use
// there. Each run is its own process (chaos/main.ts on the runtime under test). Prints a
// markdown table: scenario × runtime × Redis client → published, delivered, lost, duplicated,
// reordered, resets.
//
//   npm run chaos                                     everything, 60 s of faults per row
//   CHAOS_SECONDS=20 CHAOS_RUNTIMES=deno npm run chaos
//   CHAOS_SCENARIOS=pubsub-kill,instance-crash npm run chaos
//   CHAOS_RATE=1000 (publishes/s) CHAOS_CLIENTS=10 (per instance) CHAOS_NOISE=3000 (pubsub-kill)
//   CHAOS_FAULT_MS: milliseconds between faults (kills 100, crashes 10000, Redis restarts 15000)
//
// Full results (lost ids, the instances' gap logs) go to test-artifacts/chaos/<row>.json, and
// the harness output to <row>.log. Exits 1 when a row shows a lost, duplicated or reordered
// event, a client that never caught up, a crashed instance, or an unrecovered gap its clients
// were not told about (no reset).
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const env = process.env;
const seconds = Number(env.CHAOS_SECONDS ?? 60);
const runtimes = (env.CHAOS_RUNTIMES ?? "deno,bun").split(",");
const ALL = [
  "pubsub-kill",
  "instance-crash",
  "redis-restart-empty",
  "redis-restart-aof",
  "mixed",
  "never-reading",
];
const names = env.CHAOS_SCENARIOS ? env.CHAOS_SCENARIOS.split(",") : ALL;
const options = {
  seconds,
  rate: Number(env.CHAOS_RATE ?? 1000),
  clients: Number(env.CHAOS_CLIENTS ?? 10),
  ...(env.CHAOS_NOISE ? { noise: Number(env.CHAOS_NOISE) } : {}),
  ...(env.CHAOS_FAULT_MS ? { faultEveryMs: Number(env.CHAOS_FAULT_MS) } : {}),
};
const out = join(root, "test-artifacts", "chaos");
mkdirSync(out, { recursive: true });

/** The demo's bridge uses Bun's RedisClient on Bun and node-redis on Deno; pubsub-kill and mixed try node-redis on Bun too. */
const libraries = (name, runtime) =>
  runtime === "deno"
    ? ["node-redis"]
    : ["pubsub-kill", "mixed"].includes(name)
    ? ["node-redis", "bun"]
    : ["bun"];

function runOne(name, runtime, library) {
  const row = `${name}-${runtime}-${library}`;
  const args = runtime === "deno" ? ["run", "-A", "chaos/main.ts"] : ["run", "chaos/main.ts"];
  const json = JSON.stringify({ ...options, runtime, library });
  return new Promise((resolve) => {
    const child = spawn(join(root, "node_modules", ".bin", runtime), [...args, name, json], {
      cwd: root,
      env: { ...env, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let text = "";
    child.stdout.on("data", (chunk) => (text += chunk));
    child.stderr.on("data", (chunk) => (text += chunk));
    const limit = setTimeout(() => child.kill("SIGKILL"), (seconds + 180) * 1000);
    child.on("close", (code) => {
      clearTimeout(limit);
      writeFileSync(join(out, `${row}.log`), text);
      const line = text.split("\n").find((l) => l.startsWith("CHAOS_RESULT "));
      if (!line) {
        resolve({
          scenario: name,
          runtime,
          library,
          failed: `exited ${code} without a result: see ${row}.log`,
        });
        return;
      }
      const result = JSON.parse(line.slice("CHAOS_RESULT ".length));
      writeFileSync(join(out, `${row}.json`), JSON.stringify(result, null, 2));
      resolve(result);
    });
  });
}

const bad = (r) =>
  r.failed || r.lost > 0 || r.duplicated > 0 || r.reordered > 0 || r.stalled > 0 || r.crashed > 0 ||
  r.unwarned > 0;

function notes(r) {
  if (r.failed) return r.failed;
  const parts = [`${r.faults} faults`];
  const failures = Object.entries(r.publishFailures).map(([cause, n]) => `${n}×${cause}`).join(", ");
  if (failures) parts.push(`publishes refused: ${failures}`);
  if (r.lost > 0) parts.push(`${r.clientsWithLoss} clients lost events, first ${r.lostIds[0]?.id}`);
  const gaps = Object.entries(r.unrecoveredGaps).filter(([, n]) => n > 0).map(([i, n]) => `${i}: ${n}`);
  if (gaps.length) parts.push(`unrecovered gaps ${gaps.join(", ")}`);
  if (r.unwarned > 0) parts.push(`**${r.unwarned} clients not told of a gap**`);
  if (r.stalled > 0) parts.push(`**${r.stalled} clients never caught up**`);
  if (r.crashed > 0) parts.push(`**${r.crashed} instances crashed**`);
  if (r.unacked > 0) parts.push(`${r.unacked} unacknowledged events seen`);
  const slow = Object.values(r.stats).reduce((sum, s) => sum + (s.slowDisconnects ?? 0), 0);
  if (slow > 0) parts.push(`${slow} slow subscribers closed`);
  return parts.join("; ");
}

const rows = [];
console.log(
  `chaos: ${seconds} s of faults per row, ${options.rate} publishes/s, ${options.clients} clients per instance`,
);
for (const name of names) {
  for (const runtime of runtimes) {
    for (const library of libraries(name, runtime)) {
      const started = Date.now();
      const result = await runOne(name, runtime, library);
      rows.push(result);
      console.log(
        `${bad(result) ? "FAIL" : "ok  "} ${name} ${runtime} ${library} (${
          Math.round((Date.now() - started) / 1000)
        } s)`,
      );
    }
  }
}

const lines = [
  "| scenario | runtime | Redis client | clients | published | owed | delivered | lost | duplicated | reordered | resets (missed under reset) | notes |",
  "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
];
for (const r of rows) {
  const library = r.library === "bun" ? "Bun RedisClient" : r.library;
  if (r.failed) {
    lines.push(`| ${r.scenario} | ${r.runtime} | ${library} | | | | | | | | | ${r.failed} |`);
    continue;
  }
  const reasons = Object.entries(r.resetReasons).map(([reason, n]) => `${n}× ${reason}`).join(", ");
  const resets = r.resets === 0 ? "0" : `${r.resets} (${r.missedUnderReset}; ${reasons})`;
  lines.push(
    `| ${r.scenario} | ${r.runtime} | ${library} | ${r.clients} | ${r.acked} | ${r.published} | ${r.delivered} | ` +
      `${r.lost} | ${r.duplicated} | ${r.reordered} | ${resets} | ${notes(r)} |`,
  );
}
console.log(`\n${lines.join("\n")}\n`);
writeFileSync(join(out, "table.md"), lines.join("\n") + "\n");
process.exit(rows.some(bad) ? 1 : 0);
