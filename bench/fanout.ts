// In-process fan-out: `hub.publish` to N HTTP-style subscriber streams
// (`hub.response(new Request(…), { topics })`, each `response.body` read in-process
// by a reader that drains it), against the raw ceiling on the same runtime (a Set of
// ReadableStream controllers, each event encoded once and enqueued to all, read the
// same way). Runs on Deno or Bun, whichever runs it; prints one JSON line.
//
//   deno run -A --v8-flags=--expose-gc bench/fanout.ts [--n 1,100,1000,10000] [--deliveries 400000] [--reps 5]
//   bun bench/fanout.ts …
//
// Per rep and N: K = max(20, deliveries / N) events, published in batches of BATCH
// (synchronously), each batch followed by a barrier that waits until every reader
// has read every byte of it (bytes, not chunks: a library may coalesce events into
// fewer chunks, and that is part of what is measured). Reported per N, medians over reps:
//   e2e: deliveries / (publish + drain time): events/s delivered and ns per delivery;
//   publish: the time inside the synchronous publish calls only, ns per delivery.
import { Hub } from "../mod.ts";
import { waitQuiet, watchForeign } from "./_load.mjs";
import { startProfiler } from "./_profiler.mjs";

declare const Deno: { memoryUsage(): { rss: number; heapUsed: number } } | undefined;
declare const Bun: { gc(force: boolean): void; version: string } | undefined;

// Fixed-width data, so an event's size on the wire is known from its id alone.
type Data = { r: number; t: number; p: string };
const DATA_JSON_LENGTH = JSON.stringify({ r: 1, t: Date.now(), p: "x".repeat(40) }).length;
/** Bytes of `id: <id>\ndata: <json>\n\n` for an id of `idLength` characters. */
const eventBytes = (idLength: number): number => 4 + idLength + 7 + DATA_JSON_LENGTH + 2;
interface Fleet {
  /** Publishes one event to every subscriber; returns the bytes each of them gets. */
  publish(data: Data): number;
  /** Ends every stream. */
  close(): void;
}
interface Impl {
  name: "sse-hub" | "sse-hub-no-history" | "raw";
  open(n: number, readers: Readers): Promise<Fleet>;
}

const BATCH = 10;
const PAD = "x".repeat(40);
const args = new Map<string, string>();
const argv = "Deno" in globalThis
  ? (globalThis as unknown as { Deno: { args: string[] } }).Deno.args
  : (globalThis as unknown as { process: { argv: string[] } }).process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) args.set(argv[i]!.replace(/^--/, ""), argv[i + 1] ?? "");
const sizes = (args.get("n") ?? "1,100,1000,10000").split(",").map(Number);
const deliveriesPerRep = Number(args.get("deliveries") ?? 400_000);
const reps = Number(args.get("reps") ?? 5);
let quietBudgetMs = Number(args.get("quiet-ms") ?? 30_000);
// --impl sse-hub (or raw): measure one side only, e.g. under a profiler.
const only = args.get("impl");
// --cpu-prof FILE: a CPU profile of the publish loop of the first measured rep (no set-up).
const profileFile = args.get("cpu-prof");
let profiled = false;
const runtime = "Deno" in globalThis ? "deno" : "bun";

/** Counts what N readers read (chunks and bytes) and resolves a barrier on a byte target. */
class Readers {
  opened = 0;
  bytes = 0;
  #target = Infinity;
  #resolve: (() => void) | undefined;
  #done: Promise<void>[] = [];

