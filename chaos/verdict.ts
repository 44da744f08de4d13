// The verdict of a chaos scenario: each client's ledger against the acknowledged publishes, summed,
// with the evidence of anything that broke the contract (lost ids, per-client anomalies, the
// instances' logs and stats).
import type { Cluster, Library, Runtime } from "./cluster.ts";
import { addTally, emptyTally, keyId, type Tally } from "./ledger.ts";
import type { ChaosClient, Publisher } from "./load.ts";

export interface ScenarioOptions {
  runtime: Runtime;
  library: Library;
  /** How long faults are injected. */
  seconds: number;
  /** Publishes per second (to instance B). */
  rate: number;
  /** `eventsource` clients on each instance. */
  clients: number;
  /** Milliseconds between two faults (defaults: kills every 100, crashes every 10,000, Redis restarts every 15,000). */
  faultEveryMs?: number;
  /** pubsub-kill: publishes per second on another topic by a third, in-process instance (default 3000; 0: none). */
  noise?: number;
}

export interface ScenarioResult extends Tally {
  scenario: string;
  runtime: Runtime;
  library: Library;
  clients: number;
  /** Publishes answered 200 with an id (each client is owed those from its first event on: `published`). */
  acked: number;
  /** Clients with at least one lost event. */
  clientsWithLoss: number;
  /** Clients that never received the fence. */
  stalled: number;
  /** Faults injected. */
  faults: number;
  publishFailures: Record<string, number>;
  /** Demo processes that exited on their own. */
  crashed: number;
  resetReasons: Record<string, number>;
  /** Stream ids lost by at least one client, with how many clients of each instance lost it. */
  lostIds: { id: string; clients: Record<string, number> }[];
  /** Bridge gaps and errors the instances logged (first ones). */
  logs: string[];
  /** Gaps each instance logged as not recovered (each owes its clients a reset, reason "bus-gap"). */
  unrecoveredGaps: Record<string, number>;
  /** Clients that got fewer resets than their instance logged unrecovered gaps: a silent gap. */
  unwarned: number;
  /** Clients that lost, repeated or reordered something, or got a reset (first 10): the evidence. */
  /** Each client's own counts (instance, connections opened, and the tally). */
  perClient: (Tally & { instance: string; opens: number })[];
  anomalies: {
    instance: string;
    opens: number;
    lost: string[];
    duplicates: string[];
    reordered: string[];
    resets: string[];
  }[];
  /** Per-instance /stats at the end (slowDisconnects, bridgeGaps, …). */
  stats: Record<string, Record<string, number>>;
}

/** How the demo logs a gap its bridge could not recover (`onBridgeEvent` in examples/demo/hub_from_env.ts). */
const UNRECOVERED = /bridge gap.*(not recovered|recovered: false)/i;

const EXPECTED_LOG =
  /^(sse-hub demo listening|bridge error: Error: (Socket closed unexpectedly|connect ECONNREFUSED|The client is offline|Connection closed))/;

export async function verdict(
  name: string,
  options: ScenarioOptions,
  cluster: Cluster,
  clients: ChaosClient[],
  publisher: Publisher,
  fence: number,
  faults: number,
): Promise<ScenarioResult> {
  const acked = [...publisher.acked].sort((x, y) => x - y);
  const sum = emptyTally();
  const lostBy = new Map<number, Record<string, number>>();
  const resetReasons: Record<string, number> = {};
  let clientsWithLoss = 0;
  const anomalies: ScenarioResult["anomalies"] = [];
  const perClient: ScenarioResult["perClient"] = [];
  for (const client of clients) {
    const { lostKeys, ...tally } = client.ledger.tally(acked, fence, publisher.sentAt);
    addTally(sum, tally);
    perClient.push({ instance: client.instance, opens: client.opens, ...tally });
    const { ledger } = client;
    if (
      (lostKeys.length > 0 || tally.duplicated + tally.reordered + tally.resets > 0) && anomalies.length < 10
    ) {
      anomalies.push({
        instance: client.instance,
        opens: client.opens,
        lost: lostKeys.slice(0, 10).map(keyId),
        duplicates: ledger.duplicateIds,
        reordered: ledger.reorderedIds,
        resets: ledger.resetWindows,
      });
    }
    if (lostKeys.length > 0) clientsWithLoss++;
    for (const key of lostKeys) {
      const by = lostBy.get(key) ?? {};
      by[client.instance] = (by[client.instance] ?? 0) + 1;
      lostBy.set(key, by);
    }
    for (const reason of client.ledger.resetReasons) resetReasons[reason] = (resetReasons[reason] ?? 0) + 1;
  }
  const stats: Record<string, Record<string, number>> = {};
  for (const instance of [cluster.a, cluster.b]) {
    stats[instance.name] = await instance.stats().catch(() => ({}));
  }
  const unrecoveredGaps: Record<string, number> = {};
  for (const instance of [cluster.a, cluster.b]) {
    unrecoveredGaps[instance.name] = instance.output().split("\n").filter((line) =>
      UNRECOVERED.test(line)
    ).length;
  }
  const unwarned =
    clients.filter((client) => client.ledger.resetReasons.length < unrecoveredGaps[client.instance]!).length;
  const logs = [cluster.a, cluster.b].flatMap((instance) =>
    // Connection errors while Redis is down are expected (counted in stats.bridgeErrors); the rest is evidence.
    instance.output().split("\n").filter((line) =>
      line && line !== "--- restarted ---" && !EXPECTED_LOG.test(line)
    ).map((line) => `${instance.name}: ${line}`)
  );
  return {
    scenario: name,
    runtime: options.runtime,
    library: options.library,
    clients: clients.length,
    ...sum,
    acked: acked.length,
    clientsWithLoss,
    stalled: clients.filter((client) => !client.ledger.has(fence)).length,
    faults,
    publishFailures: publisher.failures,
    crashed: cluster.a.crashes + cluster.b.crashes,
    resetReasons,
    unrecoveredGaps,
    unwarned,
    perClient,
    anomalies,
    lostIds: [...lostBy].sort(([x], [y]) => x - y).slice(0, 50).map(([key, by]) => ({
      id: keyId(key),
      clients: by,
    })),
    logs: logs.slice(0, 80),
    stats,
  };
}
