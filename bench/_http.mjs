// The loopback HTTP scenario of bench/run.mjs: one server process and the Go load client
// (bench/client) per server and N; the coalescing regimes, latency, RSS and CPU of each.
import * as h from "./_harness.mjs";
import { watchForeign } from "./_load.mjs";
import { fmt, median } from "./_report.mjs";

/** A run whose others' CPU exceeded this is redone (at most twice). */
const DISTURBED = 0.15;

/**
 * The regimes measured for `name` at N = `n`:
 *   turn          K events, one per event-loop turn (the competitor comparison; --batch B: B per turn);
 *   paced         the latency run: a few events at 10/s, every delivery sampled;
 *   back-to-back  the same K events, all published in one turn;
 *   schedule      S events, B every I ms (default 1), latency against each event's scheduled time;
 *   memory        the memory burst: 1,000 events back to back in one turn (peak RSS), at N ≥ 10k.
 * Beyond turn and paced, only sse-hub, raw and Go at the regime sizes; the linger variants
 * add the schedule; the memory burst is sse-hub and raw only.
 */
export function plan(name, n, config) {
  const { lib, linger } = h.SERVERS[name];
  const regimes = ["turn", "paced"];
  if (!config.regimeSizes.includes(n)) return regimes;
  if (linger) return [...regimes, "schedule"];
  if (!["sse-hub", "raw", "go-broker"].includes(lib)) return regimes;
  regimes.push("back-to-back", "schedule");
  if (n >= 10_000 && lib !== "go-broker" && config.memoryEvents > 0) regimes.push("memory");
  return regimes;
}

/** The client's command for one regime at N = n. */
function command(regime, n, config) {
  const k = burstEvents(n, config);
  if (regime === "turn") return `run burst ${k} 0 ${config.batch}`;
  if (regime === "paced") return `run paced ${config.pacedEvents} ${config.pacedRate}`;
  if (regime === "back-to-back") return `run burst ${k} 0 ${k}`;
  if (regime === "memory") return `run burst ${config.memoryEvents} 0 ${config.memoryEvents}`;
  const { events, intervalMs, batch } = scheduleOf(n, config);
  return `run schedule ${events} ${(1000 * batch) / intervalMs} ${batch}`;
}

/** K = clamp(burstDeliveries / N, 10, 500). */
export const burstEvents = (n, config) => Math.max(10, Math.min(500, Math.round(config.burstDeliveries / n)));
/** S = clamp(scheduleDeliveries / N, 20, 200) × B events, B every I ms. */
export const scheduleOf = (n, config) => ({
  events: Math.max(20, Math.min(200, Math.round(config.scheduleDeliveries / n))) * config.scheduleBatch,
  intervalMs: config.scheduleIntervalMs,
  batch: config.scheduleBatch,
});

/** Medians over the runs of one regime. */
function summarize(runs) {
  return {
    eventsPerS: median(runs.map((r) => r.events_per_s)),
    p50Ms: median(runs.map((r) => r.p50_ms)),
    p99Ms: median(runs.map((r) => r.p99_ms)),
    maxMs: median(runs.map((r) => r.max_ms)),
    lost: runs.reduce((s, r) => s + (r.lost ?? 0), 0),
    disconnected: runs.reduce((s, r) => s + (r.disconnected ?? 0), 0),
    serverCpuUsPerDelivery: median(runs.map((r) => (r.server_cpu_ms * 1000) / Math.max(1, r.received))),
    serverCpuShare: median(runs.map((r) => r.server_cpu_ms / r.client_wall_ms)),
    clientCpuShare: median(runs.map((r) => r.client_cpu_ms / r.client_wall_ms)),
    cpu0Busy: median(runs.map((r) => 1 - r.cpu0.idle)),
    cpu0Softirq: median(runs.map((r) => r.cpu0.softirq)),
    peakRssKiB: median(runs.map((r) => r.peak_rss_kib)),
    foreignCpusMax: Math.max(...runs.map((r) => r.foreign_cpus)),
    runs,
  };
}

