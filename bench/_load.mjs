// This machine is shared (other jobs may run while we measure): read how busy it is
// from /proc/stat, wait for a quiet moment before a measurement, and tell how much
// CPU other processes took during one. Linux only; runs on Node, Deno and Bun.
import { readFileSync } from "node:fs";

/** Busy (user + nice + system) and total jiffies of the whole machine, all CPUs. */
export function machineJiffies() {
  const f = readFileSync("/proc/stat", "utf8").split("\n", 1)[0].trim().split(/\s+/).slice(1, 9).map(Number);
  return { busy: f[0] + f[1] + f[2], total: f.reduce((a, b) => a + b, 0) };
}

/** utime + stime jiffies of one process (all its threads); "self" for this one. */
export function processJiffies(pid = "self") {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(f[11]) + Number(f[12]);
  } catch {
    return 0;
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits until, over a 300 ms window, the machine minus `ours` (pids whose CPU is expected)
 * is busy less than `threshold` of one CPU; gives up after `maxMs`.
 * @returns {Promise<{waitedMs: number, quiet: boolean}>}
 */
export async function waitQuiet({ ours = [], threshold = 0.1, maxMs = 20_000 } = {}) {
  const start = Date.now();
  for (;;) {
    const m0 = machineJiffies(), p0 = ours.reduce((s, pid) => s + processJiffies(pid), 0);
    await sleep(300);
    const m1 = machineJiffies(), p1 = ours.reduce((s, pid) => s + processJiffies(pid), 0);
    const cpus = (m1.total - m0.total) / 30; // 100 jiffies/s × 0.3 s per CPU
    const foreign = (m1.busy - m0.busy - (p1 - p0)) / 30; // in CPUs
    if (foreign < threshold || cpus <= 0) return { waitedMs: Date.now() - start, quiet: true };
    if (Date.now() - start > maxMs) return { waitedMs: Date.now() - start, quiet: false };
  }
}

/** Starts watching: `stop()` returns the CPU (in CPUs, averaged) others used meanwhile. */
export function watchForeign(ours = ["self"]) {
  const m0 = machineJiffies(), p0 = ours.reduce((s, pid) => s + processJiffies(pid), 0);
  const t0 = Date.now();
  return {
    stop() {
      const m1 = machineJiffies(), p1 = ours.reduce((s, pid) => s + processJiffies(pid), 0);
      const seconds = Math.max(0.01, (Date.now() - t0) / 1000);
      return Math.max(0, (m1.busy - m0.busy - (p1 - p0)) / 100 / seconds);
    },
  };
}
