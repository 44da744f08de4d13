#!/usr/bin/env node
// Events/s against the number of workers: one hub's traffic spread over the cores of one machine.
//
//   npm run bench:parallel                          Deno and Bun, workers 1, 2, 4 … up to the CPUs
//   npm run bench:parallel -- --quick               N = 500, 2 reps
//   npm run bench:parallel -- --runtimes deno --workers 1,2,4,8 --n 5000 --reps 5
//   npm run bench:parallel -- --workers 1 --n 10000 --deno-bridge redis   Redis vs in-memory at 10k
//   npm run bench:parallel -- --runtimes bun --bun-bridges broadcast      Bun threads only
//
// Deno: `deno serve --parallel` (DENO_JOBS isolates, one port) with the BroadcastChannelBridge.
// Bun: W threads of one `bun` process with the BroadcastChannelBridge, and W processes of `bun`
// with the RedisBridge on a fresh redis-server (`--bun-bridges`), each worker a Bun.serve on one
// port with reusePort. For each runtime, a baseline of one process with an in-memory hub.
// Run by node this file orchestrates; run by `deno serve` or `bun` it is one worker (the bench
// protocol of bench/servers/_protocol.mjs: GET /events, POST /publish?run&n&rate, POST /gc), or
// with BENCH_THREADS=W under Bun, a process that starts W threads of such workers.
// The Go load client (bench/client) holds N connections, spread over the workers by the kernel,
// and asks for bursts of K = clamp(100,000 / N, 10, 500) events, published back to back, one per
// event-loop turn, by whichever worker takes the POST; events/s = deliveries ÷ (last receive −
// first publish). Medians of --reps bursts after a warm-up. The client is pinned to CPU 1
// (bench/_harness.mjs), the workers are not: on a machine with few cores they compete with it
// (and with Redis), so only a machine with cores to spare shows how far the workers scale.
// Writes bench/results/parallel.json and prints a RESULT line (bench/run.mjs reads it). Every wait is bounded; the run stops after --limit-min.

const worker = "Deno" in globalThis || "Bun" in globalThis;
export default worker ? await startWorker() : await orchestrate();

// ---------------------------------------------------------------- one worker (Deno or Bun)
async function startWorker() {
  const { BroadcastChannelBridge, Hub } = await import("../mod.ts");
  const { control, listening } = await import("./servers/_protocol.mjs");
  const env = (name) => ("Deno" in globalThis ? globalThis.Deno.env.get(name) : process.env[name]);
  // Bun, one process of BENCH_THREADS worker threads: each runs this module as one worker.
  if ("Bun" in globalThis && globalThis.Bun.isMainThread && env("BENCH_THREADS")) {
    const threads = Number(env("BENCH_THREADS"));
    for (let i = 0; i < threads; i++) {
      new Worker(import.meta.url, { env: { ...process.env, BENCH_THREADS: "" } });
    }
    return {};
  }
  const bridgeKind = env("BENCH_BRIDGE") ?? "none";
  let bridge;
  if (bridgeKind === "broadcast") bridge = new BroadcastChannelBridge({ name: "sse-hub-bench" });
  if (bridgeKind === "redis") {
    const { connectRedisBridge } = await import("../examples/scale-out/redis.ts");
    bridge = (await connectRedisBridge(env("REDIS_URL"), { key: "sse-hub-bench" })).bridge;
  }
  let failed = 0;
  const hub = new Hub(bridge ? { bridge, onBridgeEvent: (event) => console.error(event) } : {});
  await bridge?.ready;
  const publish = bridge
    ? (data) =>
      void hub.publishAsync("bench", data).catch(() => failed++ === 0 && console.error("publish failed"))
    : (data) => void hub.publish("bench", data);
  const name = crypto.randomUUID(); // GET /worker: which worker answered
  const fetch = (request) => {
    const { pathname } = new URL(request.url);
    if (pathname === "/events") return hub.response(request, { topics: "bench" });
    if (pathname === "/worker") return new Response(name);
    return control(request, publish) ?? new Response("not found", { status: 404 });
  };
  if ("Deno" in globalThis) return { fetch }; // `deno serve` serves the default export
  const options = { hostname: "127.0.0.1", port: Number(env("PORT")), reusePort: true, idleTimeout: 0 };
  const server = globalThis.Bun.serve({ ...options, fetch });
  listening(server.port);
  return {}; // no `fetch`: Bun would serve the default export a second time
}

