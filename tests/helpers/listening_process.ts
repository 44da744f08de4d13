// A server as a real subprocess: started with `command args`, ready once its output matches
// `listening` (whose first group is the URL), stopped with SIGTERM (then SIGKILL), its output
// kept for assertions and failure messages.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { withDeadline } from "./server.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));

export interface ListeningProcess {
  /** The URL its listening line named. */
  url: string;
  child: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** SIGTERM, then SIGKILL when it has not exited within `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface ListeningOptions {
  /** Matched against its output; group 1 is the URL. */
  listening: RegExp;
  /** Added to the environment (NO_COLOR=1 always). */
  env?: Record<string, string>;
  /** How long it may take to listen. @default {30000} */
  ms?: number;
}

/** Runs `command` (a path, or a name in node_modules/.bin) from the repository root. */
export async function startListening(
  command: string,
  args: readonly string[],
  options: ListeningOptions,
): Promise<ListeningProcess> {
  const executable = command.includes("/") ? command : `${root}node_modules/.bin/${command}`;
  const child = spawn(executable, args, {
    cwd: root,
    env: { ...process.env, NO_COLOR: "1", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = new Promise<string>((resolve, reject) => {
    const take = (chunk: Uint8Array) => {
      output += new TextDecoder().decode(chunk);
      const match = options.listening.exec(output);
      if (match) resolve(match[1]!);
    };
    child.stdout!.on("data", take);
    child.stderr!.on("data", take);
    child.once(
      "exit",
      (code) => reject(new Error(`${command} exited (${code}) before listening:\n${output}`)),
    );
    child.once("error", reject);
  });
  const stop = async (graceMs = 5000) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    try {
      await withDeadline(exited, graceMs, `${command} to exit on SIGTERM`);
    } catch {
      child.kill("SIGKILL");
      await exited;
    }
  };
  try {
    const ms = options.ms ?? 30_000;
    return {
      url: await withDeadline(url, ms, `${command} ${args.join(" ")} to listen`),
      child,
      output: () => output,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
