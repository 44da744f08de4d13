#!/usr/bin/env node
// The mutation check: breaks, one at a time, each unsubscribe path, each overflow branch and
// each keep-alive setting in a scratch copy of the repository, runs the tests that should
// notice on Deno and on Bun, and prints which tests failed. A mutation no test notices (on
// either runtime) is a hole in the suite: the check fails. A mutation whose source text is no
// longer found is stale: the check fails too (update it to the new code).
//
//   node scripts/mutation_check.mjs            every mutation
//   node scripts/mutation_check.mjs signal     only those whose name contains "signal"
//
// The table it prints is kept in tests/README.md.
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runFile } from "./_test_run.mjs";

const root = new URL("..", import.meta.url).pathname;
const UNSUBSCRIBE = ["tests/hub_unsubscribe_test.ts", "tests/hub_test.ts"];
const OVERFLOW = ["tests/hub_overflow_test.ts"];
const HELD = ["tests/hardening/slow_clients_test.ts"];
const FIRST_READ = ["tests/http/first_read_test.ts"];
const KEEP_ALIVE = ["tests/keep_alive_test.ts", "tests/hub_test.ts"];
const LINGER = ["tests/linger_test.ts", "tests/http/linger_test.ts"];
const RESUME = ["tests/bridge/redis_resume_test.ts"];
const CHANNEL_RESUME = ["tests/bridge/broadcast_channel_resume_test.ts"];

