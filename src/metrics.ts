/**
 * A hub's counters in the Prometheus text exposition format (version 0.0.4),
 * for a `/metrics` endpoint.
 *
 * @see {@link https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format}
 * @module
 */
import type { HubStats } from "./message.ts";

/** Options for {@linkcode formatMetrics} and {@linkcode metricsResponse}. */
export interface MetricsOptions {
  /**
   * Prepended to every metric name (`<prefix>_subscribers`, …); must match `[a-zA-Z_:][a-zA-Z0-9_:]*`.
   * @default {"sse_hub"}
   */
  prefix?: string;
  /**
   * Labels added to every sample, e.g. `{ instance: "web-1" }`. Names must match
   * `[a-zA-Z_][a-zA-Z0-9_]*` and not start with `__`; values are escaped.
   * @default {{}}
   */
  labels?: Record<string, string>;
}

type Kind = "gauge" | "counter";

// Each known field: its metric name (after the prefix), type and help text.
const KNOWN: Record<string, [name: string, kind: Kind, help: string]> = {
  subscribers: ["subscribers", "gauge", "Open subscriptions (HTTP and in-process)."],
  topics: ["topics", "gauge", "Topics with at least one subscriber."],
  timers: ["timers", "gauge", "Timers the hub holds (keep-alive, bridge echo waits)."],
  published: ["published_total", "counter", "Events published."],
  delivered: ["delivered_total", "counter", "Event deliveries (one event to one subscriber)."],
  dropped: ["dropped_total", "counter", "Deliveries skipped under the drop overflow policy."],
  slowDisconnects: ["slow_disconnects_total", "counter", "Subscribers closed for falling behind."],
  replayed: ["replayed_total", "counter", "Events replayed from history to reconnecting clients."],
  rejected: [
    "rejected_total",
    "counter",
    "Subscribe requests refused (bad topic, unauthorized, full, closed).",
  ],
  bridgeErrors: ["bridge_errors_total", "counter", "Failures the bridge reported."],
  bridgeGaps: ["bridge_gaps_total", "counter", "Times the bridge said messages may have been missed."],
};

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * Formats a hub's stats as Prometheus text: for each counter a `# HELP` and a
 * `# TYPE` line, then its sample. Current values (`subscribers`, `topics`,
 * `timers`) are gauges; totals are counters named `…_total`. A numeric field
 * this version does not know is still exported, as `untyped`, under its snake_case name.
 *
 * @param stats What `hub.stats()` returned.
 * @param options A name prefix and labels for every sample.
 * @returns The exposition text, ending in a newline.
 * @throws {TypeError} When the prefix or a label name is not a valid Prometheus name.
 *
 * @example
 * ```ts
 * import { formatMetrics, Hub } from "@sse-hub/sse-hub";
 *
 * const hub = new Hub<string>();
 * hub.publish("news", "hello");
 * const text = formatMetrics(hub.stats(), { labels: { instance: "web-1" } });
 * // # HELP sse_hub_published_total Events published.
 * // # TYPE sse_hub_published_total counter
 * // sse_hub_published_total{instance="web-1"} 1
 * console.log(text.includes('sse_hub_published_total{instance="web-1"} 1\n')); // true
 * hub.close();
 * ```
 */
export function formatMetrics(stats: HubStats, options: MetricsOptions = {}): string {
  const prefix = options.prefix ?? "sse_hub";
  if (!METRIC_NAME.test(prefix)) {
    throw new TypeError(`\`prefix\` ${JSON.stringify(prefix)} is not a valid metric name`);
  }
  const labels = formatLabels(options.labels ?? {});
  let text = "";
  for (const [field, value] of Object.entries(stats)) {
    if (typeof value !== "number") continue;
    const known = KNOWN[field];
    const name = `${prefix}_${known?.[0] ?? snakeCase(field)}`;
    const help = known?.[2] ?? `The hub's \`${field}\` stat.`;
    text += `# HELP ${name} ${help}\n# TYPE ${name} ${known?.[1] ?? "untyped"}\n${name}${labels} ${
      formatValue(value)
    }\n`;
  }
  return text;
}

/**
 * A `/metrics` response: {@linkcode formatMetrics} with the
 * `text/plain; version=0.0.4` content type and `Cache-Control: no-store`.
 *
 * @param stats What `hub.stats()` returned.
 * @param options A name prefix and labels for every sample.
 * @returns The response.
 * @throws {TypeError} When the prefix or a label name is not a valid Prometheus name.
 *
 * @example
 * ```ts
 * import { Hub, metricsResponse } from "@sse-hub/sse-hub";
 *
 * const hub = new Hub<string>();
 * const fetch = (request: Request): Response | Promise<Response> =>
 *   new URL(request.url).pathname === "/metrics"
 *     ? metricsResponse(hub.stats())
 *     : hub.response(request, { topics: "news" });
 * hub.close();
 * ```
 */
export function metricsResponse(stats: HubStats, options?: MetricsOptions): Response {
  return new Response(formatMetrics(stats, options), {
    headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8", "cache-control": "no-store" },
  });
}

function formatLabels(labels: Record<string, string>): string {
  const parts: string[] = [];
  for (const [name, value] of Object.entries(labels)) {
    if (!LABEL_NAME.test(name) || name.startsWith("__")) {
      throw new TypeError(
        `label name ${JSON.stringify(name)} is not valid (\`[a-zA-Z_][a-zA-Z0-9_]*\`, no leading \`__\`)`,
      );
    }
    const escaped = String(value).replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
    parts.push(`${name}="${escaped}"`);
  }
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

function snakeCase(field: string): string {
  return field.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase()).replace(/[^a-zA-Z0-9_]/g, "_");
}
