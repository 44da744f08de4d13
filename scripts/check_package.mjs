#!/usr/bin/env node
// The npm package as a user gets it: builds a clean copy, `npm pack`s it, installs the tarball
// OFFLINE into an empty consumer project (TypeScript, @types/node and bun-types are linked from
// this checkout's node_modules), type-checks tests/packaging/consumer/consumer.ts with only
// @types/node and with only bun-types (skipLibCheck: false, no DOM lib), and runs it on Node and
// on Bun. Also checks the tarball itself: every README/SECURITY link resolves (absolute, or a
// shipped file), every source map's sources are shipped. Touches nothing in the checkout.
//
//   node scripts/check_package.mjs          exit 0 when the package works, 1 with the reasons
//   KEEP=1 node scripts/check_package.mjs   keeps the temp directory for a look
import { spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";

const root = resolve(new URL("..", import.meta.url).pathname);
const modules = join(root, "node_modules");
const work = mkdtempSync(join(tmpdir(), "sse-hub-package-"));
const problems = [];

function run(what, cmd, args, cwd) {
  const started = Date.now();
  const result = spawnSync(cmd, args, {
    cwd,
    encoding: "utf8",
    timeout: 120_000,
    env: { ...process.env, NO_COLOR: "1" },
  });
  const ok = result.status === 0;
  console.log(`${ok ? "ok" : "FAILED"}: ${what} (${Date.now() - started} ms)`);
  if (!ok) problems.push(`${what}:\n${result.error ?? ""}${result.stdout}${result.stderr}`.trimEnd());
  return result;
}

function link(consumer, name) {
  const target = join(consumer, "node_modules", name);
  mkdirSync(dirname(target), { recursive: true });
  symlinkSync(join(modules, name), target, "dir");
}

try {
  // 1. A clean copy, so a stale dist/ in the checkout can never reach the tarball.
  const stage = join(work, "stage");
  const skip = new Set(["node_modules", ".git", "dist", "test-artifacts", "bench", "soak"]);
  cpSync(root, stage, { recursive: true, filter: (src) => !skip.has(relative(root, src).split("/")[0]) });
  run(
    "build (tsc -p tsconfig.build.json)",
    join(modules, ".bin", "tsc"),
    ["-p", "tsconfig.build.json"],
    stage,
  );

  // 2. npm pack: what `files` ships.
  const pack = run(
    "npm pack",
    "npm",
    ["pack", "--ignore-scripts", "--json", "--pack-destination", work],
    stage,
  );
  if (pack.status !== 0) throw new Error("npm pack failed");
  const [{ filename, files }] = JSON.parse(pack.stdout);
  const shipped = new Set(files.map((f) => f.path));
  console.log(`   ${filename}: ${files.length} files`);

  // 3. What the tarball holds.
  for (const path of ["package.json", "README.md", "LICENSE", "dist/mod.js", "dist/mod.d.ts"]) {
    if (!shipped.has(path)) problems.push(`the tarball lacks ${path}`);
  }
  for (const doc of ["README.md", "SECURITY.md"].filter((d) => shipped.has(d))) {
    const text = readFileSync(join(stage, doc), "utf8").replace(/```[\s\S]*?```/g, "");
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^(https?:|mailto:|#)/.test(target)) continue;
      const path = target.split("#")[0].replace(/^\.\//, "");
      if (!shipped.has(path)) {
        problems.push(`${doc} links to ${target}, which the package does not ship (make it absolute)`);
      }
    }
  }
  for (const map of [...shipped].filter((p) => p.endsWith(".map"))) {
    const { sources } = JSON.parse(readFileSync(join(stage, map), "utf8"));
    for (const source of sources) {
      const path = relative(".", join(dirname(map), source));
      if (!shipped.has(path)) problems.push(`${map} maps to ${path}, which the package does not ship`);
    }
  }
  for (const key of Object.keys(JSON.parse(readFileSync(join(stage, "package.json"), "utf8")).exports)) {
    if (key === "./package.json") continue;
    const name = key === "." ? "mod" : key.slice(2);
    for (const ext of [".js", ".d.ts", ".js.map", ".d.ts.map"]) {
      if (!shipped.has(`dist/${name}${ext}`)) {
        problems.push(`export "${key}": the tarball lacks dist/${name}${ext}`);
      }
    }
  }

  // 4. A consumer project that installs the tarball offline, as `npm install sse-hub` would.
  const fixture = join(root, "tests", "packaging", "consumer");
  const consumers = {};
  for (const kind of ["node", "bun"]) {
    const dir = join(work, `consumer-${kind}`);
    mkdirSync(dir);
    writeFileSync(
      join(dir, "package.json"),
      JSON.stringify({ name: `consumer-${kind}`, private: true, type: "module" }),
    );
    for (const file of readdirSync(fixture)) cpSync(join(fixture, file), join(dir, file));
    consumers[kind] = dir;
  }
  run(
    "npm install --offline <tarball>",
    "npm",
    [
      "install",
      "--offline",
      "--ignore-scripts",
      "--no-audit",
      "--no-fund",
      "--cache",
      join(work, "npm-cache"),
      join(work, filename),
    ],
    consumers.node,
  );
  cpSync(join(consumers.node, "node_modules", "sse-hub"), join(consumers.bun, "node_modules", "sse-hub"), {
    recursive: true,
  });
  for (const name of ["@types/node", "undici-types"]) link(consumers.node, name);
  for (const name of ["bun-types", "@types/node", "undici-types"]) link(consumers.bun, name);

  const tsc = join(modules, ".bin", "tsc");
  run(
    "tsc: consumer with only @types/node (skipLibCheck: false)",
    tsc,
    ["-p", "tsconfig.node.json"],
    consumers.node,
  );
  run(
    "tsc: consumer with only bun-types (skipLibCheck: false)",
    tsc,
    ["-p", "tsconfig.bun.json"],
    consumers.bun,
  );
  if (existsSync(join(consumers.node, "out", "consumer.js"))) {
    run("node runs the consumer", process.execPath, ["out/consumer.js"], consumers.node);
  } else problems.push("tsc emitted no out/consumer.js for Node to run");
  run("bun runs the consumer", join(modules, ".bin", "bun"), ["consumer.ts"], consumers.bun);
} catch (error) {
  problems.push(String(error));
} finally {
  if (process.env.KEEP) console.log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
if (problems.length) {
  console.error(`\n${problems.join("\n\n")}`);
  process.exit(1);
}
console.log("the packed package installs, type-checks and runs");
