// Markdown of bench/run.mjs for the coalescing regimes, the memory burst and the linger variants.
import { fmt, fmtRatio, mib, ratio, table } from "./_report.mjs";

const REGIMES = ["turn", "back-to-back", "schedule"];
const at = (rows, server, n) => rows.find((r) => r.server === server && r.n === n && !r.error);
/** The raw ceiling of the same runtime at the same N. */
export const rawOf = (rows, r) => rows.find((x) => x.n === r.n && x.lib === "raw" && x.runtime === r.runtime);

/** Every regime of sse-hub, raw and Go (the servers that ran more than turn and paced). */
export function regimesTable(rows) {
  const out = [];
  const ran = rows.filter((r) => !r.linger && r.regimes?.["back-to-back"]);
  for (const n of [...new Set(ran.map((r) => r.n))]) {
    for (const regime of REGIMES) {
      for (const r of ran.filter((x) => x.n === n)) {
        const g = r.regimes[regime];
        const raw = rawOf(rows, r)?.regimes?.[regime];
        const go = at(rows, "go-broker", n)?.regimes?.[regime];
        const vsRaw = r.lib === "raw" ? "1.00×" : raw ? fmtRatio(ratio(g.eventsPerS, raw.eventsPerS)) : "–";
        out.push([
          fmt(n),
          regime,
          r.server,
          fmt(g.eventsPerS),
          r.lib === "sse-hub" ? `**${vsRaw}**` : vsRaw,
          go && r.lib !== "go-broker" ? fmtRatio(ratio(g.eventsPerS, go.eventsPerS)) : "–",
          fmt(g.p50Ms, 2),
          fmt(g.p99Ms, 2),
          g.lost,
          fmt(g.serverCpuUsPerDelivery, 2),
          mib(g.peakRssKiB),
          raw && r.lib !== "raw" ? fmtRatio(ratio(g.peakRssKiB, raw.peakRssKiB)) : "–",
          fmt(g.foreignCpusMax, 2),
        ]);
      }
    }
  }
  return table(
    [
      "N",
      "regime",
      "server",
      "events/s",
      "÷ raw (same runtime)",
      "÷ Go",
      "p50 ms",
      "p99 ms",
      "lost",
      "server CPU µs/delivery",
      "peak RSS MiB",
      "peak ÷ raw",
      "others' CPU",
    ],
    ["r", "l", "l", "r", "r", "r", "r", "r", "r", "r", "r", "r", "r"],
    out,
  );
}

/** The memory burst: peak RSS of sse-hub against raw, per runtime. */
export function memoryTable(rows) {
  const out = [];
  for (const hub of rows.filter((r) => r.lib === "sse-hub" && !r.linger && r.regimes?.memory)) {
    const raw = rawOf(rows, hub);
    const h = hub.regimes.memory, w = raw?.regimes?.memory;
    out.push([
      hub.runtime,
      fmt(hub.n),
      `${mib(hub.rssIdleKiB)} → ${mib(h.peakRssKiB)}`,
      w ? `${mib(raw.rssIdleKiB)} → ${mib(w.peakRssKiB)}` : "–",
      `**${fmtRatio(ratio(h.peakRssKiB, w?.peakRssKiB))}**`,
      `${fmt(h.eventsPerS)} / ${fmt(w?.eventsPerS)}`,
      `${fmt(h.runs[0]?.client_wall_ms / 1000, 1)} / ${fmt(w?.runs[0]?.client_wall_ms / 1000, 1)}`,
      h.lost + (w?.lost ?? 0),
      fmt(Math.max(h.foreignCpusMax, w?.foreignCpusMax ?? 0), 2),
    ]);
  }
  return table(
    [
      "runtime",
      "N",
      "sse-hub RSS MiB, idle → peak",
      "raw RSS MiB, idle → peak",
      "peak ÷ raw",
      "events/s, sse-hub / raw",
      "s per burst, sse-hub / raw",
      "lost",
      "others' CPU",
    ],
    ["l", "r", "r", "r", "r", "r", "r", "r", "r"],
    out,
  );
}

/** p99 of the linger-0 sse-hub of the same runtime and N, for the added latency. */
const linger0 = (rows, r) => at(rows, `sse-hub-${r.runtime}`, r.n);

/** The linger variants in the turn regime, against linger 0, Go, raw and better-sse. */
export function lingerTable(rows) {
  const out = [];
  const sizes = [...new Set(rows.filter((r) => r.linger).map((r) => r.n))];
  for (const n of sizes) {
    const go = at(rows, "go-broker", n), bs = at(rows, "better-sse-node", n);
    const refs = [go, bs, at(rows, "raw-deno", n), at(rows, "raw-bun", n)].filter(Boolean);
    const hubs = rows.filter((r) => r.n === n && !r.error && r.lib === "sse-hub" && r.regimes?.schedule)
      .sort((a, b) => a.runtime.localeCompare(b.runtime) || a.linger - b.linger);
    for (const r of [...refs, ...hubs]) {
      const zero = r.lib === "sse-hub" ? linger0(rows, r) : undefined;
      const schedule = r.regimes?.schedule;
      const added = (a, b) => (zero && a !== null && b !== null && b !== undefined ? fmt(a - b, 2) : "–");
      out.push([
        fmt(n),
        r.lib === "sse-hub" ? `${r.server.replace(/-linger\d+$/, "")}, linger ${r.linger}` : r.server,
        fmt(r.eventsPerS),
        go && r !== go ? `**${fmtRatio(ratio(r.eventsPerS, go.eventsPerS))}**` : "–",
        rawOf(rows, r) && r.lib !== "raw" ? fmtRatio(ratio(r.eventsPerS, rawOf(rows, r).eventsPerS)) : "–",
        bs && r !== bs ? fmtRatio(ratio(r.eventsPerS, bs.eventsPerS)) : "–",
        fmt(r.serverCpuUsPerDelivery, 2),
        fmt(r.writesPerDelivery, 2),
        fmt(r.p99Ms, 2),
        added(r.p99Ms, zero?.p99Ms),
        r.paired
          ? `${fmt(r.paired.p99Ms, 2)} − ${fmt(r.paired.plainP99Ms, 2)} = ${fmt(r.paired.addedP99Ms, 2)}`
          : "–",
        fmt(schedule?.p99Ms, 2),
        added(schedule?.p99Ms ?? null, zero?.regimes?.schedule?.p99Ms),
        (r.burstLost ?? 0) + (r.pacedLost ?? 0) + (schedule?.lost ?? 0) + (r.paired?.lost ?? 0),
      ]);
    }
  }
  return table(
    [
      "N",
      "server",
      "turn events/s",
      "÷ Go",
      "÷ raw",
      "÷ better-sse",
      "server CPU µs/delivery",
      "writes/delivery",
      "paced p99 ms",
      "added p99 ms (paced)",
      "paired p99 ms: linger − none",
      "schedule p99 ms",
      "added p99 ms (schedule)",
      "lost",
    ],
    ["r", "l", "r", "r", "r", "r", "r", "r", "r", "r", "r", "r", "r", "r"],
    out,
  );
}
