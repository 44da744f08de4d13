// The traffic of a chaos scenario: a rate-limited publisher (POST /publish to a demo instance,
// keeping the ids it was answered) and real reconnecting clients (npm `eventsource`, which
// resumes with Last-Event-ID by itself), each with its own ledger.
import { EventSource } from "eventsource";
import { ClientLedger, idKey } from "./ledger.ts";
import { clientKinds } from "../tests/helpers/redis.ts";
import { delay, until } from "../tests/helpers/server.ts";

export interface PublisherOptions {
  /** Publishes per second. */
  rate: number;
  /** Publishes in flight at most. */
  inFlight?: number;
  /** Pads each message to about this many bytes. */
  bytes?: number;
}

/** Publishes `topic` on an instance at a steady rate; only answers 200 with an id count. */
export class Publisher {
  /** Acknowledged ids (as ledger keys), in the order the answers came. */
  readonly acked: number[] = [];
  /** When each acknowledged publish was sent (`performance.now()`), by key: a reset excuses only earlier ones. */
  readonly sentAt: Map<number, number> = new Map();
  /** Failed publishes by cause (`"503"`, `"network"`, …): not acknowledged, maybe published. */
  readonly failures: Record<string, number> = {};
  #url: string;
  readonly #topic: string;
  readonly #options: Required<PublisherOptions>;
  #pending = new Set<Promise<void>>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #sent = 0;

  constructor(url: string, topic: string, options: PublisherOptions) {
    this.#url = url;
    this.#topic = topic;
    this.#options = { inFlight: 64, bytes: 0, ...options };
  }

  start(): void {
    let budget = 0;
    let last = performance.now();
    const { rate, inFlight } = this.#options;
    this.#timer = setInterval(() => {
      const now = performance.now();
      // Never more than 100 ms of backlog: a stalled instance does not earn a burst afterwards.
      budget = Math.min(budget + (rate * (now - last)) / 1000, rate / 10);
      last = now;
      while (budget >= 1 && this.#pending.size < inFlight) {
        budget--;
        this.#track(this.#publishOnce().then(() => {}));
      }
    }, 10);
  }

  /** Stops publishing and waits for the answers still due. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  /** Publishes until one is acknowledged (Redis may still be coming back); its key. */
  async fence(ms = 30_000): Promise<number> {
    const start = Date.now();
    for (;;) {
      const key = await this.#publishOnce("fence");
      if (key !== undefined) return key;
      if (Date.now() - start > ms) throw new Error(`no publish acknowledged within ${ms} ms`);
      await delay(100);
    }
  }

  #track(promise: Promise<void>): void {
    this.#pending.add(promise);
    promise.finally(() => this.#pending.delete(promise));
  }

  async #publishOnce(label = "p"): Promise<number | undefined> {
    const msg = `${label}${this.#sent++}`.padEnd(this.#options.bytes, ".");
    const sent = performance.now();
    let cause: string;
    try {
      const response = await fetch(`${this.#url}/publish`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ topic: this.#topic, msg }),
        signal: AbortSignal.timeout(10_000),
      });
      const body = await response.json().catch(() => ({})) as { id?: string };
      if (response.status === 200 && typeof body.id === "string") {
        const key = idKey(body.id);
        this.acked.push(key);
        this.sentAt.set(key, sent);
        return key;
      }
      cause = String(response.status);
    } catch (error) {
      cause = (error as Error)?.name === "TimeoutError" ? "timeout" : "network";
    }
    this.failures[cause] = (this.failures[cause] ?? 0) + 1;
    return undefined;
  }
}

/** One `eventsource` client on `url`, counting what it receives. */
export class ChaosClient {
  readonly ledger: ClientLedger = new ClientLedger();
  /** Which instance it follows (for the evidence of a loss). */
  readonly instance: string;
  opens = 0;
  errors = 0;
  readonly #source: EventSource;

  constructor(url: string, instance: string) {
    this.instance = instance;
    this.#source = new EventSource(url);
    this.#source.onopen = () => this.opens++;
    this.#source.onerror = () => this.errors++;
    this.#source.onmessage = (event) => this.ledger.deliver(event.lastEventId);
    this.#source.addEventListener("sse-hub:reset", (event) => {
      let reason = "unparsed";
      try {
        reason = String(JSON.parse(event.data).reason);
      } catch { /* counted as "unparsed" */ }
      this.ledger.reset(reason);
    });
  }

  close(): void {
    this.#source.close();
  }
}

/** Opens `count` clients on `url` and waits until every one is connected. */
export async function openClients(url: string, instance: string, count: number): Promise<ChaosClient[]> {
  const clients = Array.from({ length: count }, () => new ChaosClient(url, instance));
  await until(
    () => clients.every((client) => client.opens > 0),
    `${count} clients on ${instance} to open`,
    20_000,
  );
  return clients;
}

/**
 * A third instance in this process (a `Hub` with the `RedisBridge`, node-redis) publishing on
 * another topic as fast as `rate` allows: traffic every instance's bridge receives and no client
 * is owed. More bus messages around a reconnect make a bridge's reconnect race likelier.
 */
export async function startNoise(redisUrl: string, rate: number): Promise<() => Promise<number>> {
  const { Hub, RedisBridge } = await import("../mod.ts");
  const node = clientKinds.find((kind) => kind.name === "node-redis")!;
  const pair = await node.connect(redisUrl);
  const bridge = new RedisBridge({ client: pair.client, subscriber: pair.subscriber });
  const hub = new Hub<string>({ bridge, onBridgeEvent: () => {} });
  await bridge.ready;
  let published = 0;
  let stopped = false;
  const loop = async () => {
    while (!stopped) {
      const started = performance.now();
      const batch = Math.max(1, Math.round(rate / 100));
      await Promise.allSettled(Array.from({ length: batch }, () => hub.publishAsync("noise", "n")))
        .then((results) => (published += results.filter((r) => r.status === "fulfilled").length));
      await delay(Math.max(0, 10 - (performance.now() - started)));
    }
  };
  const running = loop();
  return async () => {
    stopped = true;
    await running;
    hub.close();
    await pair.close();
    return published;
  };
}