/** name, file, the exact text to replace and its replacement, and the lists of tests to run. */
const MUTATIONS = [
  // Unsubscribe paths.
  [
    "cancel of an HTTP response's stream does nothing",
    "src/_byte_subscriber.ts",
    "    this.owner.left(this, false);\n  }",
    "  }",
    UNSUBSCRIBE,
  ],
  [
    "cancel of an in-process subscribe stream does nothing",
    "src/_message_subscriber.ts",
    "      cancel: left,",
    "      cancel: () => {},",
    UNSUBSCRIBE,
  ],
  // Not listed: "request.signal is not listened to". Deno, Bun and workerd all unsubscribe through the
  // stream's cancel (the workerd disconnect test passes without the listener), so no runtime this
  // suite runs reaches that path; it stays for other runtimes (Node adapters), untested.
  [
    "subscribe's signal is not listened to",
    "src/hub.ts",
    "    subscriber.leaveOnAbort(options.signal, () => this.#fanOut.remove(subscriber, true));\n",
    "",
    UNSUBSCRIBE,
  ],
  [
    "an abort after subscribing is ignored (request.signal and subscribe signal)",
    "src/_subscriber.ts",
    '    signal.addEventListener("abort", leave, { once: true });\n',
    "",
    UNSUBSCRIBE,
  ],
  [
    "an already aborted signal is ignored (request.signal and subscribe signal)",
    "src/_subscriber.ts",
    "    if (signal.aborted) return leave();\n",
    "    if (signal.aborted) return;\n",
    UNSUBSCRIBE,
  ],
  // Overflow branches.
  [
    '"close": a full subscriber is neither closed nor counted (the event is lost)',
    "src/_fan_out.ts",
    "    this.counters.slowDisconnects++;\n",
    "    return;\n",
    OVERFLOW,
  ],
  [
    '"close": a full subscriber is closed but not counted',
    "src/_fan_out.ts",
    "    this.counters.slowDisconnects++;\n",
    "",
    OVERFLOW,
  ],
  [
    '"drop" closes instead of dropping',
    "src/_fan_out.ts",
    'if (this.overflow === "drop" && subscriber.held === undefined) {',
    "if (false) {",
    OVERFLOW,
  ],
  [
    '"drop": a dropped event is not counted',
    "src/_fan_out.ts",
    "      this.counters.dropped++;\n",
    "",
    OVERFLOW,
  ],
  [
    "HTTP: bufferBytes is ignored (never full)",
    "src/_byte_subscriber.ts",
    "    if (this.#queued > 0 && this.#queued + bytes.byteLength > this.budget) return FULL;\n",
    "",
    OVERFLOW,
  ],
  [
    "in-process: bufferMessages is ignored (never full)",
    "src/_message_subscriber.ts",
    "    if (room < 1 && room < this.budget) return FULL;",
    "",
    OVERFLOW,
  ],
  [
    'held during an async replay: "drop" drops instead of closing',
    "src/_fan_out.ts",
    'if (this.overflow === "drop" && subscriber.held === undefined) {',
    'if (this.overflow === "drop") {',
    HELD,
    FIRST_READ,
  ],
  [
    "held during an async replay: the budget is ignored",
    "src/_subscriber.ts",
    "      if (rare.heldSize > 0 && rare.heldSize + size > this.budget) return FULL;\n",
    "",
    HELD,
  ],
  // A stream that reads its Last-Event-ID at the runtime's first read.
  [
    "a stream reads its Last-Event-ID inside hub.response, not at its first read",
    "src/_subscriber.ts",
    "    rare.pending = later;",
    "    later?.();",
    FIRST_READ,
  ],
  [
    "a stream closed before its first read never ends",
    "src/_replay.ts",
    "  if (closing === undefined || !subscriber.active) return;",
    "  return;",
    FIRST_READ,
  ],
  // Keep-alive settings.
  [
    "Hub: the keepAlive number is ignored (always 4 s)",
    "src/_settings.ts",
    "keepAlive: options.keepAlive ?? 4000,",
    "keepAlive: options.keepAlive === false ? false : 4000,",
    KEEP_ALIVE,
  ],
  [
    "Hub: keepAlive: false is ignored (a 0 ms timer)",
    "src/_keep_alive.ts",
    "    if (this.interval === false) return;\n",
    "",
    KEEP_ALIVE,
  ],
  [
    "Hub: keepAlive: false means the 4 s default",
    "src/_settings.ts",
    "keepAlive: options.keepAlive ?? 4000,",
    "keepAlive: options.keepAlive || 4000,",
    KEEP_ALIVE,
  ],
  [
    "Hub: the keep-alive tick sends nothing",
    "src/_keep_alive.ts",
    "if (!subscriber.wrote && subscriber.wantsBytes) subscriber.push(PING);",
    "",
    KEEP_ALIVE,
  ],
  [
    'Hub: keepAliveTimer: "per-connection" is ignored (one shared timer)',
    "src/_settings.ts",
    'keepAlivePerConnection: options.keepAliveTimer === "per-connection",',
    "keepAlivePerConnection: false,",
    KEEP_ALIVE,
  ],
  [
    "Hub: a per-connection timer is never started",
    "src/_keep_alive.ts",
    "      this.#perConnection.set(subscriber, setInterval(() => ping(subscriber), this.interval));\n",
    "",
    KEEP_ALIVE,
  ],
  [
    "createEventStream: the keepAlive number is ignored (always 4 s)",
    "src/_stream_connection.ts",
    "const interval = options.keepAlive ?? 4000;",
    "const interval = options.keepAlive === false ? false : 4000;",
    KEEP_ALIVE,
  ],
  [
    "createEventStream: keepAlive: false is ignored (a 0 ms timer)",
    "src/_stream_connection.ts",
    "    if (interval !== false) {\n",
    "    if (true) {\n",
    KEEP_ALIVE,
  ],
  [
    "createEventStream: keepAlive: false means the 4 s default",
    "src/_stream_connection.ts",
    "const interval = options.keepAlive ?? 4000;",
    "const interval = options.keepAlive || 4000;",
    KEEP_ALIVE,
  ],
  [
    "the hub visits a subscriber of several topics once per topic",
    "src/_fan_out.ts",
    "      for (const subscriber of subscribers) if (subscriber.topics[0] === topic) visit(subscriber);",
    "      for (const subscriber of subscribers) visit(subscriber);",
    KEEP_ALIVE,
  ],
  // Linger.
  [
    "a linger never keeps anything back",
    "src/_linger.ts",
    "    if (!this.#busy || this.window !== window) return false;",
    "    return false;",
    LINGER,
  ],
  [
    "a linger window never ends",
    "src/_linger.ts",
    "    for (const stream of waiting) stream.lingerEnded();",
    "    void waiting;",
    LINGER,
  ],
  [
    "a linger keeps back what comes for a cold stream too",
    "src/_linger.ts",
    "    if (!this.#busy || this.window !== window) return false;",
    "    if (!this.#busy) return !this.#starved;",
    LINGER,
  ],
  [
    "a linger keeps back while the loop is still writing what opened the window",
    "src/_linger.ts",
    "    return !this.#starved && this.window === window;",
    "    return this.window === window;",
    LINGER,
  ],
  [
    "a linger stays busy after keeping back an event that nothing followed",
    "src/_linger.ts",
    "      (waiting.length === 0 || published > this.#publishedAtFirstWait);",
    "      true;",
    LINGER,
  ],
  [
    "a publish never ends an overdue linger window",
    "src/_linger.ts",
    "      if (now >= this.#endsAt) this.#end();",
    "      if (now < 0) this.#end();",
    LINGER,
  ],
  [
    "a stream's read never ends an overdue linger window",
    "src/_byte_subscriber.ts",
    "    endOverdueLingers(); // a busy loop runs the lingers' timers late",
    "",
    LINGER,
  ],
  [
    "a stream's read ends only its own hub's overdue linger window",
    "src/_byte_subscriber.ts",
    "    endOverdueLingers(); // a busy loop runs the lingers' timers late",
    "    this.owner.linger?.endIfOverdue(performance.now());",
    LINGER,
  ],
  // Resuming on an instance whose bus lags a shared store.
  [
    "a replay from a shared store: live copies of what the client has are not skipped",
    "src/_replay.ts",
    "  if (through !== undefined) subscriber.skipThrough(through, compare!);",
    "",
    RESUME,
  ],
  [
    "a replay from a shared store: held events the client has are sent",
    "src/_replay.ts",
    "    if (seen.has(event.id) || (through !== undefined && compare!(event.id, through) <= 0)) continue;",
    "    if (seen.has(event.id)) continue;",
    RESUME,
  ],
  // Resuming on a worker the BroadcastChannel has not reached yet.
  [
    "a BroadcastChannel history answers an id it has not received yet at once",
    "src/bridge/_broadcast_log.ts",
    "    if (ID.test(lastEventId) && !this.#ids.has(lastEventId) && this.#mayArrive(lastEventId)) {",
    "    if (ID.test(lastEventId) && !this.#ids.has(lastEventId) && !this.#mayArrive(lastEventId)) {",
    CHANNEL_RESUME,
  ],
  [
    "a BroadcastChannel history gives no id order (held copies of what the client has go out)",
    "src/bridge/_broadcast_log.ts",
    "  compareIds(a: string, b: string): number {\n    return compareIds(a, b);\n  }\n",
    "",
    CHANNEL_RESUME,
  ],
].map(([name, file, from, to, ...lists]) => ({ name, file, from, to, tests: lists.flat() })); // every list given

