// The processes of a chaos scenario: one real redis-server and two demo instances (A and B, on
// fixed ports so that a crashed one restarts where its clients left it), bridged by Redis.
import { killDemo, startDemoOn } from "../tests/helpers/demo_process.ts";
import type { DemoProcess } from "../tests/helpers/demo_process.ts";
import { freePort, startRedis } from "../tests/helpers/redis.ts";
import type { TestRedis } from "../tests/helpers/redis.ts";

export type Runtime = "deno" | "bun";
/** The Redis client library the demo's bridge uses. */
export type Library = "node-redis" | "bun";

export interface ClusterOptions {
  runtime: Runtime;
  library: Library;
  persistence: "aof" | "none";
}

// Demo processes still running when this process exits (a test that hit its deadline) are killed
// with it rather than left behind.
const running = new Set<DemoProcess>();
process.once("exit", () => {
  for (const demo of running) demo.child.kill("SIGKILL");
});

export class Instance {
  readonly name: string;
  readonly url: string;
  /** Exits nobody asked for (a crash). */
  crashes = 0;
  #demo: DemoProcess;
  #expectingExit = false;
  readonly #previousOutput: string[] = [];
  readonly #start: () => Promise<DemoProcess>;

  private constructor(name: string, url: string, demo: DemoProcess, start: () => Promise<DemoProcess>) {
    this.name = name;
    this.url = url;
    this.#demo = demo;
    this.#start = start;
    this.#watch();
  }

  static async start(name: string, options: ClusterOptions, redisUrl: string): Promise<Instance> {
    const port = await freePort();
    const env = {
      REDIS_URL: redisUrl,
      PORT: String(port),
      TICK_MS: "0",
      ...(options.library === "node-redis" ? { REDIS_CLIENT: "node-redis" } : {}),
    };
    const start = () => startDemoOn(options.runtime, env);
    return new Instance(name, `http://127.0.0.1:${port}`, await start(), start);
  }

  /** `kill -9`, then the same command on the same port. */
  async crashAndRestart(): Promise<void> {
    this.#expectingExit = true;
    await killDemo(this.#demo);
    this.#previousOutput.push(this.#demo.output());
    this.#demo = await this.#start();
    this.#expectingExit = false;
    this.#watch();
  }

  get alive(): boolean {
    return this.#demo.child.exitCode === null && this.#demo.child.signalCode === null;
  }

  /** Everything every run of this instance printed. */
  output(): string {
    return [...this.#previousOutput, this.#demo.output()].join("\n--- restarted ---\n");
  }

  async stats(): Promise<Record<string, number>> {
    const response = await fetch(`${this.url}/stats`, { signal: AbortSignal.timeout(5000) });
    return await response.json() as Record<string, number>;
  }

  async stop(): Promise<void> {
    this.#expectingExit = true;
    await this.#demo.stop();
  }

  #watch(): void {
    const demo = this.#demo;
    running.add(demo);
    demo.child.once("exit", () => {
      running.delete(demo);
      if (!this.#expectingExit) this.crashes++;
    });
  }
}

export interface Cluster {
  redis: TestRedis;
  a: Instance;
  b: Instance;
  stop(): Promise<void>;
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const redis = await startRedis({ persistence: options.persistence === "aof" });
  const started: Instance[] = [];
  try {
    for (const name of ["A", "B"]) started.push(await Instance.start(name, options, redis.url));
  } catch (error) {
    await Promise.all(started.map((instance) => instance.stop()));
    await redis.stop();
    throw error;
  }
  const [a, b] = started as [Instance, Instance];
  return {
    redis,
    a,
    b,
    stop: async () => {
      await Promise.all([a.stop(), b.stop()]);
      await redis.stop();
    },
  };
}
