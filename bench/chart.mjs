#!/usr/bin/env node
// Draws bench/chart.svg from a results file (default bench/results/latest.json):
// delivered events/s and p99 latency against N, one line per server. No dependencies.
//
//   node bench/chart.mjs [results.json]
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const COLORS = {
  "sse-hub-deno": "#0a7d32",
  "sse-hub-bun": "#d4a017",
  "raw-deno": "#6fcf97",
  "raw-bun": "#f2d675",
  "better-sse-node": "#c0392b",
  "hono-node": "#7f5539",
  "hono-bun": "#8e44ad",
  "go-broker": "#2980b9",
};
const DASHED = new Set(["raw-deno", "raw-bun"]);

const esc = (s) =>
  String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);

function niceLogTicks(min, max) {
  const ticks = [];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= min / 1.0001 && v <= max * 1.0001) ticks.push(v);
    }
  }
  return ticks;
}

const short = (v) =>
  v >= 1e6
    ? `${+(v / 1e6).toFixed(1)}M`
    : v >= 1e3
    ? `${+(v / 1e3).toFixed(1)}k`
    : v >= 1
    ? `${+v.toFixed(1)}`
    : `${+v.toFixed(2)}`;

function panel({ x0, y0, w, h, title, rows, sizes, value, unit }) {
  const points = rows.filter((r) => value(r) > 0);
  if (points.length === 0) return "";
  const values = points.map(value);
  let lo = Math.min(...values), hi = Math.max(...values);
  lo = 10 ** Math.floor(Math.log10(lo));
  hi = 10 ** Math.ceil(Math.log10(hi));
  const xs = sizes.length === 1 ? [x0 + w / 2] : sizes.map((_, i) => x0 + (i * w) / (sizes.length - 1));
  const xOf = (n) => xs[sizes.indexOf(n)];
  const yOf = (v) => y0 + h - ((Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * h;
  const out = [
    `<text x="${x0 + w / 2}" y="${y0 - 14}" text-anchor="middle" font-weight="bold">${esc(title)}</text>`,
  ];
  out.push(`<rect x="${x0}" y="${y0}" width="${w}" height="${h}" fill="none" stroke="#999"/>`);
  for (const t of niceLogTicks(lo, hi)) {
    const y = yOf(t).toFixed(1);
    out.push(`<line x1="${x0}" x2="${x0 + w}" y1="${y}" y2="${y}" stroke="#eee"/>`);
    out.push(
      `<text x="${x0 - 6}" y="${y}" text-anchor="end" dominant-baseline="middle" font-size="11">${
        short(t)
      }</text>`,
    );
  }
  sizes.forEach((n, i) =>
    out.push(`<text x="${xs[i]}" y="${y0 + h + 16}" text-anchor="middle" font-size="11">N=${short(n)}</text>`)
  );
  out.push(
    `<text x="${x0 - 46}" y="${y0 + h / 2}" text-anchor="middle" font-size="11" transform="rotate(-90 ${
      x0 - 46
    } ${y0 + h / 2})">${esc(unit)}</text>`,
  );
  for (const server of Object.keys(COLORS)) {
    const series = points.filter((r) => r.server === server).sort((a, b) => a.n - b.n);
    if (series.length === 0) continue;
    const path = series.map((r, i) => `${i ? "L" : "M"}${xOf(r.n).toFixed(1)},${yOf(value(r)).toFixed(1)}`)
      .join(" ");
    const dash = DASHED.has(server) ? ` stroke-dasharray="6 4"` : "";
    out.push(`<path d="${path}" fill="none" stroke="${COLORS[server]}" stroke-width="2.5"${dash}/>`);
    for (const r of series) {
      out.push(
        `<circle cx="${xOf(r.n).toFixed(1)}" cy="${yOf(value(r)).toFixed(1)}" r="3.5" fill="${
          COLORS[server]
        }"><title>${esc(`${server} N=${r.n}: ${short(value(r))} ${unit}`)}</title></circle>`,
      );
    }
  }
  return out.join("\n");
}

/** @returns {string} the SVG document for the HTTP results of one run */
export function renderChart(results) {
  const rows = results.http.filter((r) => !r.error);
  const sizes = [...new Set(rows.map((r) => r.n))].sort((a, b) => a - b);
  const W = 980, H = 430;
  const body = [
    panel({
      x0: 80,
      y0: 50,
      w: 340,
      h: 280,
      title: "Delivered events/s (higher is better)",
      rows,
      sizes,
      value: (r) => r.eventsPerS,
      unit: "events/s",
    }),
    panel({
      x0: 520,
      y0: 50,
      w: 340,
      h: 280,
      title: `p99 latency at ${rows[0]?.pacedRate ?? "?"} events/s (lower is better)`,
      rows,
      sizes,
      value: (r) => r.p99Ms,
      unit: "ms",
    }),
  ];
  const servers = Object.keys(COLORS).filter((s) => rows.some((r) => r.server === s));
  servers.forEach((server, i) => {
    const x = 80 + (i % 4) * 200, y = 375 + Math.floor(i / 4) * 20;
    const dash = DASHED.has(server) ? ` stroke-dasharray="6 4"` : "";
    body.push(
      `<line x1="${x}" x2="${x + 24}" y1="${y}" y2="${y}" stroke="${
        COLORS[server]
      }" stroke-width="2.5"${dash}/>`,
    );
    body.push(`<text x="${x + 30}" y="${y}" dominant-baseline="middle" font-size="12">${esc(server)}</text>`);
  });
  const caption = `${results.machine.nproc} CPUs, loopback, server on CPU 0 and Go load client on CPU 1, ${
    results.date.slice(0, 10)
  }`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, sans-serif" font-size="13">
<rect width="100%" height="100%" fill="white"/>
${body.join("\n")}
<text x="${W - 10}" y="${H - 6}" text-anchor="end" font-size="10" fill="#666">${esc(caption)}</text>
</svg>
`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const root = new URL("..", import.meta.url).pathname;
  const file = process.argv[2] ?? join(root, "bench", "results", "latest.json");
  writeFileSync(join(root, "bench", "chart.svg"), renderChart(JSON.parse(readFileSync(file, "utf8"))));
  console.error("wrote bench/chart.svg");
}
