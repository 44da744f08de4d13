#!/usr/bin/env node
// `npm run soak`: the long versions of tests/hardening/*, each against a fresh
// soak/server.ts on Deno and on Bun (clients in this Node process, so the memory figures
// are the server's alone). Prints a markdown table: scenario, runtime, cycles, memory
// (baseline after warm-up and GC → peak during the run → final after GC), leaked
// subscribers and timers once every client is gone, unhandled errors in the server.
//
//   npm run soak                                  everything (churn 20k cycles, ~5-10 min)
//   SOAK_SCALE=0.1 npm run soak                   a tenth of every cycle count
//   SOAK_RUNTIMES=bun SOAK_SCENARIOS=churn npm run soak
//
// Server output goes to test-artifacts/soak-<runtime>-<scenario>.log. Exits 1 when a row
// shows a leak, an unhandled error, a wrong answer, a final heap (after GC) more than
// 50 MB over the baseline, or a peak RSS more than 1 GB over it.
import { spawn } from "node:child_process";
import { createWriteStream, mkdirSync } from "node:fs";
import { join } from "node:path";
import * as scenarios from "../soak/client.mjs";

const root = new URL("..", import.meta.url).pathname;
const bin = (name) => join(root, "node_modules", ".bin", name);
const scale = Number(process.env.SOAK_SCALE ?? 1);
const runtimes = (process.env.SOAK_RUNTIMES ?? "deno,bun").split(",");
const PLAN = [
  { name: "churn", cycles: 20_000, warmup: 1000 },
  { name: "slow", cycles: 20_000, warmup: 0 },
  { name: "hostile", cycles: 20_000, warmup: 500 },
  { name: "shutdown", cycles: 500, warmup: 0 },
].filter((s) => !process.env.SOAK_SCENARIOS || process.env.SOAK_SCENARIOS.split(",").includes(s.name));

mkdirSync(join(root, "test-artifacts"), { recursive: true });

async function startServer(runtime, scenario) {
  const [command, args] = runtime === "deno"
    ? [bin("deno"), ["run", "-A", "--v8-flags=--expose-gc", "soak/server.ts"]]
    : [bin("bun"), ["run", "soak/server.ts"]];
  const child = spawn(command, args, {
    cwd: root,
    env: { ...process.env, NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const log = createWriteStream(join(root, "test-artifacts", `soak-${runtime}-${scenario}.log`));
  child.stderr.pipe(log);
  const url = await scenarios.withDeadline(
    new Promise((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (chunk) => {
        out += chunk;
        const line = out.split("\n").find((l) => l.startsWith("{"));
        if (line) resolve(JSON.parse(line).url);
      });
      child.once("exit", (code) => reject(new Error(`the soak server exited (${code})`)));
    }),
    30_000,
    "the soak server to listen",
  );
  return {
    url,
    stats: (gc = false) => fetch(`${url}/stats${gc ? "?gc" : ""}`).then((r) => r.json()),
    stop: () =>
      new Promise((resolve) => {
        child.once("exit", resolve);
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), 5000).unref();
      }),
  };
}

const rows = [];
let failed = false;
for (const runtime of runtimes) {
  for (const plan of PLAN) {
    const cycles = Math.max(1, Math.round(plan.cycles * scale));
    const started = Date.now();
    process.stdout.write(`${runtime} ${plan.name}: ${cycles} cycles… `);
    const server = await startServer(runtime, plan.name);
    let row;
    try {
      const scenario = scenarios[plan.name];
      if (plan.warmup) {
        await scenario({
          url: server.url,
          cycles: Math.round(plan.warmup * scale) || 1,
          stats: server.stats,
        });
      }
      const baseline = await server.stats(true);
      const result = await scenario({ url: server.url, cycles, stats: server.stats });
      // Every client is gone: wait for the hub to notice, then measure.
      let after = await server.stats(true);
      const deadline = Date.now() + 15_000;
      while (after.hub.subscribers > 0 && Date.now() < deadline) {
        await scenarios.delay(200);
        after = await server.stats(true);
      }
      await scenarios.delay(1500); // one keep-alive interval: the timer stops once the hub is empty
      after = await server.stats(true);
      const leaked = after.hub.subscribers;
      const timers = after.hub.timers;
      const growth = after.heap - baseline.heap; // RSS stays high after GC (allocators keep pages)
      const peakGrowth = after.peak.rss - baseline.rss;
      const bad = leaked > 0 || timers > 0 || after.unhandled > 0 || after.serverErrors > 0 ||
        /WRONG|SOMETHING ELSE/.test(result.note) || growth > 50 || peakGrowth > 1024;
      failed ||= bad;
      row = {
        scenario: plan.name,
        runtime,
        cycles: result.cycles,
        rss: `${baseline.rss} → ${after.peak.rss} → ${after.rss}`,
        heap: `${baseline.heap} → ${after.peak.heap} → ${after.heap}`,
        leaked,
        timers,
        unhandled: after.unhandled + after.serverErrors,
        seconds: Math.round((Date.now() - started) / 1000),
        note: result.note + (after.unhandledSample.length ? `; ${after.unhandledSample.join("; ")}` : "") +
          (peakGrowth > 1024 ? `; PEAK RSS ${Math.round(peakGrowth)} MB OVER BASELINE` : ""),
        bad,
      };
    } catch (error) {
      failed = true;
      row = {
        scenario: plan.name,
        runtime,
        cycles: 0,
        rss: "-",
        heap: "-",
        leaked: "-",
        timers: "-",
        unhandled: "-",
        seconds: Math.round((Date.now() - started) / 1000),
        note: `FAILED: ${error.message}`,
        bad: true,
      };
    } finally {
      await server.stop();
    }
    rows.push(row);
    console.log(row.bad ? "FAILED" : "ok", `(${row.seconds} s)`);
  }
}

console.log(
  "\n| scenario | runtime | cycles | server RSS MB (baseline → peak → final) | heap MB (baseline → peak → final) | leaked subscribers | timers left | unhandled errors | s | notes |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
for (const r of rows) {
  console.log(
    `| ${r.scenario} | ${r.runtime} | ${r.cycles} | ${r.rss} | ${r.heap} | ${r.leaked} | ${r.timers} | ${r.unhandled} | ${r.seconds} | ${r.note} |`,
  );
}
console.log(failed ? "\nsoak: FAILED" : "\nsoak: ok");
process.exit(failed ? 1 : 0);
