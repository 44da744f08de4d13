// The fault scenarios, each over a fresh cluster (redis-server + demo instances A and B): clients
// follow topic "chaos" on both instances, a publisher posts to B, faults are injected until the
// time is up, then one last acknowledged publish (the fence) and every client is owed everything
// acknowledged from its first event up to the fence.
import { rawRequest } from "../tests/helpers/raw.ts";
import type { RawClient } from "../tests/helpers/raw.ts";
import { delay, until } from "../tests/helpers/server.ts";
import { type Cluster, startCluster } from "./cluster.ts";
import { type ChaosClient, openClients, Publisher, startNoise } from "./load.ts";
import { type ScenarioOptions, type ScenarioResult, verdict } from "./verdict.ts";

export type { ScenarioOptions, ScenarioResult } from "./verdict.ts";

interface Scenario {
  description: string;
  persistence: "aof" | "none";
  /** Message size (bytes) the publisher pads to. */
  bytes?: number;
  /** Publishes per second at most, whatever the options say. */
  maxRate?: number;
  /** Injects faults until `endAt`; returns how many. */
  inject(cluster: Cluster, endAt: number, options: ScenarioOptions): Promise<number>;
}

/** Runs `fault` every `ms` until `endAt` (the first one after `ms`). */
async function every(ms: number, endAt: number, fault: () => Promise<void>): Promise<number> {
  let count = 0;
  for (;;) {
    await delay(Math.max(0, Math.min(ms, endAt - Date.now())));
    if (Date.now() >= endAt) return count;
    await fault();
    count++;
  }
}

/** Short runs get one fault at a third of the time; long ones one every `ms`. */
const interval = (ms: number, endAt: number): number => Math.min(ms, Math.max(100, (endAt - Date.now()) / 3));

export const scenarios: Record<string, Scenario> = {
  "pubsub-kill": {
    description:
      "CLIENT KILL TYPE pubsub every 100 ms (every instance's subscriber connection drops) while a third " +
      "instance publishes 3,000 events/s on another topic",
    persistence: "aof",
    async inject(cluster, endAt, options) {
      const rate = options.noise ?? 3000;
      const noise = rate > 0 ? await startNoise(cluster.redis.url, rate) : undefined;
      try {
        return await every(
          options.faultEveryMs ?? 100,
          endAt,
          async () => void await cluster.redis.killPubSub(),
        );
      } finally {
        await noise?.();
      }
    },
  },
  "instance-crash": {
    description:
      "instance A kill -9ed and restarted on its port (every 10 s): its clients resume through Redis; at most " +
      "300 publishes/s, so that an outage of ~3 s stays within the demo's replay limit (maxReplay, 1000 events)",
    persistence: "aof",
    maxRate: 300,
    inject: (cluster, endAt, options) =>
      every(interval(options.faultEveryMs ?? 10_000, endAt), endAt, () => cluster.a.crashAndRestart()),
  },
  "redis-restart-empty": {
    description: "redis-server kill -9ed, down 1 s, restarted without persistence (empty), every 15 s",
    persistence: "none",
    inject: (cluster, endAt, options) =>
      every(interval(options.faultEveryMs ?? 15_000, endAt), endAt, () => restartRedis(cluster)),
  },
  "redis-restart-aof": {
    description: "redis-server kill -9ed, down 1 s, restarted from its AOF (appendfsync always), every 15 s",
    persistence: "aof",
    inject: (cluster, endAt, options) =>
      every(interval(options.faultEveryMs ?? 15_000, endAt), endAt, () => restartRedis(cluster)),
  },
  "mixed": {
    description:
      "all at once: a pub/sub kill every second, A kill -9ed every 10 s, redis-server restarted from its AOF " +
      "every 15 s; at most 300 publishes/s (the crash's replay limit)",
    persistence: "aof",
    maxRate: 300,
    async inject(cluster, endAt) {
      const counts = await Promise.all([
        // Redis may be down at that moment: that kill just does not happen.
        every(1000, endAt, () => cluster.redis.killPubSub().then(() => {}, () => {})),
        every(interval(10_000, endAt), endAt, () => cluster.a.crashAndRestart()),
        delay(interval(5_000, endAt)).then(() =>
          every(interval(15_000, endAt), endAt, () => restartRedis(cluster))
        ),
      ]);
      return counts.reduce((sum, n) => sum + n, 0);
    },
  },
  "never-reading": {
    description:
      "20 raw TCP clients on A send the request and never read, 4 KiB events at 500/s at most; runs on until " +
      "A has closed all 20 (their budget, then the overflow policy)",
    persistence: "aof",
    bytes: 4096,
    maxRate: 500,
    async inject(cluster, endAt, options) {
      const head = "GET /events/chaos HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream";
      const stuck: RawClient[] = [];
      for (let i = 0; i < 20; i++) stuck.push(await rawRequest(cluster.a.url, head, { pause: true }));
      await delay(Math.max(0, endAt - Date.now()));
      // Only the eventsource clients are left once the hub has closed every never-reader.
      // (Bounded: the verdict's stats show how many are left.)
      for (const until = Date.now() + 30_000; Date.now() < until; await delay(200)) {
        const { subscribers = Infinity } = await cluster.a.stats().catch(
          () => ({} as Record<string, number>),
        );
        if (subscribers <= options.clients) break;
      }
      for (const client of stuck) client.socket.destroy();
      return stuck.length;
    },
  },
};

async function restartRedis(cluster: Cluster): Promise<void> {
  await cluster.redis.kill();
  await delay(1000);
  await cluster.redis.restart();
}

export async function runScenario(name: string, options: ScenarioOptions): Promise<ScenarioResult> {
  const scenario = scenarios[name];
  if (!scenario) throw new Error(`unknown scenario ${name}; known: ${Object.keys(scenarios).join(", ")}`);
  const cluster = await startCluster({ ...options, persistence: scenario.persistence });
  const clients: ChaosClient[] = [];
  const rate = Math.min(options.rate, scenario.maxRate ?? Infinity);
  const publisher = new Publisher(cluster.b.url, "chaos", { rate, bytes: scenario.bytes ?? 0 });
  try {
    for (const instance of [cluster.a, cluster.b]) {
      clients.push(...await openClients(`${instance.url}/events/chaos`, instance.name, options.clients));
    }
    publisher.start();
    // Every client holds an id before the first fault, so every one of them can resume.
    await until(
      () => clients.every((client) => client.ledger.received > 0),
      "every client's first event",
      20_000,
    );
    const faults = await scenario.inject(cluster, Date.now() + options.seconds * 1000, options);
    await publisher.stop();
    const fence = await publisher.fence();
    await until(
      () => clients.every((client) => client.ledger.has(fence)),
      "every client to get the fence",
      30_000,
    )
      .catch(() => {}); // those that do not are counted as stalled (and their misses as lost)
    return await verdict(name, options, cluster, clients, publisher, fence, faults);
  } finally {
    for (const client of clients) client.close();
    await publisher.stop();
    await cluster.stop();
  }
}
