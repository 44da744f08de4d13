// The demo app as a real subprocess of the runtime running the test: examples/deno/main.ts
// under `deno test`, examples/bun/main.ts under `bun test`, on 127.0.0.1 with PORT=0.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { runtime, withDeadline } from "./server.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));

export interface DemoProcess {
  /** `http://127.0.0.1:<port>` as the demo printed it. */
  url: string;
  child: ChildProcess;
  /** Everything it printed (stdout and stderr). */
  output(): string;
  /** Stops it (SIGTERM, then SIGKILL) and waits for it to exit. */
  stop(): Promise<void>;
}

export function startDemo(env: Record<string, string> = {}): Promise<DemoProcess> {
  return startDemoOn(runtime, env);
}

/**
 * The demo on a runtime of the caller's choosing (`startDemo` picks the one running the test):
 * for runners that drive Deno and Bun demos from one process. `env` may fix `PORT` (a restart
 * on the same port) and set `REDIS_URL` (a bridged demo).
 */
export async function startDemoOn(
  on: "deno" | "bun",
  env: Record<string, string> = {},
): Promise<DemoProcess> {
  const [command, args] = on === "deno"
    ? [`${root}node_modules/.bin/deno`, ["run", "--allow-net", "--allow-env", "examples/deno/main.ts"]]
    : [`${root}node_modules/.bin/bun`, ["run", "examples/bun/main.ts"]];
  const child = spawn(command, args, {
    cwd: root,
    env: { ...process.env, NO_COLOR: "1", PORT: "0", HOST: "127.0.0.1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = new Promise<string>((resolve, reject) => {
    const take = (chunk: Uint8Array) => {
      output += new TextDecoder().decode(chunk);
      const match = /sse-hub demo listening on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(output);
      if (match) resolve(match[1]!);
    };
    child.stdout!.on("data", take);
    child.stderr!.on("data", take);
    child.once("exit", (code) => reject(new Error(`the demo exited (${code}) before listening:\n${output}`)));
    child.once("error", reject);
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    try {
      await withDeadline(exited, 5000, "the demo to exit on SIGTERM");
    } catch {
      child.kill("SIGKILL");
      await exited;
    }
  };
  try {
    return {
      url: await withDeadline(url, 30_000, `the demo's listening line (${on})`),
      child,
      output: () => output,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Kills the demo abruptly (SIGKILL, a crash: no shutdown code runs) and waits for it to exit. */
export async function killDemo(demo: DemoProcess): Promise<void> {
  const { child } = demo;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGKILL");
  await withDeadline(exited, 10_000, "the demo to exit on SIGKILL");
}
