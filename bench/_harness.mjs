// Shared by the bench scripts (run, profile, parallel, cross_instance): child processes (always
// killed on exit), a fresh redis-server, the Go builds, the servers under test, and the load
// client's line protocol.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:net";
import { createInterface } from "node:readline";

export const root = new URL("..", import.meta.url).pathname;
const bin = (name) => join(root, "node_modules", ".bin", name);
export const DENO = bin("deno");
export const BUN = bin("bun");

// ---------------------------------------------------------------- child processes
export const children = new Set();
export function killAll() {
  for (const child of children) {
    try {
      process.kill(child.pid, "SIGKILL");
    } catch { /* gone */ }
  }
  children.clear();
}
process.on("exit", killAll);
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => {
    killAll();
    process.exit(130);
  });
}
// Raises the fd limit as far as allowed, pins to `cpu`, and execs (so the pid is the program's).
export function spawnPinned(cpu, cmd, args, options = {}) {
  const quoted = [cmd, ...args].map((a) => `'${String(a).replaceAll("'", "'\\''")}'`).join(" ");
  const script = `ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec taskset -c ${cpu} ${quoted}`;
  const child = spawn("bash", ["-c", script], { cwd: root, stdio: ["pipe", "pipe", "pipe"], ...options });
  children.add(child);
  child.on("exit", () => children.delete(child));
  return child;
}

/** A free TCP port on 127.0.0.1 (the OS picks it; closed again before it is returned). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer().on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** A fresh redis-server on 127.0.0.1 without persistence, on the CPUs `cpu` (a taskset list). */
export async function startRedis(cpu) {
  const port = await freePort();
  const child = spawnPinned(cpu, "/usr/bin/redis-server", [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
  ]);
  await withTimeout(
    new Promise((resolve, reject) => {
      child.stdout.on("data", (d) => String(d).includes("Ready to accept") && resolve());
      child.once("exit", (code) => reject(new Error(`redis-server exited (${code})`)));
    }),
    10_000,
    "redis-server",
  );
  return { url: `redis://127.0.0.1:${port}`, pid: child.pid, stop: () => stop(child) };
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((
      _,
      reject,
    ) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms))),
  ]).finally(() => clearTimeout(timer));
}

export function run(cmd, args, { timeoutMs = 300_000, env = {} } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: root, env: { ...process.env, NO_COLOR: "1", ...env } });
    children.add(child);
    let out = "", err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => {
      err += d;
      process.stderr.write(d);
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      children.delete(child);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.join(" ")} exited ${code}\n${err.slice(-2000)}`));
    });
  });
}

export function procStatus(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/status`, "utf8");
    const kib = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? NaN);
    return {
      rssKiB: kib("VmRSS"),
      hwmKiB: kib("VmHWM"),
      threads: Number(/^Threads:\s+(\d+)/m.exec(text)?.[1]),
    };
  } catch {
    return { rssKiB: NaN, hwmKiB: NaN, threads: NaN };
  }
}
/** Resets the process's peak RSS (VmHWM) to its current RSS (Linux, own processes); false if refused. */
export function resetPeakRss(pid) {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}
// utime + stime of the whole process (all threads), in ms.
export function cpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // USER_HZ = 100 on Linux
  } catch {
    return NaN;
  }
}

// ---------------------------------------------------------------- build (Go)
export let tmp;
export function buildGo() {
  tmp = mkdtempSync(join(tmpdir(), "sse-hub-bench-"));
  process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));
  const env = { ...process.env, GO111MODULE: "off", GOFLAGS: "" };
  execFileSync("go", ["build", "-o", join(tmp, "loadclient"), "main.go"], {
    cwd: join(root, "bench/client"),
    env,
  });
  execFileSync("go", ["build", "-o", join(tmp, "go_broker"), "main.go"], {
    cwd: join(root, "bench/servers/go_broker"),
    env,
  });
}

/** The raw ceiling on Deno; with `env`, a variant that is not in the default run. */
function rawDeno(lib, env) {
  const cmd = () => [DENO, "run", "-A", "--v8-flags=--expose-gc", "bench/servers/raw.ts"];
  return env === undefined
    ? { runtime: "deno", lib, cmd }
    : { runtime: "deno", lib, optional: true, env, cmd };
}

