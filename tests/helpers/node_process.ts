// A Node example (examples/**/*.mjs) as a real `node` process, importing the built package
// (dist/, made here with `tsc -p tsconfig.build.json` when missing or older than the sources):
// Node 20 cannot import the TypeScript sources.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { withDeadline } from "./server.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));

/** Resolves with the exit code once `child` has exited (at once if it already has). */
export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

function newest(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
}

/** Builds dist/ unless it is newer than every source (dist/ is not in git: a fresh clone builds). */
export async function buildIfNeeded(): Promise<void> {
  const built = join(root, "dist", "mod.js");
  const sources = Math.max(
    newest(join(root, "src")),
    newest(join(root, "mod.ts")),
    newest(join(root, "tsconfig.build.json")),
  );
  if (existsSync(built) && statSync(built).mtimeMs >= sources) return;
  const child = spawn(join(root, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.build.json"], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (chunk) => out += chunk);
  child.stderr!.on("data", (chunk) => out += chunk);
  const code = await withDeadline(exited(child), 120_000, "tsc -p tsconfig.build.json");
  if (code !== 0) throw new Error(`tsc -p tsconfig.build.json exited with ${code}:\n${out}`);
}

export interface NodeProcess {
  child: ChildProcess;
  /** `http://127.0.0.1:<port>`, from the script's `listening on <url>` line. */
  url: string;
  /** SIGTERM, then SIGKILL when it has not exited within 10 s; resolves once it has exited. */
  stop(): Promise<void>;
}

/** Runs `node <script>` (relative to the repository) with PORT=0 and waits for its `listening on` line. */
export async function startNode(script: string): Promise<NodeProcess> {
  const child = spawn("node", [script], {
    cwd: root,
    env: { ...process.env, PORT: "0", HOST: "127.0.0.1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stderr!.on("data", (chunk) => out += chunk);
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    await withDeadline(exited(child), 10_000, `node ${script} to exit`).catch(() => {
      child.kill("SIGKILL");
      return exited(child);
    });
  };
  const url = await withDeadline(
    new Promise<string>((resolve, reject) => {
      child.stdout!.on("data", (chunk) => {
        out += chunk;
        const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (match) resolve(match[1]!);
      });
      child.once("exit", (code) => reject(new Error(`node exited with ${code}:\n${out}`)));
    }),
    30_000,
    `node ${script} to listen`,
  ).catch((error) => {
    child.kill("SIGKILL");
    throw error;
  });
  return { child, url, stop };
}
