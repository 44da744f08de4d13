// One hub per core on Bun: this file starts WORKERS processes of itself (one per core by
// default), each a Bun.serve on the same port with `reusePort: true`, so the kernel spreads
// connections across them (SO_REUSEPORT, Linux). Processes share no BroadcastChannel: a
// RedisBridge connects their hubs, with the Redis stream as the one replay history.
//
//   REDIS_URL=redis://127.0.0.1:6379 PORT=8000 bun run examples/parallel/bun.ts
//   REDIS_URL=redis://127.0.0.1:6379 PORT=8000 WORKERS=2 bun run examples/parallel/bun.ts
//
// Or run the workers yourself (systemd, a container per core…): each is this file with
// SSE_HUB_WORKER=<name> and the same PORT. Without REDIS_URL, only WORKERS=1 is allowed (an
// in-memory hub, for comparison). Routes: examples/parallel/app.ts. HOST: 127.0.0.1 by default;
// PORT=0 picks a free port for all of them.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { availableParallelism } from "node:os";
import process from "node:process";
import { Hub } from "@sse-hub/sse-hub";
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

if (process.env.SSE_HUB_WORKER === undefined) await primary();
else await worker(process.env.SSE_HUB_WORKER);

async function primary(): Promise<void> {
  const count = Number(process.env.WORKERS || availableParallelism());
  if (!Number.isSafeInteger(count) || count < 1) throw new RangeError(`WORKERS must be ≥ 1, got ${count}`);
  if (!redisUrl && count > 1) {
    console.error("REDIS_URL is required for WORKERS > 1: separate processes share events through Redis");
    process.exit(1);
  }
  let port = Number(process.env.PORT || 8000);
  if (port === 0) port = await freePort(hostname); // every worker must bind the same port
  const workers: ChildProcess[] = [];
  let stopping = false;
  const stopAll = async (code: number) => {
    stopping = true;
    await Promise.all(
      workers.map((child) =>
        child.exitCode !== null || child.signalCode !== null
          ? undefined
          : new Promise((resolve) => (child.once("exit", resolve), child.kill("SIGTERM")))
      ),
    );
    process.exit(code);
  };
  const listening = Array.from({ length: count }, (_, i) => {
    const child = spawn(process.execPath, ["run", new URL(import.meta.url).pathname], {
      env: { ...process.env, SSE_HUB_WORKER: String(i + 1), PORT: String(port) },
      stdio: ["ignore", "pipe", "inherit"],
    });
    workers.push(child);
    child.once("exit", (code) => {
      if (stopping) return;
      console.error(`worker ${i + 1} exited (${code}): stopping the others`);
      void stopAll(1);
    });
    return new Promise<void>((resolve) => {
      let out = "";
      child.stdout!.on("data", (chunk) => {
        process.stdout.write(chunk);
        out += chunk;
        if (out.includes(READY)) resolve();
      });
    });
  });
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => void stopAll(0));
  await Promise.all(listening);
  console.log(`sse-hub parallel listening on http://${hostname}:${port} (bun, ${count} workers)`);
}

async function worker(name: string): Promise<void> {
  const port = Number(process.env.PORT || 8000);
  const redis = redisUrl ? await connectRedisBridge(redisUrl) : undefined;
  const hub = new Hub<string>({
    retry: 1000,
    ...(redis && {
      bridge: redis.bridge,
      onBridgeEvent: (event) =>
        console.error(
          `worker ${name}: ${event.type === "gap" ? `bridge gap: ${event.reason}` : event.error}`,
        ),
    }),
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
  console.log(`${READY} on http://${hostname}:${server.port} (worker ${name}, pid ${process.pid})`);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, async () => {
      hub.close(); // ends every stream: clients reconnect to another worker
      await redis?.close();
      await server.stop(true);
      process.exit(0);
    });
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
