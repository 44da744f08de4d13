// workerd as a real child process: bundle a Worker with `bun build`, serve a copy of its
// config on 127.0.0.1 with port 0 (workerd reports the port on its control fd), stop it.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { join } from "node:path";
import { withDeadline } from "./server.ts";

const root = new URL("../../", import.meta.url).pathname;
const bin = (name: string) => join(root, "node_modules", ".bin", name);

export interface Workerd {
  child: ChildProcess;
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** Everything workerd wrote to stdout and stderr. */
  log(): string;
}

export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

/** Runs a command from the repository root; rejects with its output when it fails. */
export async function run(cmd: string, args: string[]): Promise<void> {
  const child = spawn(cmd, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (chunk) => out += chunk);
  child.stderr!.on("data", (chunk) => out += chunk);
  const code = await withDeadline(exited(child), 60_000, `${cmd} ${args.join(" ")}`);
  if (code !== 0) throw new Error(`${cmd} ${args.join(" ")} exited with ${code}:\n${out}`);
}

/** Bundles `entry` (relative to the repository root) into one ES module at `outfile`, as a Worker needs. */
export async function bundleWorker(entry: string, outfile: string): Promise<void> {
  await run(bin("bun"), ["build", entry, "--target=browser", "--format=esm", `--outfile=${outfile}`]);
}

/**
 * Starts `workerd serve config` with its `http` socket on 127.0.0.1, port 0.
 * `directories` overrides disk services (`--directory-path name=path`).
 */
export async function startWorkerd(
  config: string,
  directories: Record<string, string> = {},
): Promise<Workerd> {
  const args = ["serve", config, "--socket-addr", "http=127.0.0.1:0", "--control-fd=3"];
  for (const [name, path] of Object.entries(directories)) args.push("--directory-path", `${name}=${path}`);
  const child = spawn(bin("workerd"), args, { cwd: root, stdio: ["ignore", "pipe", "pipe", "pipe"] });
  let log = "";
  child.stdout!.on("data", (chunk) => log += chunk);
  child.stderr!.on("data", (chunk) => log += chunk);
  const control = child.stdio[3] as NodeJS.ReadableStream;
  const port = await withDeadline(
    new Promise<number>((resolve, reject) => {
      let text = "";
      control.on("data", (chunk) => {
        text += chunk;
        const match = /"socket":"http","port":(\d+)/.exec(text);
        if (match) resolve(Number(match[1]));
      });
      child.once("exit", (code) => reject(new Error(`workerd exited with ${code}:\n${log}`)));
    }),
    30_000,
    "workerd to listen",
  ).catch((error) => {
    child.kill();
    throw error;
  });
  return { child, url: `http://127.0.0.1:${port}`, log: () => log };
}

/**
 * Stops workerd. `"SIGTERM"` lets it drain open connections first (killed after 5 s);
 * `"SIGKILL"` ends it at once, with everything it held in memory.
 */
export async function stopWorkerd(server: Workerd, signal: "SIGTERM" | "SIGKILL" = "SIGTERM"): Promise<void> {
  server.child.kill(signal);
  await withDeadline(exited(server.child), 5_000, "workerd to exit").catch(() =>
    server.child.kill("SIGKILL")
  );
  await exited(server.child);
}
