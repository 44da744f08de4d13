#!/usr/bin/env node
// The benchmark suite. Every comparison is measured side by side in one run, as
// ratios against a baseline measured in the same run; every figure is a median
// of several repetitions.
//
//   npm run bench                     everything (≈ 23 min on 2 cores, estimated)
//   npm run bench -- --quick          N = 1,000 only, fewer reps (≈ 4 min)
//   npm run bench -- fanout           in-process fan-out only (Deno and Bun)
//   npm run bench -- http             loopback HTTP only (regimes, memory burst, lingers)
//   npm run bench -- parallel         events/s per worker count (bench/parallel.mjs)
//   npm run bench -- bus              the Redis bridge against plain PUBLISH (bench/bus.mjs)
//   npm run bench -- http --servers sse-hub-deno,raw-deno --sizes 1000 --reps 2
//
// Prints markdown tables; writes bench/results/<timestamp>.json and latest.json,
// then redraws bench/chart.svg. Needs go (for the load client and the Go broker):
// both are built into a temporary directory, never into the tree.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { renderChart } from "./chart.mjs";
import { waitQuiet } from "./_load.mjs";
import { buildGo, BUN, DENO, killAll, root, run, SERVERS } from "./_harness.mjs";
import { machineInfo } from "./_machine.mjs";
import { http, scheduleOf } from "./_http.mjs";
import { bus, busTable, workers, workersTable } from "./_extras.mjs";
import { fanoutTable, fmt, httpTable, targetTable } from "./_report.mjs";
import { lingerTable, memoryTable, regimesTable } from "./_report_regimes.mjs";
import { targets } from "./_targets.mjs";

// ---------------------------------------------------------------- options
const argv = process.argv.slice(2);
const flag = (name) => argv.includes(`--${name}`);
const option = (name) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const numbers = (text) => text.split(",").map(Number);
const quick = flag("quick");
const FLAGS = ["--quick", "--no-chart", "--readme"];
const scenarios = argv.filter((a, i) =>
  !a.startsWith("--") && !(i > 0 && argv[i - 1].startsWith("--") && !FLAGS.includes(argv[i - 1]))
).map((s) => (s === "workers" ? "parallel" : s));
const wanted = (s) => scenarios.length === 0 || scenarios.includes(s);
const config = {
  quick,
  fanout: {
    sizes: numbers(option("fanout-sizes") ?? (quick ? "1,100,1000" : "1,100,1000,10000")),
    reps: Number(option("fanout-reps") ?? (quick ? 3 : 5)),
    deliveries: quick ? 100_000 : 300_000,
  },
  http: {
    sizes: numbers(option("sizes") ?? (quick ? "1000" : "1000,5000,10000")),
    // Where the regimes beyond turn, the memory burst and the lingers run.
    regimeSizes: numbers(option("regime-sizes") ?? (quick ? "1000" : "1000,10000")),
    reps: Number(option("reps") ?? (quick ? 2 : 3)),
    burstDeliveries: 100_000, // per burst: K = clamp(this / N, 10, 500)
    pacedRate: 10, // events/s for the latency runs
    // 30, not 12: with 12 the p99 moved 2-4 ms between runs of the same code, too coarse for
    // the linger target's "added p99 ≤ L ms".
    pacedEvents: quick ? 10 : 30,
    batch: Number(option("batch") ?? 1), // events published per event-loop turn in the turn regime
    scheduleDeliveries: 200_000, // schedule: S = clamp(this / N, 20, 200) events, one every I ms
    scheduleIntervalMs: Number(option("schedule-interval") ?? 5),
    scheduleBatch: Number(option("schedule-batch") ?? 1), // events per tick of the schedule
    memoryEvents: Number(option("memory-events") ?? 1000), // at N ≥ 10k, all in one turn; 0: none
    memoryReps: Number(option("memory-reps") ?? 2),
    // --quick: of the linger variants, linger 2 only.
    servers: option("servers")?.split(",") ??
      Object.keys(SERVERS).filter((name) =>
        !SERVERS[name].optional && (!quick || (SERVERS[name].linger ?? 2) === 2)
      ),
  },
  extras: { quick, limitMin: quick ? 4 : 6 },
  // Never run forever: the whole run is killed after this.
  hardLimitMs: Number(option("limit-min") ?? (quick ? 10 : 40)) * 60_000,
};

const hardLimit = setTimeout(() => {
  console.error(`\nbench: hard limit of ${config.hardLimitMs / 60000} min reached, stopping`);
  killAll();
  process.exit(2);
}, config.hardLimitMs);
hardLimit.unref();

