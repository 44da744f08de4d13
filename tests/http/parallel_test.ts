// Every core of one machine, over real HTTP. Under `deno test`: examples/parallel/deno.ts with
// `deno serve --parallel` (2 isolates, one port, BroadcastChannelBridge). Under `bun test`:
// examples/parallel/bun.ts, 2 workers on one port with reusePort: threads of one process with the
// BroadcastChannelBridge, then processes with the RedisBridge on a real redis-server. The kernel
// picks the worker of each connection; every response names it.
import { after, before, describe, it } from "../helpers/timed.ts";
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { SseClient } from "../helpers/client.ts";
import { startListening } from "../helpers/listening_process.ts";
import type { ListeningProcess } from "../helpers/listening_process.ts";
import { startRedis } from "../helpers/redis.ts";
import type { TestRedis } from "../helpers/redis.ts";
import { delay, runtime, until, withDeadline } from "../helpers/server.ts";

const WORKER = "x-sse-hub-worker";
const TRIES = 200; // connections tried to land on a given worker (each lands on either of 2)

interface Published {
  id: string;
  worker: string;
}

/** One request on a fresh connection (so the kernel picks a worker again): status, body, worker. */
function fresh(
  url: string,
  method: string,
  body = "",
): Promise<{ status: number; text: string; worker: string }> {
  return withDeadline(
    new Promise((resolve, reject) => {
      const headers = {
        "content-type": "application/json",
        "content-length": String(body.length),
        connection: "close",
      };
      const req = httpRequest(url, { method, agent: false, headers }, (res) => {
        let text = "";
        res.on("data", (chunk) => (text += chunk));
        res.on("end", () => resolve({ status: res.statusCode!, text, worker: String(res.headers[WORKER]) }));
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end(body);
    }),
    10_000,
    `${method} ${url}`,
  );
}

/** POST /publish on a fresh connection: the id, and which worker took it. */
async function publish(url: string, topic: string, msg: string): Promise<Published> {
  const { status, text, worker } = await fresh(`${url}/publish`, "POST", JSON.stringify({ topic, msg }));
  if (status !== 200) throw new Error(`publish answered ${status}: ${text}`);
  return { id: (JSON.parse(text) as { id: string }).id, worker };
}

interface Setup {
  name: string;
  /** Bridged through Redis (one order everywhere, the shared stream as history). */
  redis: boolean;
  start(redisUrl?: string): Promise<ListeningProcess>;
}

const denoServe = (redisUrl?: string) =>
  startListening(
    "deno",
    [
      "serve",
      "--parallel",
      ...(redisUrl ? ["--allow-env", "--allow-net"] : []),
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "examples/parallel/deno.ts",
    ],
    {
      listening: /Listening on (http:\/\/127\.0\.0\.1:\d+)\/ with 2 threads/,
      env: { DENO_JOBS: "2", ...(redisUrl ? { REDIS_URL: redisUrl } : {}) },
    },
  );

// Without REDIS_URL the example runs threads of one process, with it processes.
const bunParallel = (redisUrl?: string) =>
  startListening("bun", ["run", "examples/parallel/bun.ts"], {
    listening: /sse-hub parallel listening on (http:\/\/127\.0\.0\.1:\d+) \(bun, 2 workers/,
    env: { ...(redisUrl ? { REDIS_URL: redisUrl } : {}), PORT: "0", HOST: "127.0.0.1", WORKERS: "2" },
  });

const setups: Setup[] = runtime === "deno"
  ? [
    { name: "deno serve --parallel, BroadcastChannelBridge", redis: false, start: () => denoServe() },
    { name: "deno serve --parallel, RedisBridge", redis: true, start: denoServe },
  ]
  : [
    { name: "Bun threads with reusePort, BroadcastChannelBridge", redis: false, start: () => bunParallel() },
    { name: "Bun processes with reusePort, RedisBridge", redis: true, start: bunParallel },
  ];

for (const setup of setups) {
  describe(`Every core: ${setup.name}`, () => {
    let redis: TestRedis | undefined;
    let server: ListeningProcess;
    const clients: SseClient[] = [];

    /** An SSE client whose connection landed on a worker `accept` takes (others are closed). */
    const connectOn = async (
      topic: string,
      accept: (worker: string) => boolean,
      headers: Record<string, string> = {},
    ): Promise<{ client: SseClient; worker: string }> => {
      for (let i = 0; i < TRIES; i++) {
        const client = await SseClient.connect(`${server.url}/events/${topic}`, { headers });
        assert.equal(client.response.status, 200);
        const worker = client.response.headers.get(WORKER)!;
        if (accept(worker)) {
          clients.push(client);
          await client.textUntil((text) => text.startsWith("retry: 1000\n\n")); // subscribed
          return { client, worker };
        }
        await client.close();
      }
      throw new Error(`no connection of ${TRIES} landed on the wanted worker`);
    };

    /** One subscriber of `topic` on each of the two workers. */
    const onBoth = async (topic: string) => {
      const first = await connectOn(topic, () => true);
      const second = await connectOn(topic, (worker) => worker !== first.worker);
      return [first, second];
    };

    before(async () => {
      if (setup.redis) redis = await startRedis({ persistence: false });
      server = await setup.start(redis?.url);
      // Up once both workers answer (a Deno isolate listens once its module, Redis included, is ready).
      const workers = new Set<string>();
      await until(
        async () => workers.add((await fresh(`${server.url}/stats`, "GET")).worker).size === 2,
        "both workers to answer",
      );
    });
    after(async () => {
      for (const client of clients) await client.close();
      await server?.stop();
      await redis?.stop();
    });

    it("a client on one worker receives what is published on the other, in publish order, with one id everywhere", async () => {
      const subscribers = await onBoth("orders");
      const sent: Published[] = [];
      // Each publish goes out once the previous one reached both workers; the loop ends once
      // both workers have published (at least 3 events each).
      while (
        ["first", "second"].some((_, i) => sent.filter((p) => p.worker === subscribers[i]!.worker).length < 3)
      ) {
        if (sent.length >= TRIES) assert.fail(`${TRIES} publishes landed on one worker only`);
        sent.push(await publish(server.url, "orders", `event ${sent.length}\nline two`));
        await Promise.all(
          subscribers.map(({ client }) => client.textUntil((t) => t.includes(`id: ${sent.at(-1)!.id}\n`))),
        );
      }
      for (const { client, worker } of subscribers) {
        const events = await client.take(sent.length);
        assert.deepEqual(events.map((e) => e.id), sent.map((p) => p.id), `the order on worker ${worker}`);
        assert.deepEqual(events.map((e) => e.data), sent.map((_, i) => `event ${i}\nline two`));
        assert.ok(
          sent.some((p) => p.worker !== worker),
          `worker ${worker}'s client got events published elsewhere`,
        );
      }
    });

    it("concurrent publishes reach each worker's clients exactly once; each worker's own in its order", async () => {
      const subscribers = await onBoth("race");
      const sent = await Promise.all(
        Array.from({ length: 40 }, (_, i) => publish(server.url, "race", `race ${i}`)),
      );
      assert.equal(new Set(sent.map((p) => p.id)).size, sent.length, "one id per publish");
      const received = await Promise.all(subscribers.map(({ client }) => client.take(sent.length)));
      for (const events of received) {
        assert.deepEqual(new Set(events.map((e) => e.id)), new Set(sent.map((p) => p.id)));
        // One worker's publishes keep that worker's order (its ids grow in the order it took them).
        for (const worker of new Set(sent.map((p) => p.worker))) {
          const own = new Set(sent.filter((p) => p.worker === worker).map((p) => p.id));
          const order = events.filter((e) => own.has(e.id)).map((e) => e.id);
          assert.deepEqual(order, [...order].sort(compareIds), `worker ${worker}'s events in its order`);
        }
      }
      if (setup.redis) {
        // Redis Streams order every event: the same order on every worker.
        assert.deepEqual(received[0]!.map((e) => e.id), received[1]!.map((e) => e.id));
      }
      await delay(50);
      assert.equal(subscribers.reduce((n, { client }) => n + client.buffered.length, 0), 0, "nothing twice");
    });

    it("a client resumes with Last-Event-ID on whichever worker its reconnect lands", async () => {
      const witnesses = await onBoth("resume"); // both workers have seen what they got
      const seen = await publish(server.url, "resume", "one");
      const missed = [
        await publish(server.url, "resume", "two"),
        await publish(server.url, "other", "not this topic"),
        await publish(server.url, "resume", "three"),
      ];
      await Promise.all(witnesses.map(({ client }) => client.take(3)));
      for (const { worker: target } of witnesses) {
        const { client } = await connectOn("resume", (worker) => worker === target, {
          "last-event-id": seen.id,
        });
        const events = await client.take(2);
        assert.deepEqual(
          events.map((e) => [e.id, e.data]),
          [[missed[0]!.id, "two"], [missed[2]!.id, "three"]],
          `the replay on worker ${target}`,
        );
        assert.ok(!client.text.includes("sse-hub:reset"), "a complete replay sends no reset");
      }
      const live = await publish(server.url, "resume", "four");
      for (const client of clients.slice(-2)) assert.equal((await client.next()).id, live.id);
    });
  });
}

// Orders ids of either bridge: `<ms>-<seq>` (Redis) or `<clock>-<instance>` (BroadcastChannel), by number first.
function compareIds(a: string, b: string): number {
  const [ta, ra] = [Number(a.slice(0, a.indexOf("-"))), a.slice(a.indexOf("-") + 1)];
  const [tb, rb] = [Number(b.slice(0, b.indexOf("-"))), b.slice(b.indexOf("-") + 1)];
  if (ta !== tb) return ta - tb;
  return /^\d+$/.test(ra) && /^\d+$/.test(rb) ? Number(ra) - Number(rb) : ra < rb ? -1 : ra > rb ? 1 : 0;
}
