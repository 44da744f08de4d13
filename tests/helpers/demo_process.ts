// The demo app as a real subprocess of the runtime running the test: examples/deno/main.ts
// under `deno test`, examples/bun/main.ts under `bun test`, on 127.0.0.1 with PORT=0.
import { startListening } from "./listening_process.ts";
import type { ListeningProcess } from "./listening_process.ts";
import { runtime, withDeadline } from "./server.ts";

export type DemoProcess = ListeningProcess;

export function startDemo(env: Record<string, string> = {}): Promise<DemoProcess> {
  return startDemoOn(runtime, env);
}

/**
 * The demo on a runtime of the caller's choosing (`startDemo` picks the one running the test):
 * for runners that drive Deno and Bun demos from one process. `env` may fix `PORT` (a restart
 * on the same port) and set `REDIS_URL` (a bridged demo).
 */
export function startDemoOn(on: "deno" | "bun", env: Record<string, string> = {}): Promise<DemoProcess> {
  const [command, args] = on === "deno"
    ? ["deno", ["run", "--allow-net", "--allow-env", "examples/deno/main.ts"]]
    : ["bun", ["run", "examples/bun/main.ts"]];
  return startListening(command, args, {
    listening: /sse-hub demo listening on (http:\/\/127\.0\.0\.1:\d+)\n/,
    env: { PORT: "0", HOST: "127.0.0.1", ...env },
  });
}

/** Kills the demo abruptly (SIGKILL, a crash: no shutdown code runs) and waits for it to exit. */
export async function killDemo(demo: DemoProcess): Promise<void> {
  const { child } = demo;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGKILL");
  await withDeadline(exited, 10_000, "the demo to exit on SIGKILL");
}