  drain(body: ReadableStream<Uint8Array>): void {
    const reader = body.getReader();
    this.#done.push((async () => {
      let first = true;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        if (first) {
          first = false;
          this.opened++;
        }
        if ((this.bytes += value.byteLength) >= this.#target) {
          this.#target = Infinity;
          this.#resolve?.();
        }
      }
    })());
  }

  /** Resolves once `target` bytes in all were read; rejects after 30 s (a miscount must not hang). */
  until(target: number): Promise<void> {
    if (this.bytes >= target) return Promise.resolve();
    this.#target = target;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`readers stalled at ${this.bytes} of ${target} bytes`)),
        30_000,
      );
      this.#resolve = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** Resolves once every one of `n` readers has read its first chunk (the opening comment). */
  async openedAll(n: number): Promise<void> {
    const start = Date.now();
    while (this.opened < n) {
      if (Date.now() - start > 30_000) throw new Error(`only ${this.opened} of ${n} streams opened`);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }

  ended(): Promise<unknown> {
    return Promise.all(this.#done);
  }
}

const hubImpl: Impl = {
  name: "sse-hub",
  open: (n, readers) => openHub(n, readers, new Hub<Data>()),
};

// The same without the replay history (`history: false`): what keeping each event for resumes costs
// a publish. Measured at N = 1 only, where that cost is not shared among subscribers.
const hubNoHistoryImpl: Impl = {
  name: "sse-hub-no-history",
  open: (n, readers) => openHub(n, readers, new Hub<Data>({ history: false })),
};

async function openHub(n: number, readers: Readers, hub: Hub<Data>): Promise<Fleet> {
  for (let i = 0; i < n; i++) {
    const response = await hub.response(new Request("http://bench.local/events"), { topics: "bench" });
    readers.drain(response.body!);
  }
  return { publish: (data) => eventBytes(hub.publish("bench", data).id.length), close: () => hub.close() };
}

const rawImpl: Impl = {
  name: "raw",
  open(n, readers) {
    const encoder = new TextEncoder();
    const opening = encoder.encode(":\n\n");
    const controllers = new Set<ReadableStreamDefaultController<Uint8Array>>();
    let lastId = 1e15; // as long as the hub's ids (µs since the epoch)
    for (let i = 0; i < n; i++) {
      let mine: ReadableStreamDefaultController<Uint8Array>;
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          mine = controller;
          controllers.add(controller);
          controller.enqueue(opening);
        },
        cancel() {
          controllers.delete(mine);
        },
      });
      readers.drain(new Response(body, { headers: { "content-type": "text/event-stream" } }).body!);
    }
    return Promise.resolve({
      publish(data) {
        const bytes = encoder.encode(`id: ${++lastId}\ndata: ${JSON.stringify(data)}\n\n`);
        for (const controller of controllers) controller.enqueue(bytes);
        return bytes.byteLength;
      },
      close() {
        for (const controller of controllers) controller.close();
        controllers.clear();
      },
    });
  },
};

function gc(): void {
  const g = globalThis as unknown as { gc?: () => void };
  if (typeof g.gc === "function") g.gc();
  else if (typeof Bun !== "undefined") Bun.gc(true);
}

function memory(): { rss: number; heapUsed: number } {
  if (typeof Deno !== "undefined") return Deno.memoryUsage();
  return (globalThis as unknown as { process: { memoryUsage(): { rss: number; heapUsed: number } } }).process
    .memoryUsage();
}

interface Sample {
  foreignCpus?: number;
  e2eNs: number;
  publishNs: number;
  eventsPerS: number;
  bytesPerSubscriber?: number;
}

