#!/usr/bin/env node
// Runs the whole suite: static checks, then the one node:test suite on Deno and on Bun, one
// process per test file, with the runtimes from node_modules/.bin. Ends with one line:
//   tests: N passed, N failed
// summed over both runtimes (each static check counts as one test). Exits 1 on any failure.
//
//   npm test                           everything
//   npm test -- tests/hub_test.ts      only these test files or folders (checks still run)
//   SKIP_CHECKS=1 npm test             tests only
//   RUNTIMES=bun npm test              one runtime only (deno, bun, or deno,bun)
//   FUZZ_SEED=<n> npm test             replay the fuzz properties of an earlier run
//
// Counting (see tests/README.md): only leaves are tests (a describe is not one); a failing
// hook, an error between tests, a file that does not load or a run that exits non-zero
// without a failing test each count as one failure; a skipped test is counted and printed
// as skipped, never as passed.
//
// Deadlines: every test has its own (tests/helpers/timed.ts, TEST_TIMEOUT_MS); one file's run
// is killed after FILE_DEADLINE_S (default 300) and one runtime's runs after
// RUNTIME_DEADLINE_S (default 600); a killed or never started file counts as one failure.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const bin = (name) => join(root, "node_modules", ".bin", name);
const seconds = (name, fallback) => (Number(process.env[name]) > 0 ? Number(process.env[name]) : fallback);
const FILE_DEADLINE_S = seconds("FILE_DEADLINE_S", 300);
const RUNTIME_DEADLINE_S = seconds("RUNTIME_DEADLINE_S", 600);
const RUNTIMES = (process.env.RUNTIMES ?? "deno,bun").split(",").filter((r) => r === "deno" || r === "bun");
const FUZZ_SEED = process.env.FUZZ_SEED || String(Math.floor(Math.random() * 2 ** 31));
const artifacts = join(root, "test-artifacts");

/** Test files under the given files and folders (`*_test.ts` and the like), sorted. */
function testFiles(targets) {
  const found = [];
  const walk = (path) => {
    if (statSync(path).isDirectory()) {
      for (const name of readdirSync(path)) if (name !== "node_modules") walk(join(path, name));
    } else if (/[._]test\.(ts|mts|js|mjs)$/.test(path)) found.push(relative(root, path));
  };
  for (const target of targets) {
    const path = join(root, target);
    if (!existsSync(path)) throw new Error(`no such test file or folder: ${target}`);
    walk(path);
  }
  return [...new Set(found)].sort();
}

/** Runs a command, echoing its output live; kills its whole process group after `deadline` s. */
function run(cmd, args, { env = {}, deadline = Infinity, echo = true } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      cwd: root,
      env: { ...process.env, NO_COLOR: "1", FUZZ_SEED, ...env },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true, // its own process group: a kill takes the servers it started with it
    });
    let out = "";
    let killed = false;
    const take = (chunk) => {
      out += chunk;
      if (echo) process.stdout.write(chunk);
    };
    child.stdout.on("data", take);
    child.stderr.on("data", take);
    const timer = Number.isFinite(deadline)
      ? setTimeout(() => {
        killed = true;
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {
          child.kill("SIGKILL");
        }
      }, deadline * 1000)
      : undefined;
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, out, killed });
    });
  });
}

// ---- counting -------------------------------------------------------------------------------

const unescape = (text) =>
  text.replace(/&gt;/g, ">").replace(/&lt;/g, "<").replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(
    /&amp;/g,
    "&",
  );

/** Every <testcase> of a JUnit file: its name, and whether it failed or was skipped. */
function testcases(xml) {
  const cases = [];
  const re = /<testcase\b([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g;
  for (let m; (m = re.exec(xml));) {
    const name = unescape(/\bname="([^"]*)"/.exec(m[1])?.[1] ?? "");
    const classname = unescape(/\bclassname="([^"]*)"/.exec(m[1])?.[1] ?? "");
    const body = m[3] ?? "";
    const failure = /<(failure|error)\b[^>]*?message="([^"]*)"/.exec(body);
    cases.push({
      name,
      classname,
      failed: /<(failure|error)\b/.test(body),
      message: failure ? unescape(failure[2]) : "",
      skipped: /<skipped\b/.test(body),
    });
  }
  return cases;
}

// Deno: every test and step is a <testcase> named by its path ("describe > it"). Only leaves
// are tests. A parent that failed although none of its children did failed on its own: a hook
// (before/after) or its body threw; that counts as one failure.
function countDeno(xml) {
  const cases = testcases(xml);
  const tally = { passed: 0, failed: 0, skipped: 0, failures: [], skips: [] };
  for (const c of cases) {
    const children = cases.filter((other) => other.name.startsWith(`${c.name} > `));
    if (children.length > 0) {
      if (c.failed && !children.some((child) => child.failed)) {
        tally.failed++;
        tally.failures.push(`${c.name} (hook or describe body: ${c.message.split("\n")[0]})`);
      }
      continue;
    }
    if (c.failed) {
      tally.failed++;
      tally.failures.push(c.name);
    } else if (c.skipped) {
      tally.skipped++;
      tally.skips.push(c.name);
    } else tally.passed++;
  }
  return tally;
}