// The machine may be shared: each measurement waits for a quiet moment (others using
// < 0.1 CPU), and is redone (at most twice) when others took > 0.15 CPU meanwhile. The
// waiting is bounded over the whole run; what others took is recorded with every result.
let quietBudgetMs = Number(option("quiet-budget-s") ?? (quick ? 20 : 120)) * 1000;
async function quietMoment(ours) {
  const { waitedMs, quiet } = await waitQuiet({ ours, maxMs: Math.min(20_000, quietBudgetMs) });
  quietBudgetMs = Math.max(0, quietBudgetMs - waitedMs);
  return quiet;
}

// ---------------------------------------------------------------- scenario: in-process fan-out
async function fanout() {
  const { sizes, reps, deliveries } = config.fanout;
  const quietMs = String(Math.min(60_000, quietBudgetMs / 2));
  const args = ["--n", sizes.join(","), "--reps", String(reps), "--deliveries", String(deliveries)];
  const out = [];
  for (
    const [runtime, cmd, pre] of [
      ["deno", DENO, ["run", "-A", "--v8-flags=--expose-gc", "bench/fanout.ts"]],
      ["bun", BUN, ["bench/fanout.ts"]],
    ]
  ) {
    console.error(`\n# in-process fan-out on ${runtime} (pinned to CPU 0)`);
    const text = await run("taskset", ["-c", "0", cmd, ...pre, ...args, "--quiet-ms", quietMs], {
      timeoutMs: 300_000,
    });
    const line = text.split("\n").find((l) => l.startsWith("RESULT "));
    if (!line) throw new Error(`no RESULT from fanout on ${runtime}`);
    out.push(...JSON.parse(line.slice(7)).results);
  }
  return out;
}

// ---------------------------------------------------------------- main
const started = new Date();
const defaultRun = !quick && scenarios.length === 0 &&
  !["sizes", "servers", "reps", "fanout-sizes", "fanout-reps"].some((o) => option(o) !== undefined);
const kind = quick ? "quick" : defaultRun ? "full" : "partial";
const machine = machineInfo();
console.error(
  `bench: ${kind} run, scenarios: ${scenarios.length ? scenarios.join(", ") : "fanout, http, parallel, bus"}`,
);
console.error(
  `machine: ${machine.nproc} cpus (${machine.cpu}), ${machine.memoryGiB} GiB, ${
    machine.deno.split(" (")[0]
  }, bun ${machine.bun}, node ${machine.node}, ${machine.go}`,
);
const results = { date: started.toISOString(), machine, config: { ...config, hardLimitMs: undefined } };
Object.assign(results, { fanout: [], http: [], workers: undefined, bus: undefined, seconds: {} });
const timed = async (name, job) => {
  const began = Date.now();
  try {
    return await job();
  } catch (error) {
    console.error(`bench: ${name} failed: ${error.message}`);
    results[`${name}Error`] = String(error.message);
  } finally {
    results.seconds[name] = Math.round((Date.now() - began) / 1000);
  }
};
if (wanted("http")) buildGo();
if (wanted("fanout")) results.fanout = await timed("fanout", fanout) ?? [];
if (wanted("http")) results.http = await timed("http", () => http(config.http, quietMoment)) ?? [];
if (wanted("parallel")) results.workers = await timed("parallel", () => workers(config.extras));
if (wanted("bus")) results.bus = await timed("bus", () => bus(config.extras));
results.durationS = Math.round((Date.now() - started.getTime()) / 1000);
results.fanoutSeconds = results.seconds.fanout;
results.targets = targets(results);

const h = config.http;
const report = [
  `### Run of ${results.date.slice(0, 16).replace("T", " ")} UTC (${kind} run, ${results.durationS} s)`,
  "",
  `Machine: ${machine.nproc} × ${machine.cpu}, ${machine.memoryGiB} GiB RAM, Linux ${machine.kernel}; ${
    machine.deno.split(" (")[0]
  }, bun ${machine.bun}, node ${machine.node}, ${machine.go.replace("go version ", "")}.`,
  `Source: commit ${machine.source.commit}${
    machine.source.dirty ? " + uncommitted changes" : ""
  } (mod.ts + src/ sha256 ${machine.source.srcSha256}). Command: \`npm run bench${
    argv.length ? ` -- ${argv.join(" ")}` : ""
  }\`.`,
  "",
];
const section = (title, text, body) =>
  report.push(`#### ${title}`, "", ...(text ? [text, ""] : []), body, "");