/** One server at N = n: connect, idle RSS, then every regime of `plan`, `reps` times each. */
export async function measureServer(name, n, config, quietMoment) {
  const regimes = plan(name, n, config);
  const began = Date.now();
  const server = await h.startServer(name);
  const client = h.startClient(server.url, { maxS: config.memoryEvents > 0 && n >= 10_000 ? 240 : 60 });
  const { lib, runtime, linger } = h.SERVERS[name];
  const result = { server: name, lib, runtime, linger: linger ?? (lib === "sse-hub" ? 0 : undefined), n };
  Object.assign(result, { burstEvents: burstEvents(n, config), batch: config.batch, regimeList: regimes });
  try {
    await h.sleep(300);
    const rss0 = await h.gcAndRss(server);
    // Half, then the rest: the slope between them is what one more connection costs, without
    // the one-time costs of the first ones (JIT, a young generation grown by the connects).
    const half = await client.send(`connect ${n >> 1}`, 180_000);
    await h.sleep(1000);
    const rssHalf = await h.gcAndRss(server);
    const connect = await client.send(`connect ${n - (n >> 1)}`, 180_000);
    connect.failed += half.failed;
    connect.error ||= half.error;
    Object.assign(result, {
      connected: connect.connected,
      connectFailed: connect.failed,
      connectMs: connect.ms,
    });
    result.connectError = connect.error || undefined;
    await h.sleep(1000); // idle: every connection established and quiet
    const rssN = await h.gcAndRss(server);
    result.rssBaseKiB = rss0;
    result.rssIdleKiB = rssN;
    result.rssPerConnBytes = connect.connected > 0 ? ((rssN - rss0) * 1024) / connect.connected : null;
    const added = connect.connected - half.connected;
    result.rssMarginalBytes = added > 0 ? ((rssN - rssHalf) * 1024) / added : null;
    if (connect.connected === 0) throw new Error(`no connection: ${connect.error}`);
    // Warm-up, not recorded: one whole turn run. A 5-event one left Deno's first measured run 10-20 %
    // slower than the next ones in half the processes (presumably the JIT still at work), for every server.
    await client.send(command("turn", n, config));
    const ours = [server.pid, client.child.pid];
    const measured = async (cmd, { writes = false, timeoutMs } = {}) => {
      for (let attempt = 0;; attempt++) {
        await quietMoment(ours);
        const watch = watchForeign(ours);
        const counter = writes ? h.countWrites(server.pid) : undefined;
        if (counter) await h.sleep(200); // perf attaches
        const peakReset = h.resetPeakRss(server.pid);
        const cpu0 = h.cpuMs(server.pid), core0 = h.cpuJiffies(0);
        const r = await client.send(cmd, timeoutMs);
        r.server_cpu_ms = h.cpuMs(server.pid) - cpu0;
        r.peak_rss_kib = peakReset ? h.procStatus(server.pid).hwmKiB : null;
        r.cpu0 = h.cpuShares(core0, h.cpuJiffies(0));
        if (counter) r.write_syscalls = await counter.stop();
        r.foreign_cpus = +watch.stop().toFixed(3);
        r.attempt = attempt;
        if (r.error) throw new Error(`${cmd}: ${r.error}`);
        if (r.foreign_cpus <= DISTURBED || attempt >= 2) return r;
      }
    };
    const runs = Object.fromEntries(regimes.map((regime) => [regime, []]));
    // turn and paced alternate (as always); then the other regimes, each `reps` times.
    for (let rep = 0; rep < config.reps; rep++) {
      const last = rep === config.reps - 1;
      runs.turn.push(await measured(command("turn", n, config), { writes: last }));
      runs.paced.push(await measured(command("paced", n, config)));
    }
    for (const regime of regimes.filter((g) => g !== "turn" && g !== "paced")) {
      const reps = regime === "memory" ? config.memoryReps : config.reps;
      for (let rep = 0; rep < reps; rep++) {
        runs[regime].push(await measured(command(regime, n, config), { timeoutMs: 300_000 }));
      }
    }
    if (linger) result.paired = await pairedLatency(client, n, config, measured);
    result.regimes = Object.fromEntries(regimes.map((regime) => [regime, summarize(runs[regime])]));
    const turn = result.regimes.turn, paced = result.regimes.paced;
    const lastTurn = runs.turn.at(-1);
    Object.assign(result, {
      eventsPerS: turn.eventsPerS,
      burstLost: turn.lost,
      burstDisconnected: turn.disconnected,
      serverCpuUsPerDelivery: turn.serverCpuUsPerDelivery,
      clientCpuShare: turn.clientCpuShare,
      serverCpuShare: turn.serverCpuShare,
      cpu0Busy: turn.cpu0Busy,
      cpu0Softirq: turn.cpu0Softirq,
      writesPerDelivery: typeof lastTurn.write_syscalls === "number"
        ? lastTurn.write_syscalls / Math.max(1, lastTurn.received)
        : null,
      p50Ms: paced.p50Ms,
      p99Ms: paced.p99Ms,
      maxMs: paced.maxMs,
      pacedLost: paced.lost,
      foreignCpusMax: Math.max(...Object.values(result.regimes).map((g) => g.foreignCpusMax)),
      peakRssKiB: h.procStatus(server.pid).hwmKiB,
    });
    await client.send("close", 30_000);
  } catch (error) {
    result.error = String(error?.message ?? error);
    console.error(`  ${name} N=${n}: ${result.error}\n${server.stderr().slice(-1000)}`);
  } finally {
    client.child.stdin.end("quit\n");
    await h.stop(client.child);
    await h.stop(server.child);
  }
  result.seconds = Math.round((Date.now() - began) / 1000);
  return result;
}

