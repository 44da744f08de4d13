// The delivery contract, asserted on a chaos scenario's result (chaos/scenarios.ts): every client
// received every acknowledged event exactly once, in publish order, or a reset event covering what
// it missed; no instance crashed; every gap an instance could not recover reached its clients as a
// reset. Failures print the evidence (lost ids, per-client anomalies, the instances' gap logs).
import assert from "node:assert/strict";
import { runScenario } from "../../chaos/scenarios.ts";
import type { ScenarioOptions, ScenarioResult } from "../../chaos/scenarios.ts";
import { runtime } from "../helpers/server.ts";

/** Quick settings: a few seconds of faults, small enough for `npm test` on a shared 2-core machine. */
export const quick: Omit<ScenarioOptions, "library"> = {
  runtime,
  seconds: 3,
  rate: 800,
  clients: 3,
  noise: 6000,
};

/** The Redis client library the demo's bridge uses on the runtime running the test. */
export const defaultLibrary: ScenarioOptions["library"] = runtime === "bun" ? "bun" : "node-redis";

/** One scenario with the quick settings (every wait inside it has its own deadline). */
export function runQuick(name: string, options: Partial<ScenarioOptions> = {}): Promise<ScenarioResult> {
  return runScenario(name, { ...quick, library: defaultLibrary, ...options });
}

export function assertContract(
  result: ScenarioResult,
  { resets = "allowed" }: { resets?: "allowed" | "none" } = {},
): void {
  const { logs, anomalies, lostIds, stats, perClient: _, ...counts } = result;
  const evidence = () =>
    JSON.stringify({ counts, lostIds: lostIds.slice(0, 10), anomalies, logs, stats }, null, 1);
  assert.ok(result.faults > 0, `no fault was injected:\n${evidence()}`);
  assert.ok(result.acked > 100, `too few acknowledged publishes to judge:\n${evidence()}`);
  assert.equal(result.crashed, 0, `an instance crashed:\n${evidence()}`);
  assert.equal(result.stalled, 0, `clients never caught up with the last publish:\n${evidence()}`);
  assert.equal(result.lost, 0, `acknowledged events lost without a reset:\n${evidence()}`);
  assert.equal(result.duplicated, 0, `events delivered twice:\n${evidence()}`);
  assert.equal(result.reordered, 0, `events out of publish order:\n${evidence()}`);
  assert.equal(
    result.unwarned,
    0,
    `a gap an instance could not recover reached no client as a reset:\n${evidence()}`,
  );
  if (resets === "none") assert.equal(result.resets, 0, `reset events where none was due:\n${evidence()}`);
  assert.equal(
    result.delivered + result.missedUnderReset,
    result.published,
    `the counts do not add up:\n${evidence()}`,
  );
}
