#!/usr/bin/env node
// CPU profiles of the hot paths, summarised as text (top self time, and inclusive time
// of the library's own functions), so a change to src/ can be judged by where time goes.
//
//   node bench/profile.mjs fanout --runtime deno --n 10000 [--impl sse-hub|raw] [--deliveries 400000]
//   node bench/profile.mjs http --server sse-hub-deno --n 5000 [--events 50] [--bursts 3] [--run "schedule 200 200 1"]
//   node bench/profile.mjs summarize FILE.cpuprofile [--top 30]
//
// Profiles are written to a temporary directory (printed); nothing is written to the tree.
// Sampling is in-process through node:inspector (Deno, Bun, Node): 100 µs interval.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  buildGo,
  BUN,
  DENO,
  killAll,
  root,
  run,
  SERVERS,
  sleep,
  startClient,
  startServer,
  stop,
} from "./_harness.mjs";

const argv = process.argv.slice(2);
const option = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : fallback;
};
const top = Number(option("top", 30));

/** Reads a .cpuprofile and prints where the time went. */
export function summarize(file, { limit = top, title = file } = {}) {
  const profile = JSON.parse(readFileSync(file, "utf8"));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map(); // per node id: µs
  const deltas = profile.timeDeltas ?? [];
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (deltas[i + 1] ?? deltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0) || 1;
  const label = (node) => {
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url ? `${url.replace(/^file:\/\//, "").replace(root, "")}:${lineNumber + 1}` : "";
    return `${functionName || "(anonymous)"}${where ? ` ${where}` : ""}`;
  };
  const selfBy = new Map();
  const inclusiveBy = new Map();
  for (const [id, us] of self) {
    const node = byId.get(id);
    selfBy.set(label(node), (selfBy.get(label(node)) ?? 0) + us);
    // Inclusive: every distinct frame on the stack of this sample.
    const seen = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const name = label(byId.get(at));
      if (seen.has(name)) continue;
      seen.add(name);
      inclusiveBy.set(name, (inclusiveBy.get(name) ?? 0) + us);
    }
  }
  const pct = (us) => `${((us / total) * 100).toFixed(1).padStart(5)}%`;
  const lines = [`# ${title}`, `${(total / 1000).toFixed(0)} ms sampled`, "", "## self time"];
  for (const [name, us] of [...selfBy].sort((a, b) => b[1] - a[1]).slice(0, limit)) {
    lines.push(`${pct(us)}  ${name}`);
  }
  lines.push("", "## inclusive time, library and bench code (src/, mod.ts, bench/)");
  for (
    const [name, us] of [...inclusiveBy].filter(([n]) => / (src|bench)\/|mod\.ts/.test(n)).sort((a, b) =>
      b[1] - a[1]
    ).slice(0, limit)
  ) {
    lines.push(`${pct(us)}  ${name}`);
  }
  return lines.join("\n");
}

async function profileFanout(dir) {
  const runtime = option("runtime", "deno");
  const n = option("n", "10000");
  const impl = option("impl", "sse-hub");
  const file = join(dir, `fanout-${runtime}-${impl}-${n}.cpuprofile`);
  const args = [
    "--n",
    n,
    "--impl",
    impl,
    "--reps",
    option("reps", "3"),
    "--deliveries",
    option("deliveries", "400000"),
    "--quiet-ms",
    "0",
    "--cpu-prof",
    file,
  ];
  const cmd = runtime === "deno"
    ? [DENO, "run", "-A", "--v8-flags=--expose-gc", "bench/fanout.ts", ...args]
    : [BUN, "bench/fanout.ts", ...args];
  await run("taskset", ["-c", "0", ...cmd]);
  return file;
}

async function profileHttp(dir) {
  const name = option("server", "sse-hub-deno");
  if (!SERVERS[name] || SERVERS[name].runtime === "go") {
    throw new Error(`profile a JS server: ${Object.keys(SERVERS).join(", ")}`);
  }
  const n = Number(option("n", "5000"));
  const events = Number(option("events", "50"));
  buildGo();
  const server = await startServer(name);
  const client = startClient(server.url);
  const file = join(dir, `http-${name}-${n}.cpuprofile`);
  try {
    const connected = await client.send(`connect ${n}`, 180_000);
    console.error(`connected ${connected.connected}/${n}`);
    await client.send(`run burst ${Math.min(events, 20)}`); // warm-up
    await fetch(`${server.url}/profile/start`, { method: "POST" });
    // --run "schedule 200 200 1": any regime the load client runs (default: a burst).
    const regime = option("run", `burst ${events}`);
    for (let i = 0; i < Number(option("bursts", "3")); i++) {
      const r = await client.send(`run ${regime}`);
      console.error(`${regime}: ${Math.round(r.events_per_s)} events/s, lost ${r.lost}`);
    }
    const stopped = await fetch(`${server.url}/profile/stop?file=${encodeURIComponent(file)}`, {
      method: "POST",
    });
    if (stopped.status !== 204) throw new Error(`profile/stop answered ${stopped.status}`);
    await client.send("close", 30_000);
  } finally {
    client.child.stdin.end("quit\n");
    await stop(client.child);
    await sleep(100);
    await stop(server.child);
  }
  return file;
}

const command = argv[0];
try {
  if (command === "summarize") {
    console.log(summarize(argv[1]));
  } else if (command === "fanout" || command === "http") {
    const dir = mkdtempSync(join(tmpdir(), "sse-hub-profile-"));
    const file = command === "fanout" ? await profileFanout(dir) : await profileHttp(dir);
    console.log(summarize(file));
    console.error(`\nprofile: ${file} (open in Chrome DevTools → Performance, or summarize again)`);
  } else {
    console.error("usage: node bench/profile.mjs fanout|http|summarize … (see the header of this file)");
    process.exitCode = 2;
  }
} finally {
  killAll();
}