/** The path of the hub without a linger in a linger variant's process (bench/servers/sse_hub.ts). */
const PLAIN = "/events?linger=0";

/**
 * What a linger adds to latency, paired: half the connections on the linger's hub, half on a hub
 * without one in the same process, through the same paced runs, each publish going to both. Two
 * processes differ by ±2 ms in p99 at 1k (the latency run's noise); two halves of one run do not.
 */
async function pairedLatency(client, n, config, measured) {
  await client.send("close", 30_000);
  const half = await client.send(`connect ${n >> 1}`, 180_000);
  const plain = await client.send(`connect ${n - (n >> 1)} ${PLAIN}`, 180_000);
  if (half.failed + plain.failed > 0) throw new Error(`paired run: ${half.error || plain.error}`);
  await h.sleep(1000);
  const runs = [];
  for (let rep = 0; rep < config.reps; rep++) runs.push(await measured(command("paced", n, config)));
  const p99 = (path) => runs.map((r) => r.paths?.[path]?.p99_ms ?? NaN);
  const lingering = p99("/events"), without = p99(PLAIN);
  return {
    addedP99Ms: median(lingering.map((ms, i) => ms - without[i])),
    p99Ms: median(lingering),
    plainP99Ms: median(without),
    lost: runs.reduce((s, r) => s + (r.lost ?? 0), 0),
    runs,
  };
}

/** Every server at every size; the linger variants only at the regime sizes. */
export async function http(config, quietMoment) {
  const names = config.servers;
  for (const name of names) {
    if (!h.SERVERS[name]) {
      throw new Error(`unknown server ${name}; known: ${Object.keys(h.SERVERS).join(", ")}`);
    }
  }
  const out = [];
  for (const n of config.sizes) {
    console.error(`\n# loopback HTTP, N = ${n}`);
    for (const name of names) {
      if (h.SERVERS[name].linger && !config.regimeSizes.includes(n)) continue;
      const r = await measureServer(name, n, config, quietMoment);
      const extra = Object.entries(r.regimes ?? {}).filter(([g]) => g !== "turn" && g !== "paced")
        .map(([g, s]) =>
          `${g} ${fmt(s.eventsPerS)} ev/s${s.p99Ms === null ? "" : ` p99 ${fmt(s.p99Ms, 1)}`}`
        );
      console.error(
        `  ${name.padEnd(22)} conn ${r.connected ?? 0}/${n}  turn ${fmt(r.eventsPerS)} ev/s  p99 ${
          fmt(r.p99Ms, 2)
        } ms  lost ${(r.burstLost ?? 0) + (r.pacedLost ?? 0)}  ${fmt(r.rssPerConnBytes)} B/conn` +
          `${extra.length ? `  | ${extra.join(", ")}` : ""}  (${r.seconds} s)`,
      );
      out.push(r);
    }
  }
  return out;
}