// Bun: every <testcase> is a leaf. A hook that throws, or an error between tests, leaves the
// tests "passed" in the JUnit file; Bun prints it as "Unhandled error between tests": one
// failure each.
function countBun(xml, output) {
  const tally = { passed: 0, failed: 0, skipped: 0, failures: [], skips: [] };
  for (const c of testcases(xml)) {
    const name = c.classname ? `${c.classname.split(" > ").reverse().join(" > ")} > ${c.name}` : c.name;
    if (c.failed) {
      tally.failed++;
      tally.failures.push(name);
    } else if (c.skipped) {
      tally.skipped++;
      tally.skips.push(name);
    } else tally.passed++;
  }
  const between = output.split("# Unhandled error between tests").length - 1;
  for (let i = 0; i < between; i++) {
    tally.failed++;
    tally.failures.push("an error between tests (a failing before/after hook, or an unhandled error)");
  }
  return tally;
}

async function runFile(runtime, file, deadline, checked) {
  const junit = join(artifacts, `${runtime}-${file.replace(/[^\w.-]+/g, "_")}.xml`);
  rmSync(junit, { force: true });
  const args = runtime === "deno"
    ? ["test", "--allow-all", ...(checked ? ["--no-check"] : []), `--junit-path=${junit}`, file]
    : ["test", "--timeout", "120000", "--reporter=junit", `--reporter-outfile=${junit}`, `./${file}`];
  process.stdout.write(`\n=== ${runtime} test ${file}\n`);
  const { code, out, killed } = await run(bin(runtime), args, { deadline });
  const xml = existsSync(junit) ? readFileSync(junit, "utf8") : "";
  const tally = runtime === "deno" ? countDeno(xml) : countBun(xml, out);
  if (killed) {
    tally.failed++;
    tally.failures.push(`the run was killed after ${deadline} s (its tests were not counted)`);
  } else if (code !== 0 && tally.failed === 0) {
    tally.failed++;
    tally.failures.push(`the run exited with code ${code} (did the file load?)`);
  }
  return tally;
}

// ---- what the suite needs ------------------------------------------------------------------

const onPath = (command) => spawnSync("sh", ["-c", `command -v ${command}`]).status === 0;
const TOOLS = [
  { tool: "redis-server", apt: "redis-server", present: () => existsSync("/usr/bin/redis-server"), used: /startRedis|redis-server/ },
  { tool: "chromium", apt: "chromium", present: () => existsSync("/usr/bin/chromium"), used: /chromium/ },
  { tool: "go", apt: "golang-go", present: () => onPath("go"), used: /\bgo build|buildSlowClient/ },
];

/** Installs what the chosen tests need when we can (root with apt-get); else says what to install. */
function prepare(files) {
  const sources = files.map((file) => readFileSync(join(root, file), "utf8")).join("\n");
  let missing = TOOLS.filter((t) => t.used.test(sources) && !t.present());
  if (missing.length > 0 && process.getuid?.() === 0 && onPath("apt-get")) {
    const packages = missing.map((t) => t.apt);
    console.log(`installing what the tests need: ${packages.join(" ")}`);
    spawnSync("apt-get", ["update", "-qq"], { stdio: "inherit" });
    spawnSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...packages], {
      stdio: "inherit",
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
    missing = missing.filter((t) => !t.present());
  }
  if (missing.length > 0) {
    console.log(
      `MISSING: ${missing.map((t) => t.tool).join(", ")}: install ${
        missing.map((t) => t.apt).join(" ")
      } (e.g. apt-get install); the tests that need them will FAIL`,
    );
  }
}

// ---- main ------------------------------------------------------------------------------------

const checks = [];

async function check(label, cmd, args) {
  const { code, out } = await run(cmd, args, { echo: false });
  if (code !== 0) process.stdout.write(out);
  console.log(`${code === 0 ? "ok" : "FAILED"}: ${label}`);
  checks.push({ label, ok: code === 0 });
}