export const SERVERS = {
  "sse-hub-deno": {
    runtime: "deno",
    lib: "sse-hub",
    cmd: () => [DENO, "run", "-A", "--v8-flags=--expose-gc", "bench/servers/sse_hub.ts"],
  },
  "sse-hub-bun": { runtime: "bun", lib: "sse-hub", cmd: () => [BUN, "bench/servers/sse_hub.ts"] },
  "raw-deno": rawDeno("raw"),
  "raw-bun": { runtime: "bun", lib: "raw", cmd: () => [BUN, "bench/servers/raw.ts"] },
  // Not in the default run (`--servers raw-deno-resume`): the raw ceiling reading each request's
  // Last-Event-ID, as any server that resumes must. Deno then keeps the request's header list
  // for the life of the stream, which the plain raw ceiling never makes.
  "raw-deno-resume": rawDeno("raw-resume", { RAW_READS_LAST_EVENT_ID: "1" }),
  // Not in the default run either: the raw ceiling with the stream shape of sse-hub's streams.
  "raw-deno-pull": rawDeno("raw-pull", { RAW_PULL: "1" }),
  "better-sse-node": {
    runtime: "node",
    lib: "better-sse",
    cmd: () => [process.execPath, "--expose-gc", "bench/servers/better_sse.mjs"],
  },
  "hono-node": {
    runtime: "node",
    lib: "hono",
    cmd: () => [process.execPath, "--expose-gc", "bench/servers/hono.mjs"],
  },
  "hono-bun": { runtime: "bun", lib: "hono", cmd: () => [BUN, "bench/servers/hono.mjs"] },
  "go-broker": { runtime: "go", lib: "go-broker", cmd: () => [join(tmp, "go_broker")] },
};
/** Lingers (ms) of the `sse-hub-<runtime>-linger<L>` servers: sse_hub.ts with SSE_HUB_LINGER=L. */
export const LINGERS = [1, 2, 5];
for (const runtime of ["deno", "bun"]) {
  for (const linger of LINGERS) {
    const base = SERVERS[`sse-hub-${runtime}`];
    SERVERS[`sse-hub-${runtime}-linger${linger}`] = {
      ...base,
      linger,
      env: { SSE_HUB_LINGER: String(linger) },
    };
  }
}

export async function startServer(name) {
  const [cmd, ...args] = SERVERS[name].cmd();
  const env = { ...process.env, NO_COLOR: "1", ...SERVERS[name].env };
  const child = spawnPinned(0, cmd, args, { env });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr = (stderr + d).slice(-4000)));
  const lines = createInterface({ input: child.stdout });
  const port = await withTimeout(
    new Promise((resolve, reject) => {
      lines.on("line", (line) => {
        const m = /^listening (\d+)/.exec(line);
        if (m) resolve(Number(m[1]));
      });
      child.on("exit", (code) => reject(new Error(`${name} exited ${code}: ${stderr}`)));
    }),
    30_000,
    `${name} to listen`,
  );
  return { child, pid: child.pid, port, url: `http://127.0.0.1:${port}`, stderr: () => stderr };
}

export async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await Promise.race([exited, sleep(3000)]);
  if (child.exitCode === null && child.signalCode === null) {
    child.kill("SIGKILL");
    await Promise.race([exited, sleep(3000)]);
  }
}

/** The Go load client on CPU 1; a run waits at most `maxS` seconds for its events. */
export function startClient(url, { maxS = 60 } = {}) {
  const child = spawnPinned(1, join(tmp, "loadclient"), ["-url", url, "-quiet", "3s", "-max", `${maxS}s`]);
  const lines = createInterface({ input: child.stdout });
  const queue = [];
  const waiting = [];
  lines.on("line", (line) => {
    const value = JSON.parse(line);
    const next = waiting.shift();
    if (next) next(value);
    else queue.push(value);
  });
  child.stderr.on("data", (d) => process.stderr.write(`[client] ${d}`));
  return {
    child,
    send(command, timeoutMs = 120_000) {
      child.stdin.write(command + "\n");
      return withTimeout(
        new Promise((resolve) => (queue.length ? resolve(queue.shift()) : waiting.push(resolve))),
        timeoutMs,
        `client: ${command}`,
      );
    },
  };
}

export async function gcAndRss(server) {
  await fetch(`${server.url}/gc`, { method: "POST" }).then((r) => r.arrayBuffer()).catch(() => {});
  await sleep(300);
  return procStatus(server.pid).rssKiB;
}

/** The jiffies of one CPU by kind (user, nice, system, idle, iowait, irq, softirq, steal). */
export function cpuJiffies(cpu) {
  const line = readFileSync("/proc/stat", "utf8").split("\n").find((l) => l.startsWith(`cpu${cpu} `));
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1, 9).map(
    Number,
  );
  return { user: user + nice, system, idle: idle + iowait, irq, softirq, steal };
}

/** Shares of one CPU's time between two `cpuJiffies` readings. */
export function cpuShares(before, after) {
  const d = Object.fromEntries(Object.keys(after).map((k) => [k, after[k] - before[k]]));
  const total = Object.values(d).reduce((a, b) => a + b, 0) || 1;
  return Object.fromEntries(Object.entries(d).map(([k, v]) => [k, +(v / total).toFixed(3)]));
}

export { countWrites } from "./_perf.mjs";
