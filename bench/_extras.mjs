// The workers and bus scenarios of bench/run.mjs: bench/parallel.mjs and bench/bus.mjs, each
// run as a child process that prints a RESULT line, and their tables.
import { run } from "./_harness.mjs";
import { fmt, fmtRatio, table } from "./_report.mjs";

async function resultOf(script, args, timeoutMs) {
  const text = await run(process.execPath, [script, ...args], { timeoutMs });
  const line = text.split("\n").find((l) => l.startsWith("RESULT "));
  if (!line) throw new Error(`no RESULT line from ${script}`);
  return JSON.parse(line.slice(7));
}

/** Events/s per worker count (1, 2, … up to the CPUs), Deno and Bun: bench/parallel.mjs. */
export async function workers({ quick, limitMin }) {
  console.error("\n# workers (bench/parallel.mjs)");
  const args = [...(quick ? ["--quick"] : []), "--limit-min", String(limitMin)];
  return await resultOf("bench/parallel.mjs", args, (limitMin + 1) * 60_000);
}

/** Publishes/s through the Redis bridge against plain PUBLISH: bench/bus.mjs. */
export async function bus({ quick, limitMin }) {
  console.error("\n# bus (bench/bus.mjs)");
  const args = [...(quick ? ["--quick"] : []), "--limit-min", String(limitMin)];
  return await resultOf("bench/bus.mjs", args, (limitMin + 1) * 60_000);
}

const BRIDGES = { none: "in-memory (no bridge)", broadcast: "BroadcastChannelBridge", redis: "RedisBridge" };

export function workersTable(result) {
  const rows = result.rows.map((r) => {
    if (r.error) return [r.runtime, BRIDGES[r.bridge], r.workers, `error: ${r.error}`, "", "", ""];
    const one = result.rows.find((o) => o.runtime === r.runtime && o.bridge === r.bridge && o.workers === 1);
    return [
      r.runtime,
      BRIDGES[r.bridge],
      r.workers,
      fmt(r.eventsPerS),
      one?.eventsPerS ? fmtRatio(r.eventsPerS / one.eventsPerS) : "–",
      r.lost,
      fmt(r.foreignCpusMax, 2),
    ];
  });
  return table(
    ["runtime", "hub", "workers", "events/s", "÷ 1 worker, same bridge", "lost", "others' CPU"],
    ["l", "l", "r", "r", "r", "r", "r"],
    rows,
  );
}

export function busTable(result) {
  return table(
    ["runtime", "client", "in flight", "path", "publishes/s", "÷ PUBLISH", "÷ PUBLISH, heard", "others' CPU"],
    ["l", "l", "r", "l", "r", "r", "r", "r"],
    result.rows.map((r) => [
      r.runtime,
      r.library,
      r.inFlight,
      r.path === "bridge.publish" ? "**bridge.publish**" : r.path,
      fmt(r.perS),
      r.path === "bridge.publish" ? `**${fmtRatio(r.vsPublish)}**` : fmtRatio(r.vsPublish),
      r.vsHeard === undefined ? "–" : fmtRatio(r.vsHeard),
      fmt(r.foreignCpusMax, 2),
    ]),
  );
}