/** Deno reports a test that calls `t.skip()` while running as passed: runtime skips are refused. */
function checkNoRuntimeSkips(files) {
  const offenders = files.filter((file) => /\bt\.skip\(/.test(readFileSync(join(root, file), "utf8")));
  if (offenders.length > 0) console.log(`runtime t.skip() (Deno counts it as a pass) in: ${offenders.join(", ")}`);
  console.log(`${offenders.length === 0 ? "ok" : "FAILED"}: no runtime t.skip() in tests (skip at registration)`);
  checks.push({ label: "no runtime t.skip()", ok: offenders.length === 0 });
}

async function main() {
  if (!existsSync(bin("deno")) || !existsSync(bin("bun"))) {
    console.error("deno and bun come from devDependencies: run `npm install` first");
    console.log("tests: 0 passed, 1 failed");
    process.exit(1);
  }
  const targets = process.argv.slice(2);
  const files = testFiles(targets.length > 0 ? targets : ["tests/"]);
  console.log(`FUZZ_SEED=${FUZZ_SEED}  (replay: FUZZ_SEED=${FUZZ_SEED} npm test)`);
  prepare(files);
  mkdirSync(artifacts, { recursive: true });

  const checked = !process.env.SKIP_CHECKS;
  if (checked) {
    await check("deno check", bin("deno"), ["check", "--quiet", "mod.ts", "src/", "tests/", "examples/", "bench/"]);
    await check("deno lint", bin("deno"), ["lint", "--quiet"]);
    await check("deno doc --lint mod.ts", bin("deno"), ["doc", "--lint", "mod.ts"]);
    await check("deno test --doc (JSDoc examples run)", bin("deno"), ["test", "--doc", "--allow-all", "--quiet", "mod.ts", "src/"]);
    await check("tsc: web-standard globals only (mod.ts)", bin("tsc"), ["--noEmit", "-p", "tsconfig.web.json"]);
    await check("tsc: with bun-types (tests, Bun example)", bin("tsc"), ["--noEmit", "-p", "tsconfig.json"]);
    await check("package.json and deno.json agree", process.execPath, ["scripts/check_manifests.mjs"]);
    checkNoRuntimeSkips(files);
  }

  const results = {}; // file → runtime → tally
  for (const runtime of RUNTIMES) {
    const end = Date.now() + RUNTIME_DEADLINE_S * 1000;
    for (const file of files) {
      const left = Math.floor((end - Date.now()) / 1000);
      let tally;
      if (left <= 0) {
        tally = { passed: 0, failed: 1, skipped: 0, failures: [`not run: ${runtime}'s ${RUNTIME_DEADLINE_S} s deadline passed`], skips: [] };
      } else tally = await runFile(runtime, file, Math.min(FILE_DEADLINE_S, left), checked && checks.every((c) => c.ok));
      (results[file] ??= {})[runtime] = tally;
    }
  }
  report(files, results);
}

function report(files, results) {
  const sum = (runtime, key) => files.reduce((a, f) => a + (results[f][runtime]?.[key] ?? 0), 0);
  console.log("\n| runtime | passed | failed | skipped |\n| --- | --- | --- | --- |");
  for (const runtime of RUNTIMES) {
    console.log(`| ${runtime} | ${sum(runtime, "passed")} | ${sum(runtime, "failed")} | ${sum(runtime, "skipped")} |`);
  }
  const checkFailed = checks.filter((c) => !c.ok).length;
  if (checks.length) console.log(`| static checks | ${checks.length - checkFailed} | ${checkFailed} | 0 |`);

  const skips = files.flatMap((f) => RUNTIMES.flatMap((r) => (results[f][r]?.skips ?? []).map((s) => `${r}: ${f}: ${s}`)));
  if (skips.length > 0) {
    console.log(`\nSKIPPED (not passed), ${skips.length}:`);
    for (const line of skips) console.log(`  ${line}`);
  }
  const passed = RUNTIMES.reduce((a, r) => a + sum(r, "passed"), 0) + checks.length - checkFailed;
  const failed = RUNTIMES.reduce((a, r) => a + sum(r, "failed"), 0) + checkFailed;
  if (failed > 0) {
    const cell = (t) => (t === undefined ? "—" : `${t.passed} / ${t.failed} / ${t.skipped}`);
    console.log(`\n| file | ${RUNTIMES.map((r) => `${r} passed / failed / skipped`).join(" | ")} |`);
    console.log(`| --- | ${RUNTIMES.map(() => "---").join(" | ")} |`);
    for (const f of files) console.log(`| ${f} | ${RUNTIMES.map((r) => cell(results[f][r])).join(" | ")} |`);
    console.log("\nFAILED:");
    for (const c of checks.filter((c) => !c.ok)) console.log(`  check: ${c.label}`);
    for (const f of files) {
      for (const r of RUNTIMES) for (const name of results[f][r]?.failures ?? []) console.log(`  ${r}: ${f}: ${name}`);
    }
    if (files.some((f) => f.includes("fuzz"))) console.log(`\nreplay the fuzz inputs: FUZZ_SEED=${FUZZ_SEED} npm test`);
  }
  console.log(`tests: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
}

main().catch((error) => {
  console.error(error);
  console.log("tests: 0 passed, 1 failed");
  process.exit(1);
});
