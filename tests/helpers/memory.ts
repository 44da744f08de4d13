// Process memory for leak checks: a full garbage collection where the runtime allows one
// (Bun.gc; V8's gc exposed through node:v8 + node:vm under Deno), then heap and RSS in MB.
import process from "node:process";
import v8 from "node:v8";
import vm from "node:vm";

declare const Bun: { gc(force: boolean): void } | undefined;

let v8gc: (() => void) | undefined;
function findGc(): (() => void) | undefined {
  if (typeof Bun !== "undefined") return () => Bun!.gc(true);
  if (v8gc) return v8gc;
  try {
    v8.setFlagsFromString("--expose-gc");
    v8gc = vm.runInNewContext("gc") as () => void;
  } catch {
    v8gc = undefined;
  }
  return v8gc;
}

export interface MemorySample {
  /** JS heap in use, MB. */
  heap: number;
  /** Resident set size, MB. */
  rss: number;
  /** Memory outside the JS heap that JS objects hold (ArrayBuffer contents, e.g. encoded events), MB. */
  external: number;
  /** Whether a full GC ran before the sample. */
  collected: boolean;
}

/** Collects garbage (twice, with a macrotask between, so finalizers run) when possible, then samples. */
export async function memory(): Promise<MemorySample> {
  const gc = findGc();
  if (gc) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 0));
    gc();
  }
  const usage = process.memoryUsage();
  return {
    heap: usage.heapUsed / 2 ** 20,
    rss: usage.rss / 2 ** 20,
    external: usage.external / 2 ** 20,
    collected: gc !== undefined,
  };
}

/**
 * What JS objects retain, in bytes: the growth a memory bound must cover. V8 (Deno) keeps
 * ArrayBuffer contents outside its heap, so they are added from `external`; Bun 1.x counts
 * them in `heapUsed` already (and again in `external`), so there the heap alone is the total.
 */
export function retainedBytes(sample: MemorySample): number {
  return (typeof Bun !== "undefined" ? sample.heap : sample.heap + sample.external) * 2 ** 20;
}

/** One line for the test output: `label: heap a → b MB (+d), rss a → b MB (+d)`. */
export function describeGrowth(label: string, before: MemorySample, after: MemorySample): string {
  const f = (n: number) => n.toFixed(1);
  return `${label}: heap ${f(before.heap)} → ${f(after.heap)} MB (${after.heap >= before.heap ? "+" : ""}${
    f(after.heap - before.heap)
  }), rss ${f(before.rss)} → ${f(after.rss)} MB (${after.rss >= before.rss ? "+" : ""}${
    f(after.rss - before.rss)
  })` +
    (after.collected ? "" : " [no GC available]");
}