async function once(
  impl: Impl,
  n: number,
  events: number,
  measureMemory: boolean,
  warmUp = false,
): Promise<Sample> {
  gc();
  const before = measureMemory ? memory().heapUsed : 0;
  const readers = new Readers();
  const fleet = await impl.open(n, readers);
  await readers.openedAll(n);
  let bytesPerSubscriber: number | undefined;
  if (measureMemory) {
    gc();
    bytesPerSubscriber = (memory().heapUsed - before) / n;
  }
  let publishMs = 0;
  let target = readers.bytes;
  const stopProfiler = profileFile !== undefined && !profiled && !warmUp ? await startProfiler() : undefined;
  const start = performance.now();
  for (let sent = 0; sent < events;) {
    const batch = Math.min(BATCH, events - sent);
    const t0 = performance.now();
    let bytes = 0;
    for (let b = 0; b < batch; b++) bytes += fleet.publish({ r: 1, t: Date.now(), p: PAD });
    publishMs += performance.now() - t0;
    sent += batch;
    await readers.until(target += bytes * n);
  }
  const elapsedMs = performance.now() - start;
  if (stopProfiler !== undefined) {
    profiled = true;
    await stopProfiler(profileFile!);
  }
  fleet.close();
  await readers.ended();
  const deliveries = events * n;
  return {
    e2eNs: (elapsedMs * 1e6) / deliveries,
    publishNs: (publishMs * 1e6) / deliveries,
    eventsPerS: deliveries / (elapsedMs / 1000),
    ...(bytesPerSubscriber === undefined ? {} : { bytesPerSubscriber }),
  };
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

// Waits for a quiet machine (bounded over the run) and redoes a rep (at most twice)
// when other processes took more than 0.15 CPU while it ran.
async function measured(impl: Impl, n: number, events: number, measureMemory: boolean): Promise<Sample> {
  for (let attempt = 0;; attempt++) {
    const { waitedMs } = await waitQuiet({ maxMs: Math.min(10_000, quietBudgetMs) });
    quietBudgetMs = Math.max(0, quietBudgetMs - waitedMs);
    const watch = watchForeign(["self"]);
    const sample = await once(impl, n, events, measureMemory);
    sample.foreignCpus = watch.stop();
    if (sample.foreignCpus <= 0.15 || attempt >= 2) return sample;
  }
}

const results = [];
for (const n of sizes) {
  const events = Math.max(20, Math.ceil(deliveriesPerRep / n));
  // Warm-up (JIT), not recorded.
  const impls = [rawImpl, hubImpl, ...(n === 1 ? [hubNoHistoryImpl] : [])].filter((impl) =>
    only === undefined || impl.name === only
  );
  for (const impl of impls) await once(impl, n, Math.max(BATCH, Math.ceil(events / 5)), false, true);
  const samples: Record<string, Sample[]> = { "sse-hub": [], "sse-hub-no-history": [], raw: [] };
  for (let rep = 0; rep < reps; rep++) {
    // Alternate the order, so neither always runs on a freshly collected heap.
    const order = rep % 2 === 0 ? impls : [...impls].reverse();
    for (const impl of order) samples[impl.name]!.push(await measured(impl, n, events, n >= 1000));
  }
  for (const name of ["raw", "sse-hub", "sse-hub-no-history"] as const) {
    const list = samples[name]!;
    if (list.length === 0) continue;
    const bytes = list.map((s) => s.bytesPerSubscriber).filter((b): b is number => b !== undefined);
    results.push({
      runtime,
      impl: name,
      n,
      events,
      reps,
      eventsPerS: median(list.map((s) => s.eventsPerS)),
      e2eNsPerDelivery: median(list.map((s) => s.e2eNs)),
      publishNsPerDelivery: median(list.map((s) => s.publishNs)),
      ...(bytes.length > 0 ? { heapBytesPerSubscriber: median(bytes) } : {}),
      all: list.map((s) => Math.round(s.eventsPerS)),
      foreignCpusMax: Math.max(...list.map((s) => s.foreignCpus ?? 0)),
    });
  }
  const rows = results.filter((r) => r.n === n);
  console.error(
    `${runtime} N=${n}: ${rows.map((r) => `${r.impl} ${Math.round(r.eventsPerS)}/s`).join(", ")}`,
  );
}
const version = typeof Bun !== "undefined"
  ? Bun.version
  : (globalThis as unknown as { Deno: { version: { deno: string } } }).Deno.version.deno;
console.log("RESULT " + JSON.stringify({ runtime, version, batch: BATCH, deliveriesPerRep, results }));
