// Counts a process's write syscalls with `perf stat` (bench/run.mjs: writes per delivery).
import { spawn } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { children, sleep } from "./_harness.mjs";

let perfWorks;
/**
 * Counts the write-type syscalls (write, writev, sendto, sendmsg) of `pid` with `perf stat`
 * (tracepoints), when perf is available and allowed; `stop()` resolves the total or null.
 */
export function countWrites(pid) {
  if (perfWorks === false) return { stop: () => Promise.resolve(null) };
  const events = ["write", "writev", "sendto", "sendmsg"].map((s) => `syscalls:sys_enter_${s}`).join(",");
  const out = join(tmpdir(), `sse-hub-bench-perf-${pid}-${Date.now()}.txt`);
  let child;
  try {
    child = spawn("perf", ["stat", "-x,", "-e", events, "-p", String(pid), "-o", out], { stdio: "ignore" });
  } catch {
    perfWorks = false;
    return { stop: () => Promise.resolve(null) };
  }
  children.add(child);
  const exited = new Promise((resolve) => child.on("exit", resolve));
  child.on("error", () => (perfWorks = false));
  return {
    async stop() {
      child.kill("SIGINT");
      await Promise.race([exited, sleep(3000)]);
      children.delete(child);
      try {
        const text = readFileSync(out, "utf8");
        rmSync(out, { force: true });
        const counts = [...text.matchAll(/^(\d+),,syscalls:/gm)].map((m) => Number(m[1]));
        if (counts.length === 0) return null;
        perfWorks = true;
        return counts.reduce((a, b) => a + b, 0);
      } catch {
        perfWorks = false;
        return null;
      }
    },
  };
}
