#!/usr/bin/env node
// Runs the whole suite: static checks, then the one node:test suite on Deno and on Bun,
// with the runtimes from node_modules/.bin. Ends with one line:
//   tests: N passed, N failed
// summed over both runtimes (each static check counts as one test). Exits 1 on any failure.
//
//   npm test                 everything
//   npm test -- tests/hub_test.ts   only these test files (checks still run)
//   SKIP_CHECKS=1 npm test   tests only
import { spawn } from "node:child_process";
import { existsSync, readFileSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const bin = (name) => join(root, "node_modules", ".bin", name);
const files = process.argv.slice(2);
const targets = files.length > 0 ? files : ["tests/"];
const results = [];

function run(label, cmd, args, { quiet = false, env = {} } = {}) {
  return new Promise((resolve) => {
    process.stdout.write(`\n=== ${label}: ${[cmd.replace(root, ""), ...args].join(" ")}\n`);
    const child = spawn(cmd, args, { cwd: root, env: { ...process.env, NO_COLOR: "1", ...env } });
    let out = "";
    const take = (chunk) => {
      out += chunk;
      if (!quiet) process.stdout.write(chunk);
    };
    child.stdout.on("data", take);
    child.stderr.on("data", take);
    child.on("close", (code) => {
      if (quiet && code !== 0) process.stdout.write(out);
      resolve({ code: code ?? 1, out });
    });
  });
}

async function check(label, cmd, args) {
  const { code } = await run(label, cmd, args, { quiet: true });
  console.log(`${code === 0 ? "ok" : "FAILED"}: ${label}`);
  results.push({ runtime: "checks", passed: code === 0 ? 1 : 0, failed: code === 0 ? 0 : 1 });
}

// Deno: TAP. A test is a leaf when no deeper result line came before it (describe blocks
// are reported as parent results of their `it` steps).
function countTap(text) {
  let passed = 0, failed = 0, skipped = 0;
  const deeper = [];
  for (const line of text.split("\n")) {
    const m = /^(\s*)(ok|not ok) \d+ - (.*)$/.exec(line);
    if (!m) continue;
    const depth = m[1].length;
    const isLeaf = !deeper[depth];
    deeper.length = depth + 1;
    deeper[depth] = false;
    for (let d = 0; d < depth; d++) deeper[d] = true;
    if (!isLeaf) continue;
    if (/# SKIP/i.test(m[3])) skipped++;
    else if (m[2] === "ok") passed++;
    else failed++;
  }
  return { passed, failed, skipped };
}

// Bun: JUnit. Every <testcase> is a leaf; a failure or error child marks it failed.
function countJunit(xml) {
  let passed = 0, failed = 0, skipped = 0;
  const re = /<testcase\b[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g;
  for (let m; (m = re.exec(xml));) {
    const body = m[2] ?? "";
    if (/<(failure|error)\b/.test(body)) failed++;
    else if (/<skipped\b/.test(body)) skipped++;
    else passed++;
  }
  return { passed, failed, skipped };
}

async function main() {
  if (!existsSync(bin("deno")) || !existsSync(bin("bun"))) {
    console.error("deno and bun come from devDependencies: run `npm install` first");
    console.log("tests: 0 passed, 1 failed");
    process.exit(1);
  }
  if (!process.env.SKIP_CHECKS) {
    await check("deno check", bin("deno"), ["check", "--quiet", "mod.ts", "src/", "tests/", "examples/", "bench/"]);
    await check("deno lint", bin("deno"), ["lint", "--quiet"]);
    await check("deno doc --lint mod.ts", bin("deno"), ["doc", "--lint", "mod.ts"]);
    await check("deno test --doc (JSDoc examples run)", bin("deno"), ["test", "--doc", "--allow-all", "--quiet", "mod.ts", "src/"]);
    await check("tsc: web-standard globals only (mod.ts)", bin("tsc"), ["--noEmit", "-p", "tsconfig.web.json"]);
    await check("tsc: with bun-types (tests, Bun example)", bin("tsc"), ["--noEmit", "-p", "tsconfig.json"]);
    await check("package.json and deno.json agree", process.execPath, ["scripts/check_manifests.mjs"]);
  }

  const deno = await run("deno test", bin("deno"), ["test", "--allow-all", "--reporter=tap", ...targets]);
  const d = countTap(deno.out);
  if (deno.code !== 0 && d.failed === 0) d.failed = 1; // a file that failed to load reports no TAP line
  results.push({ runtime: "deno", ...d });

  const junitDir = join(root, "test-artifacts");
  mkdirSync(junitDir, { recursive: true });
  const junit = join(junitDir, "bun-junit.xml");
  rmSync(junit, { force: true });
  const bun = await run("bun test", bin("bun"), [
    "test", "--timeout", "120000", "--reporter=junit", `--reporter-outfile=${junit}`,
    ...targets.map((t) => (t.startsWith(".") || t.startsWith("/") ? t : `./${t}`)),
  ]);
  const b = existsSync(junit) ? countJunit(readFileSync(junit, "utf8")) : { passed: 0, failed: 0, skipped: 0 };
  if (bun.code !== 0 && b.failed === 0) b.failed = 1;
  results.push({ runtime: "bun", ...b });

  console.log("\n| runtime | passed | failed | skipped |\n| --- | --- | --- | --- |");
  for (const r of results.filter((r) => r.runtime !== "checks")) {
    console.log(`| ${r.runtime} | ${r.passed} | ${r.failed} | ${r.skipped ?? 0} |`);
  }
  const c = results.filter((r) => r.runtime === "checks");
  if (c.length) console.log(`| static checks | ${c.reduce((a, r) => a + r.passed, 0)} | ${c.reduce((a, r) => a + r.failed, 0)} | 0 |`);
  const passed = results.reduce((a, r) => a + r.passed, 0);
  const failed = results.reduce((a, r) => a + r.failed, 0);
  console.log(`tests: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
}

main();
