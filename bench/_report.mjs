// Markdown of bench/run.mjs: number formats and the tables of the in-process and turn-regime
// HTTP runs (the regimes, memory burst and linger tables are in _report_regimes.mjs).

/** Median of the finite numbers in `values`, or null. */
export const median = (values) => {
  const sorted = values.filter((v) => typeof v === "number" && Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
export const fmt = (v, digits = 0) =>
  v === null || v === undefined || Number.isNaN(v)
    ? "–"
    : Number(v).toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
export const ratio = (
  a,
  b,
) => (a === null || a === undefined || b === null || b === undefined || !b ? null : a / b);
export const fmtRatio = (r) => (r === null ? "–" : `${r.toFixed(2)}×`);
export const mib = (kib) => fmt(kib === null || kib === undefined ? null : kib / 1024, 1);
/** A markdown table from a header row and rows of cells. */
export function table(header, align, rows) {
  return [
    `| ${header.join(" | ")} |`,
    `| ${align.map((a) => (a === "r" ? "---:" : a === "c" ? ":---:" : "---")).join(" | ")} |`,
    ...rows.map((cells) => `| ${cells.join(" | ")} |`),
  ].join("\n");
}

export function fanoutTable(rows) {
  const out = [];
  for (const runtime of ["deno", "bun"]) {
    for (const n of [...new Set(rows.filter((r) => r.runtime === runtime).map((r) => r.n))]) {
      const raw = rows.find((r) => r.runtime === runtime && r.n === n && r.impl === "raw");
      const hub = rows.find((r) => r.runtime === runtime && r.n === n && r.impl === "sse-hub");
      if (!raw || !hub) continue;
      const bare = rows.find((r) => r.runtime === runtime && r.n === n && r.impl === "sse-hub-no-history");
      out.push([
        runtime,
        fmt(n),
        fmt(raw.eventsPerS),
        fmt(hub.eventsPerS),
        `**${fmtRatio(ratio(hub.eventsPerS, raw.eventsPerS))}**`,
        bare ? fmtRatio(ratio(bare.eventsPerS, raw.eventsPerS)) : "–",
        fmt(raw.e2eNsPerDelivery),
        fmt(hub.e2eNsPerDelivery),
        `${fmt(raw.publishNsPerDelivery)} → ${fmt(hub.publishNsPerDelivery)}`,
        raw.heapBytesPerSubscriber === undefined
          ? "–"
          : `${fmt(raw.heapBytesPerSubscriber)} → ${fmt(hub.heapBytesPerSubscriber)}`,
      ]);
    }
  }
  return table(
    [
      "runtime",
      "N",
      "raw ceiling events/s",
      "sse-hub events/s",
      "sse-hub ÷ raw",
      "without history ÷ raw",
      "raw ns/delivery",
      "sse-hub ns/delivery",
      "inside publish() ns/delivery, raw → sse-hub",
      "heap B/subscriber, raw → sse-hub",
    ],
    ["l", "r", "r", "r", "r", "r", "r", "r", "r", "r"],
    out,
  );
}

/** The turn regime of every server (the linger variants are in their own table). */
export function httpTable(rows) {
  const pct = (v) => `${fmt((v ?? NaN) * 100)}%`;
  const out = rows.filter((r) => !r.linger).map((r) => {
    const raw = rows.find((x) => x.n === r.n && x.lib === "raw" && x.runtime === r.runtime);
    const rel = r.lib === "sse-hub" && raw
      ? `**${fmtRatio(ratio(r.eventsPerS, raw.eventsPerS))}**`
      : r.lib === "raw"
      ? "1.00×"
      : "–";
    return [
      fmt(r.n),
      r.server,
      fmt(r.connected),
      fmt(r.eventsPerS),
      rel,
      fmt(r.p50Ms, 2),
      fmt(r.p99Ms, 2),
      r.error ? "error" : (r.burstLost ?? 0) + (r.pacedLost ?? 0),
      mib(r.rssIdleKiB),
      `${fmt(r.rssPerConnBytes)} (${fmt(r.rssMarginalBytes)})`,
      fmt(r.serverCpuUsPerDelivery, 2),
      fmt(r.writesPerDelivery, 2),
      `${pct(r.serverCpuShare)} / ${pct(r.clientCpuShare)} / ${pct(r.cpu0Busy)} (${pct(r.cpu0Softirq)})`,
      fmt(r.foreignCpusMax, 2),
    ];
  });
  return table(
    [
      "N",
      "server",
      "held",
      "events/s",
      "÷ raw (same runtime)",
      "p50 ms",
      "p99 ms",
      "lost",
      "RSS idle MiB",
      "RSS B/conn (added, N/2 → N)",
      "server CPU µs/delivery",
      "writes/delivery",
      "busy: server / client / CPU 0 (softirq)",
      "others' CPU",
    ],
    ["r", "l", "r", "r", "r", "r", "r", "r", "r", "r", "r", "r", "r", "r"],
    out,
  );
}

export function targetTable(list) {
  return table(
    ["target", "where", "measured", "met"],
    ["l", "l", "l", "c"],
    list.map((t) => [t.target, t.where, t.value, t.ok === null ? "reported" : t.ok ? "yes" : "**no**"]),
  );
}