// ---------------------------------------------------------------- the bench (node)
async function orchestrate() {
  const { cpus } = await import("node:os");
  const { mkdirSync, writeFileSync } = await import("node:fs");
  const { join } = await import("node:path");
  const { createInterface } = await import("node:readline");
  const h = await import("./_harness.mjs");
  const { waitQuiet, watchForeign } = await import("./_load.mjs");

  const argv = process.argv.slice(2);
  const at = (name) => argv.indexOf(`--${name}`);
  const option = (name, fallback) => (at(name) >= 0 ? argv[at(name) + 1] : fallback);
  const quick = argv.includes("--quick");
  const cores = cpus().length;
  const defaultWorkers = [1, 2, 4, 8, 16, 32, 64].filter((w) => w < cores).concat(cores).join(",");
  const config = {
    runtimes: option("runtimes", "deno,bun").split(","),
    workers: option("workers", defaultWorkers).split(",").map(Number),
    n: Number(option("n", quick ? 500 : 1000)),
    reps: Number(option("reps", quick ? 2 : 3)),
    quietMs: Number(option("quiet-ms", 2000)), // the longest wait for a quiet machine before a burst
    denoBridge: option("deno-bridge", "broadcast"), // or "redis": isolates bridged like processes
    // Bun: threads of one process with the BroadcastChannelBridge, processes with the RedisBridge.
    bunBridges: option("bun-bridges", "broadcast,redis").split(","),
  };
  const k = Math.max(10, Math.min(500, Math.round(100_000 / config.n)));
  const limit = setTimeout(() => {
    console.error("bench:parallel: time limit reached");
    process.exit(1);
  }, Number(option("limit-min", 4)) * 60_000);
  const median = (values) => {
    const s = [...values].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };

  // The workers of one configuration: their pids, the URL, and a stop.
  async function startWorkers(runtime, workers, bridge, redisUrl) {
    const env = { ...process.env, NO_COLOR: "1", BENCH_BRIDGE: bridge, REDIS_URL: redisUrl ?? "" };
    // The port of the `count`th line of `child` that matches `pattern`.
    const lines = (child, pattern, count = 1) =>
      h.withTimeout(
        new Promise((resolve, reject) => {
          let seen = 0;
          const take = (line) =>
            pattern.exec(line) && ++seen === count && resolve(Number(pattern.exec(line)[1]));
          for (const input of [child.stdout, child.stderr]) createInterface({ input }).on("line", take);
          child.on("exit", (code) => reject(new Error(`${runtime} worker exited ${code}`)));
        }),
        30_000,
        `${runtime} workers to listen`,
      );
    if (runtime === "deno") {
      const args = ["serve", "-A", "--host=127.0.0.1", "--port=0", ...(workers > 1 ? ["--parallel"] : [])];
      const child = h.spawnPinned(`0-${cores - 1}`, h.DENO, [...args, "bench/parallel.mjs"], {
        env: { ...env, DENO_JOBS: String(workers) },
      });
      const port = await lines(child, /Listening on http:\/\/127\.0\.0\.1:(\d+)/);
      // An isolate listens once its module ran (Redis included): wait until every one answers.
      const seen = new Set();
      for (const start = Date.now(); seen.size < workers; await h.sleep(5)) {
        if (Date.now() - start > 30_000) throw new Error(`${seen.size} of ${workers} isolates answered`);
        const answer = await fetch(`http://127.0.0.1:${port}/worker`, { headers: { connection: "close" } });
        seen.add(await answer.text());
      }
      return { url: `http://127.0.0.1:${port}`, pids: [child.pid], stop: () => h.stop(child) };
    }
    const port = await h.freePort();
    // Processes bridged by Redis; or (the BroadcastChannel) threads of one process.
    const threads = bridge === "broadcast";
    const children = Array.from(
      { length: threads ? 1 : workers },
      () =>
        h.spawnPinned(`0-${cores - 1}`, h.BUN, ["bench/parallel.mjs"], {
          env: { ...env, PORT: String(port), BENCH_THREADS: threads ? String(workers) : "" },
        }),
    );
    // Each worker prints its own line; a process of threads prints one per thread.
    const each = threads ? workers : 1;
    await Promise.all(children.map((child) => lines(child, /^listening (\d+)/, each)));
    return {
      url: `http://127.0.0.1:${port}`,
      pids: children.map((c) => c.pid),
      stop: () => Promise.all(children.map((child) => h.stop(child))),
    };
  }

  async function measure(runtime, workers, bridge, redis) {
    const server = await startWorkers(runtime, workers, bridge, redis?.url);
    const client = h.startClient(server.url);
    try {
      const connect = await client.send(`connect ${config.n}`, 120_000);
      if (connect.connected !== config.n) throw new Error(`connected ${connect.connected} of ${config.n}`);
      await h.sleep(500);
      await client.send(`run burst ${Math.min(k, 5)} 0 1`); // warm-up
      const ours = [...server.pids, client.child.pid, ...(redis ? [redis.pid] : [])];
      const bursts = [];
      for (let rep = 0; rep < config.reps; rep++) {
        await waitQuiet({ ours, maxMs: config.quietMs });
        const watch = watchForeign(ours);
        const r = await client.send(`run burst ${k} 0 1`);
        if (r.error) throw new Error(r.error);
        bursts.push({ ...r, foreign_cpus: +watch.stop().toFixed(3) });
      }
      await client.send("close", 30_000);
      return {
        eventsPerS: median(bursts.map((b) => b.events_per_s)),
        lost: bursts.reduce((s, b) => s + b.lost, 0),
        foreignCpusMax: Math.max(...bursts.map((b) => b.foreign_cpus)),
        bursts,
      };
    } finally {
      client.child.stdin.end("quit\n");
      await h.stop(client.child);
      await server.stop();
    }
  }

  console.error(
    `bench:parallel: ${config.runtimes.join(", ")}; workers ${config.workers.join(", ")} on ${cores} CPUs; ` +
      `N = ${config.n}, bursts of K = ${k}, ${config.reps} reps (medians)`,
  );
  h.buildGo();
  const rows = [];
  for (const runtime of config.runtimes) {
    const bridges = runtime === "deno" ? [config.denoBridge] : config.bunBridges;
    const redis = bridges.includes("redis") ? await h.startRedis(`0-${cores - 1}`) : undefined;
    try {
      const runs = [["none", 1], ...bridges.flatMap((bridge) => config.workers.map((w) => [bridge, w]))];
      for (const [kind, workers] of runs) {
        const label = `${runtime}, ${kind === "none" ? "in-memory" : kind}, ${workers} worker(s)`;
        try {
          rows.push({ runtime, bridge: kind, workers, ...(await measure(runtime, workers, kind, redis)) });
          console.error(`  ${label}: ${Math.round(rows.at(-1).eventsPerS).toLocaleString("en")} events/s`);
        } catch (error) {
          console.error(`  ${label}: ${error.message}`);
          rows.push({ runtime, bridge: kind, workers, error: error.message });
        }
      }
    } finally {
      await redis?.stop();
    }
  }
  clearTimeout(limit);
  const { workersTable } = await import("./_extras.mjs");
  console.log(
    `\n### Events/s against workers (N = ${config.n}, K = ${k}, medians of ${config.reps} bursts, ${cores} CPUs)\n`,
  );
  console.log(workersTable({ rows }));
  mkdirSync(join(h.root, "bench/results"), { recursive: true });
  writeFileSync(
    join(h.root, "bench/results/parallel.json"),
    JSON.stringify({ date: new Date().toISOString(), cpus: cores, config, k, rows }, null, 2) + "\n",
  );
  console.error("\nwrote bench/results/parallel.json");
  console.log(`RESULT ${JSON.stringify({ cpus: cores, config, k, rows })}`); // for bench/run.mjs
  process.exit(0);
}
