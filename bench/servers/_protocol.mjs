// The protocol every bench server speaks (Deno, Bun and Node alike), so the load
// client drives them all the same way:
//
//   GET  /events                        the SSE stream (one topic, "bench"); opens with ":\n\n"
//   POST /publish?run=R&n=K&rate=RATE[&batch=B][&stamp=schedule]
//                                       answers 202, then publishes K events, B per tick (default
//                                       1): rate 0 = back to back, a tick per event-loop turn
//                                       (setImmediate; B = 1 is as if each came from its own I/O
//                                       callback, B = K is all in one turn); else RATE events/s
//                                       on a drift-free schedule, a tick every B / RATE s.
//                                       stamp=schedule: `t` is the tick's scheduled time, not the
//                                       moment it ran, so a late timer counts as latency
//   POST /gc                            collects garbage (before an RSS reading)
//   POST /profile/start, /profile/stop?file=F   a CPU profile of the server (bench/profile.mjs)
//
// Event data (~90 bytes): {"r":R,"i":<seq>,"t":<publish time, µs since the epoch>,"p":"x…"}.

/** 40 bytes of padding, so an event is about the size of a small real one. */
export const PAD = "x".repeat(40);

/** Wall-clock µs with sub-ms resolution (what the Go client's time.Now().UnixMicro() compares to). */
export const nowMicros = () => Math.round((performance.timeOrigin + performance.now()) * 1000);

/**
 * Starts the publisher for a /publish request.
 * @param {URLSearchParams} params run, n, rate, batch, stamp
 * @param {(data: {r: number, i: number, t: number, p: string}) => void} publish
 * @returns {boolean} false when the parameters are bad
 */
export function startPublisher(params, publish) {
  const run = Number(params.get("run"));
  const n = Number(params.get("n"));
  const rate = Number(params.get("rate") ?? 0);
  const batch = Number(params.get("batch") ?? 1);
  const onSchedule = rate > 0 && params.get("stamp") === "schedule";
  if (!Number.isInteger(run) || !Number.isInteger(n) || n < 0 || !(rate >= 0) || !(batch >= 1)) return false;
  const start = performance.now();
  let i = 0;
  const step = () => {
    const due = onSchedule ? Math.round((performance.timeOrigin + start + (i * 1000) / rate) * 1000) : 0;
    for (let b = 0; b < batch && i < n; b++, i++) publish({ r: run, i, t: due || nowMicros(), p: PAD });
    if (i >= n) return;
    if (rate > 0) setTimeout(step, Math.max(0, start + (i * 1000) / rate - performance.now()));
    else setImmediate(step);
  };
  if (n > 0) setImmediate(step);
  return true;
}

/**
 * Full GC where the runtime exposes one: Deno/Node with --expose-gc, Bun.gc(true). On V8 the
 * last-resort kind, which also shrinks the young generation: after a plain one it kept whatever
 * size the connects had grown it to, and raw-deno's RSS per idle connection at 10k landed at
 * either ~59.4k or ~60.9k B from that alone (after this one: 56.3k to 56.8k in five processes).
 */
export function collectGarbage() {
  const g = /** @type {any} */ (globalThis);
  if (typeof g.gc === "function") g.gc({ type: "major", execution: "sync", flavor: "last-resort" });
  else if (g.Bun) g.Bun.gc(true);
}

let stopProfiler;

/**
 * /profile/start and /profile/stop?file=F.
 * @param {string} pathname
 * @param {URLSearchParams} params
 * @returns {Promise<number>} the status to answer
 */
export async function profile(pathname, params) {
  if (pathname === "/profile/start" && !stopProfiler) {
    const { startProfiler } = await import("../_profiler.mjs");
    stopProfiler = await startProfiler();
    return 204;
  }
  if (pathname === "/profile/stop" && stopProfiler && params.get("file")) {
    await stopProfiler(params.get("file"));
    stopProfiler = undefined;
    return 204;
  }
  return 409;
}

/**
 * Routes /publish, /gc and /profile/* for a fetch-style server; null for anything else.
 * @param {Request} request
 * @param {(data: {r: number, i: number, t: number, p: string}) => void} publish
 * @returns {Response | Promise<Response> | null}
 */
export function control(request, publish) {
  const url = new URL(request.url);
  if (url.pathname === "/publish") {
    return new Response(null, { status: startPublisher(url.searchParams, publish) ? 202 : 400 });
  }
  if (url.pathname === "/gc") {
    collectGarbage();
    return new Response(null, { status: 204 });
  }
  if (url.pathname.startsWith("/profile/")) {
    return profile(url.pathname, url.searchParams).then((status) => new Response(null, { status }));
  }
  return null;
}

/** The line the bench runner waits for. */
export function listening(port) {
  console.log(`listening ${port}`);
}