if (results.fanout.length) {
  const title = `In-process fan-out (medians of ${config.fanout.reps} reps, ${
    fmt(config.fanout.deliveries)
  } deliveries each)`;
  section(title, "", fanoutTable(results.fanout));
}
const httpRows = results.http;
if (httpRows.length) {
  section(
    `Loopback HTTP, turn regime (medians of ${h.reps} reps; server pinned to CPU 0, Go load client to CPU 1)`,
    `events/s: a burst of K = clamp(${fmt(h.burstDeliveries)} / N, 10, 500) events per connection, ` +
      `${h.batch} per event-loop turn, first publish → last receive. ` +
      `Latency: ${h.pacedEvents} events at ${h.pacedRate}/s, every delivery sampled. RSS per connection: (RSS idle with N − RSS before connecting) ÷ N, after a GC; in brackets, what each connection from N/2 to N added (no one-time costs).`,
    httpTable(httpRows),
  );
}
if (httpRows.some((r) => r.regimes?.["back-to-back"])) {
  const s = (n) => `${scheduleOf(n, h).events} at N = ${fmt(n)}`;
  section(
    `Coalescing regimes (medians of ${h.reps} reps)`,
    `turn: K events, one per event-loop turn; back-to-back: the same K in one turn; schedule: ` +
      `${h.scheduleBatch} event(s) every ${h.scheduleIntervalMs} ms (${
        h.regimeSizes.map(s).join(", ")
      }), latency from each ` +
      `event's scheduled time (a late timer counts). Peak RSS: VmHWM of the server, reset just before ` +
      `each run (/proc/<pid>/clear_refs), read after its last delivery.`,
    regimesTable(httpRows),
  );
}
if (httpRows.some((r) => r.regimes?.memory)) {
  section(
    `Memory burst (${fmt(h.memoryEvents)} events in one turn, ${h.memoryReps} rep(s))`,
    "Peak RSS of the server during the burst (VmHWM, reset just before it), against the raw ceiling.",
    memoryTable(httpRows),
  );
}
if (httpRows.some((r) => r.linger)) {
  section(
    "Linger (turn regime)",
    "sse-hub with `new Hub({ linger: L })`; added p99 = p99(linger L) − p99(linger 0), same runtime and N, " +
      "two processes. Paired: the latency run again with N/2 connections on the linger's hub and N/2 on a hub " +
      "without one in the same process, each event published to both; median over reps of the difference.",
    lingerTable(httpRows),
  );
}
if (results.workers) {
  const w = results.workers;
  const text = `bench/parallel.mjs: N = ${fmt(w.config.n)}, bursts of K = ${w.k}, one event per turn, ` +
    `medians of ${w.config.reps}; ${w.cpus} CPUs (a bigger machine shows more worker counts).`;
  section("Events/s per worker count", text, workersTable(w));
}
if (results.bus) {
  const text = `bench/bus.mjs: closed loops of 1 … 256 publishes in flight from one instance, ` +
    `${fmt(results.bus.config.events)} per measurement, medians of ${results.bus.config.reps}.`;
  section("Redis bridge: publishes/s against plain PUBLISH", text, busTable(results.bus));
}
if (results.targets.length) section("Targets (issue 14)", "", targetTable(results.targets));
const markdown = report.join("\n");
console.log("\n" + markdown);

const dir = join(root, "bench", "results");
mkdirSync(dir, { recursive: true });
const stamp = started.toISOString().replace(/[:.]/g, "-");
const json = JSON.stringify({ ...results, markdown }, null, 2);
writeFileSync(join(dir, `${stamp}.json`), json);
writeFileSync(join(dir, "latest.json"), json);
// A default full run (all scenarios, default sizes and servers) refreshes bench/README.md
// between its markers; --readme forces it for any run.
if (flag("readme") || defaultRun) {
  const readme = join(root, "bench", "README.md");
  const text = readFileSync(readme, "utf8");
  const start = "<!-- results:start -->", end = "<!-- results:end -->";
  if (text.includes(start) && text.includes(end)) {
    const updated = text.slice(0, text.indexOf(start) + start.length) + "\n" + markdown + "\n" +
      text.slice(text.indexOf(end));
    writeFileSync(readme, updated);
    console.error("updated bench/README.md");
  }
}
if (!flag("no-chart") && results.http.length) {
  writeFileSync(join(root, "bench", "chart.svg"), renderChart(results));
  console.error("wrote bench/chart.svg");
}
console.error(`wrote bench/results/${stamp}.json and bench/results/latest.json`);
clearTimeout(hardLimit);
killAll();