const only = process.argv[2];
const chosen = MUTATIONS.filter((m) => only === undefined || m.name.includes(only));

// A scratch copy: the sources and tests, sharing node_modules.
const scratch = mkdtempSync(join(tmpdir(), "sse-hub-mutants-"));
for (
  const path of [
    "mod.ts",
    "client.ts",
    "redis.ts",
    "src",
    "tests",
    "soak",
    "examples",
    "package.json",
    "deno.json",
    "tsconfig.json",
  ]
) {
  cpSync(join(root, path), join(scratch, path), { recursive: true });
}
symlinkSync(realpathSync(join(root, "node_modules")), join(scratch, "node_modules"));
const artifacts = join(scratch, "test-artifacts");
mkdirSync(artifacts);

async function runTests(files) {
  const failing = { deno: [], bun: [] };
  for (const runtime of ["deno", "bun"]) {
    for (const file of files) {
      const tally = await runFile(runtime, file, {
        deadline: 180,
        checked: true,
        cwd: scratch,
        artifacts,
        echo: false,
      });
      failing[runtime].push(
        ...tally.failures.map((name) => `${file.replace(/^tests\//, "")}: ${name.split(" > ").at(-1)}`),
      );
    }
  }
  return failing;
}

const rows = [];
let holes = 0;
try {
  const baseline = await runTests([...new Set(chosen.flatMap((m) => m.tests))]);
  if (baseline.deno.length + baseline.bun.length > 0) {
    console.error("the tests fail without any mutation; fix them first:", baseline);
    process.exit(1);
  }
  for (const mutation of chosen) {
    const path = join(scratch, mutation.file);
    const original = readFileSync(path, "utf8");
    if (original.split(mutation.from).length !== 2) {
      holes++;
      rows.push(
        `| ${mutation.name} | \`${mutation.file}\` | STALE: the text to break is not found exactly once | |`,
      );
      continue;
    }
    writeFileSync(path, original.replace(mutation.from, mutation.to));
    try {
      const { deno, bun } = await runTests(mutation.tests);
      if (deno.length + bun.length === 0) holes++;
      const cell = (
        names,
      ) => (names.length === 0 ? "— (survives)" : names.map((n) => n.replace(/\|/g, "\\|")).join("<br>"));
      rows.push(`| ${mutation.name} | \`${mutation.file}\` | ${cell(deno)} | ${cell(bun)} |`);
      console.log(`${deno.length + bun.length === 0 ? "SURVIVED" : "caught"}: ${mutation.name}`);
    } finally {
      writeFileSync(path, original);
    }
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
console.log("\n| mutation | file | failing on Deno | failing on Bun |\n| --- | --- | --- | --- |");
for (const row of rows) console.log(row);
console.log(`\nmutations: ${chosen.length - holes} caught, ${holes} not caught or stale`);
process.exit(holes === 0 ? 0 : 1);
