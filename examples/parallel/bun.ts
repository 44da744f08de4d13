// One hub per core on Bun: WORKERS workers (one per core by default), each a Bun.serve on the same
// port with `reusePort: true`, so the kernel spreads connections across them (SO_REUSEPORT,
// Linux). Without REDIS_URL they are threads of this one process (Bun `Worker`s) and a
// BroadcastChannelBridge connects their hubs, like `deno serve --parallel`. With REDIS_URL they
// are processes of this file and a RedisBridge connects them, with the Redis stream as the one
// replay history (also across machines).
//
//   PORT=8000 bun run examples/parallel/bun.ts                                 threads
//   PORT=8000 WORKERS=2 bun run examples/parallel/bun.ts
//   REDIS_URL=redis://127.0.0.1:6379 PORT=8000 bun run examples/parallel/bun.ts   processes
//
// Or run the processes yourself (systemd, a container per core…): each is this file with
// SSE_HUB_WORKER=<name>, the same PORT and REDIS_URL. Routes: examples/parallel/app.ts. HOST:
// 127.0.0.1 by default; PORT=0 picks a free port for all of them.
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { availableParallelism } from "node:os";
import process from "node:process";
import { isMainThread, parentPort, Worker } from "node:worker_threads";
import { BroadcastChannelBridge, Hub } from "@sse-hub/sse-hub";
import { connectRedisBridge } from "../scale-out/redis.ts";
import { parallelApp } from "./app.ts";

declare const Bun: {
  serve(options: {
    hostname: string;
    port: number;
    reusePort: boolean;
    idleTimeout: number;
    fetch: (request: Request) => Promise<Response>;
  }): { port: number | undefined; stop(closeActiveConnections?: boolean): Promise<void> };
};

const redisUrl = process.env.REDIS_URL;
const hostname = process.env.HOST || "127.0.0.1";
const READY = "sse-hub worker listening";

/** Told when a worker ends, with its exit code. */
type Exited = (name: string, code: number | null) => void;

/** One worker, as the primary sees it. */
interface Running {
  /** Resolves once it listens. */
  ready: Promise<void>;
  /** Asks it to close its hub and server; resolves once it is gone. */
  stop(): Promise<void>;
}

if (process.env.SSE_HUB_WORKER === undefined) await primary();
else await worker(process.env.SSE_HUB_WORKER);

async function primary(): Promise<void> {
  const count = Number(process.env.WORKERS || availableParallelism());
  if (!Number.isSafeInteger(count) || count < 1) throw new RangeError(`WORKERS must be ≥ 1, got ${count}`);
  let port = Number(process.env.PORT || 8000);
  if (port === 0) port = await freePort(hostname); // every worker must bind the same port
  let stopping = false;
  const stopAll = async (code: number) => {
    stopping = true;
    await Promise.all(workers.map((running) => running.stop()));
    process.exit(code);
  };
  // A worker that ends on its own takes the others down: your process manager starts it all again.
  const exited: Exited = (name, code) => {
    if (stopping) return;
    console.error(`worker ${name} exited (${code}): stopping the others`);
    void stopAll(1);
  };
  const start = redisUrl ? startProcess : startThread;
  const workers = Array.from({ length: count }, (_, i) => start(String(i + 1), port, exited));
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => void stopAll(0));
  await Promise.all(workers.map((running) => running.ready));
  const kind = redisUrl ? "processes, RedisBridge" : "threads, BroadcastChannelBridge";
  console.log(`sse-hub parallel listening on http://${hostname}:${port} (bun, ${count} workers: ${kind})`);
}

// A process of this file, bridged through Redis; it stops on SIGTERM.
function startProcess(name: string, port: number, exited: Exited): Running {
  const child = spawn(process.execPath, ["run", new URL(import.meta.url).pathname], {
    env: { ...process.env, SSE_HUB_WORKER: name, PORT: String(port) },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const gone = new Promise<void>((resolve) =>
    child.once("exit", (code) => {
      exited(name, code);
      resolve();
    })
  );
  const ready = new Promise<void>((resolve) => {
    let out = "";
    child.stdout!.on("data", (chunk) => {
      process.stdout.write(chunk);
      out += chunk;
      if (out.includes(READY)) resolve();
    });
  });
  return {
    ready,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return gone;
    },
  };
}

// A thread of this process, bridged by a BroadcastChannel; it stops on a "stop" message.
function startThread(name: string, port: number, exited: Exited): Running {
  const thread = new Worker(new URL(import.meta.url), {
    env: { ...process.env, SSE_HUB_WORKER: name, PORT: String(port) },
  });
  const gone = new Promise<void>((resolve) =>
    thread.once("exit", (code) => {
      exited(name, code);
      resolve();
    })
  );
  // A thread that throws (its port taken, say) exits after this: the others are stopped.
  thread.on("error", (error) => console.error(`worker ${name}: ${error}`));
  const ready = new Promise<void>((resolve) => thread.once("message", () => resolve()));
  return {
    ready,
    stop: () => {
      thread.postMessage("stop");
      return gone;
    },
  };
}

async function worker(name: string): Promise<void> {
  const port = Number(process.env.PORT || 8000);
  const redis = redisUrl ? await connectRedisBridge(redisUrl) : undefined;
  const hub = new Hub<string>({
    retry: 1000,
    bridge: redis?.bridge ?? new BroadcastChannelBridge({ name: "sse-hub-parallel" }),
    onBridgeEvent: (event) =>
      console.error(`worker ${name}: ${event.type === "gap" ? `bridge gap: ${event.reason}` : event.error}`),
  });
  await redis?.bridge.ready; // subscribed and caught up: take traffic from now on
  // Bun closes connections idle for `idleTimeout` s; the hub's keep-alive (4 s) stays under it.
  const server = Bun.serve({
    hostname,
    port,
    reusePort: true,
    idleTimeout: 30,
    fetch: parallelApp(hub, name),
  });
  const stop = async () => {
    hub.close(); // ends every stream: clients reconnect to another worker
    await redis?.close();
    await server.stop(true);
    process.exit(0); // in a thread: ends the thread
  };
  const where = isMainThread ? `pid ${process.pid}` : `thread of pid ${process.pid}`;
  console.log(`${READY} on http://${hostname}:${server.port} (worker ${name}, ${where})`);
  if (isMainThread) {
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, stop);
  } else {
    parentPort!.once("message", stop);
    parentPort!.postMessage("ready");
  }
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().on("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0));
    });
  });
}
