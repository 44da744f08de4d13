import { describe, it } from "./helpers/timed.ts";
import assert from "node:assert/strict";
import { formatMetrics, Hub, metricsResponse } from "../mod.ts";
import type { HubStats } from "../mod.ts";

const STATS: HubStats = {
  subscribers: 3,
  topics: 2,
  timers: 1,
  published: 10,
  delivered: 25,
  dropped: 1,
  slowDisconnects: 2,
  replayed: 4,
  rejected: 5,
  bridgeErrors: 6,
  bridgeGaps: 7,
};

// A strict reader of the text format: every sample preceded by its own HELP and TYPE lines.
function parse(text: string): Map<string, { type: string; help: string; samples: string[] }> {
  assert.ok(text.endsWith("\n"), "ends with a newline");
  const families = new Map<string, { type: string; help: string; samples: string[] }>();
  const lines = text.slice(0, -1).split("\n");
  for (let i = 0; i < lines.length; i += 3) {
    const help = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(lines[i]!);
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|untyped)$/.exec(lines[i + 1] ?? "");
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/.exec(lines[i + 2] ?? "");
    assert.ok(help && type && sample, `lines ${i}-${i + 2}: ${lines.slice(i, i + 3).join(" | ")}`);
    assert.equal(type[1], help[1]);
    assert.equal(sample[1], help[1]);
    assert.ok(!families.has(help[1]!), `${help[1]} appears once`);
    families.set(help[1]!, {
      type: type[2]!,
      help: help[2]!,
      samples: [(sample[2] ?? "") + " " + sample[3]],
    });
  }
  return families;
}

describe("formatMetrics", () => {
  it("formatMetrics writes every stat with HELP and TYPE, gauges for current values and _total counters", () => {
    const families = parse(formatMetrics(STATS));
    const expected: Record<string, [string, string]> = {
      sse_hub_subscribers: ["gauge", "3"],
      sse_hub_topics: ["gauge", "2"],
      sse_hub_timers: ["gauge", "1"],
      sse_hub_published_total: ["counter", "10"],
      sse_hub_delivered_total: ["counter", "25"],
      sse_hub_dropped_total: ["counter", "1"],
      sse_hub_slow_disconnects_total: ["counter", "2"],
      sse_hub_replayed_total: ["counter", "4"],
      sse_hub_rejected_total: ["counter", "5"],
      sse_hub_bridge_errors_total: ["counter", "6"],
      sse_hub_bridge_gaps_total: ["counter", "7"],
    };
    assert.deepEqual([...families.keys()].sort(), Object.keys(expected).sort());
    for (const [name, [type, value]] of Object.entries(expected)) {
      assert.equal(families.get(name)!.type, type, name);
      assert.deepEqual(families.get(name)!.samples, [" " + value], name);
    }
  });

  it("formatMetrics writes exactly the expected text for one stat", () => {
    const text = formatMetrics(STATS);
    assert.ok(
      text.includes(
        "# HELP sse_hub_published_total Events published.\n# TYPE sse_hub_published_total counter\nsse_hub_published_total 10\n",
      ),
    );
  });

  it("formatMetrics adds escaped labels to every sample", () => {
    const text = formatMetrics(STATS, { labels: { instance: 'web "1"\\a\nb', zone: "eu" } });
    const labels = '{instance="web \\"1\\"\\\\a\\nb",zone="eu"}';
    const families = parse(text);
    assert.equal(families.size, 11);
    for (const [name, family] of families) assert.ok(family.samples[0]!.startsWith(labels + " "), name);
    assert.ok(text.includes(`sse_hub_subscribers${labels} 3\n`));
  });

  it("formatMetrics uses the prefix option", () => {
    const families = parse(formatMetrics(STATS, { prefix: "app:sse" }));
    assert.ok(families.has("app:sse_subscribers"));
    assert.ok(families.has("app:sse_published_total"));
  });

  it("formatMetrics throws TypeError for an invalid prefix or label name", () => {
    for (const prefix of ["", "1abc", "a-b", "a b"]) {
      assert.throws(() => formatMetrics(STATS, { prefix }), TypeError);
    }
    for (const name of ["", "1a", "a-b", "__reserved", "a:b"]) {
      assert.throws(() => formatMetrics(STATS, { labels: { [name]: "x" } }), TypeError);
    }
  });

  it("formatMetrics exports a numeric stat it does not know as untyped, and skips non-numbers", () => {
    const stats = { ...STATS, historyBytes: 42, note: "x" } as unknown as HubStats;
    const families = parse(formatMetrics(stats));
    assert.equal(families.get("sse_hub_history_bytes")?.type, "untyped");
    assert.deepEqual(families.get("sse_hub_history_bytes")?.samples, [" 42"]);
    assert.equal(families.size, 12);
  });

  it("formatMetrics writes NaN and infinities as the format spells them", () => {
    const stats = { ...STATS, subscribers: Number.NaN, topics: Infinity, timers: -Infinity };
    const families = parse(formatMetrics(stats));
    assert.deepEqual(families.get("sse_hub_subscribers")?.samples, [" NaN"]);
    assert.deepEqual(families.get("sse_hub_topics")?.samples, [" +Inf"]);
    assert.deepEqual(families.get("sse_hub_timers")?.samples, [" -Inf"]);
  });

  it("formatMetrics reflects a live hub's counters", async () => {
    const hub = new Hub<string>({ keepAlive: false });
    const reader = hub.subscribe("t").getReader();
    hub.publish("t", "a");
    hub.publish("t", "b");
    hub.publish("other", "c");
    const families = parse(formatMetrics(hub.stats()));
    assert.deepEqual(families.get("sse_hub_subscribers")?.samples, [" 1"]);
    assert.deepEqual(families.get("sse_hub_published_total")?.samples, [" 3"]);
    assert.deepEqual(families.get("sse_hub_delivered_total")?.samples, [" 2"]);
    await reader.cancel();
    hub.close();
  });
});

describe("metricsResponse", () => {
  it("metricsResponse answers with the text format's content type and no caching", async () => {
    const response = metricsResponse(STATS, { labels: { instance: "a" } });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    assert.equal(response.headers.get("cache-control"), "no-store");
    assert.equal(await response.text(), formatMetrics(STATS, { labels: { instance: "a" } }));
  });
});
