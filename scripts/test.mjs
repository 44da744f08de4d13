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
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { run, runFile } from "./_test_run.mjs";

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
    const path = resolve(root, target);
    if (!existsSync(path)) throw new Error(`no such test file or folder: ${target}`);
    walk(path);
  }
  return [...new Set(found)].sort();
}

// ---- what the suite needs ------------------------------------------------------------------

const onPath = (command) => spawnSync("sh", ["-c", `command -v ${command}`]).status === 0;
const TOOLS = [
  {
    tool: "redis-server",
    apt: "redis-server",
    present: () => existsSync("/usr/bin/redis-server"),
    used: /startRedis|redis-server/,
  },
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
  const { code, out } = await run(cmd, args, { echo: false, env: { FUZZ_SEED } });
  if (code !== 0) process.stdout.write(out);
  console.log(`${code === 0 ? "ok" : "FAILED"}: ${label}`);
  checks.push({ label, ok: code === 0 });
}

/** Deno reports a test that calls `t.skip()` while running as passed: runtime skips are refused. */
function checkNoRuntimeSkips(files) {
  const offenders = files.filter((file) => /\bt\.skip\(/.test(readFileSync(join(root, file), "utf8")));
  if (offenders.length > 0) {
    console.log(`runtime t.skip() (Deno counts it as a pass) in: ${offenders.join(", ")}`);
  }
  console.log(
    `${offenders.length === 0 ? "ok" : "FAILED"}: no runtime t.skip() in tests (skip at registration)`,
  );
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
  const undated = files.filter((file) => /from "node:test"/.test(readFileSync(join(root, file), "utf8")));
  if (undated.length > 0) {
    console.log(
      `note: no per-test deadline under deno test (import describe/it from tests/helpers/timed.ts): ${
        undated.join(", ")
      }`,
    );
  }
  mkdirSync(artifacts, { recursive: true });

  const checked = !process.env.SKIP_CHECKS;
  if (checked) {
    await check("deno check", bin("deno"), [
      "check",
      "--quiet",
      "mod.ts",
      "client.ts",
      "redis.ts",
      "src/",
      "tests/",
      "examples/",
      "bench/",
    ]);
    await check("deno lint", bin("deno"), ["lint", "--quiet"]);
    await check("deno doc --lint mod.ts client.ts redis.ts", bin("deno"), [
      "doc",
      "--lint",
      "mod.ts",
      "client.ts",
      "redis.ts",
    ]);
    await check("deno test --doc (JSDoc examples run)", bin("deno"), [
      "test",
      "--doc",
      "--allow-all",
      "--quiet",
      "mod.ts",
      "client.ts",
      "redis.ts",
      "src/",
    ]);
    await check("tsc: web-standard globals only (mod.ts)", bin("tsc"), [
      "--noEmit",
      "-p",
      "tsconfig.web.json",
    ]);
    await check("tsc: with bun-types (tests, Bun example)", bin("tsc"), ["--noEmit", "-p", "tsconfig.json"]);
    await check("package.json and deno.json agree", process.execPath, ["scripts/check_manifests.mjs"]);
    await check("deno publish --dry-run (JSR package)", bin("deno"), [
      "publish",
      "--dry-run",
      "--allow-dirty",
      "--quiet",
    ]);
    await check(
      "npm pack: installs offline, type-checks with only @types/node / only bun-types, runs on Node and Bun",
      process.execPath,
      ["scripts/check_package.mjs"],
    );
    checkNoRuntimeSkips(files);
  }

  const results = {}; // file → runtime → tally
  for (const runtime of RUNTIMES) {
    const end = Date.now() + RUNTIME_DEADLINE_S * 1000;
    for (const file of files) {
      const left = Math.floor((end - Date.now()) / 1000);
      let tally;
      if (left <= 0) {
        tally = {
          passed: 0,
          failed: 1,
          skipped: 0,
          failures: [`not run: ${runtime}'s ${RUNTIME_DEADLINE_S} s deadline passed`],
          skips: [],
        };
      } else {
        tally = await runFile(runtime, file, {
          deadline: Math.min(FILE_DEADLINE_S, left),
          checked: checked && checks.every((c) => c.ok),
          artifacts,
          env: { FUZZ_SEED },
        });
      }
      (results[file] ??= {})[runtime] = tally;
    }
  }
  report(files, results);
}

function report(files, results) {
  const sum = (runtime, key) => files.reduce((a, f) => a + (results[f][runtime]?.[key] ?? 0), 0);
  console.log("\n| runtime | passed | failed | skipped |\n| --- | --- | --- | --- |");
  for (const runtime of RUNTIMES) {
    console.log(
      `| ${runtime} | ${sum(runtime, "passed")} | ${sum(runtime, "failed")} | ${sum(runtime, "skipped")} |`,
    );
  }
  const checkFailed = checks.filter((c) => !c.ok).length;
  if (checks.length) console.log(`| static checks | ${checks.length - checkFailed} | ${checkFailed} | 0 |`);

  const skips = files.flatMap((f) =>
    RUNTIMES.flatMap((r) => (results[f][r]?.skips ?? []).map((s) => `${r}: ${f}: ${s}`))
  );
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
      for (const r of RUNTIMES) {
        for (const name of results[f][r]?.failures ?? []) console.log(`  ${r}: ${f}: ${name}`);
      }
    }
    if (files.some((f) => f.includes("fuzz"))) {
      console.log(`\nreplay the fuzz inputs: FUZZ_SEED=${FUZZ_SEED} npm test`);
    }
  }
  console.log(`tests: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
}

main().catch((error) => {
  console.error(error);
  console.log("tests: 0 passed, 1 failed");
  process.exit(1);
});
