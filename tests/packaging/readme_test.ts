// Every ```ts block of README.md and docs/*.md runs as copied: each one type-checks as a module of
// its own (`deno check` under `deno test`; tsc with bun-types under `bun test`; a block for one
// runtime only on that one), with `@sse-hub/sse-hub` and `sse-hub` mapped to this checkout as the
// install lines would, and every server is started on the runtime running the test and tried
// with the `curl` lines it shows, which must print what it says they print.
import assert from "node:assert/strict";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import process from "node:process";
import { type DocBlock, docBlocks, packagePaths, root } from "./_doc_blocks.ts";
import { bin, dir, launchProcess, launchWorkerd, start, type Started, tryServer } from "./_block_servers.ts";
import { runtime, withDeadline } from "../helpers/server.ts";
import { buildIfNeeded } from "../helpers/node_process.ts";
import { after, before, describe, it } from "../helpers/timed.ts";

// DOC_BLOCK=README.md:40 checks the blocks whose name starts so (while editing the docs).
const only = process.env.DOC_BLOCK ?? "";
const all = docBlocks().filter((block) => block.name.startsWith(only));
const blocks = all.filter((block) => block.runtimes.includes(runtime));
// Node servers (js blocks) run once, under `deno test`, on the built package, as tests/http/node_test.ts does.
const nodeBlocks = runtime === "deno" ? all.filter((block) => block.runtimes.includes("node")) : [];
// Worker blocks (run with `wrangler dev`) also run on workerd, once, under `deno test`.
const workerBlocks = runtime === "deno" ? all.filter((block) => block.worker) : [];

// A block for the browser (it touches `document`, `window` or `localStorage`) gets the DOM lib,
// which Deno leaves out (so error line numbers there are one past the block's).
function browserLib(block: DocBlock): string {
  return /\b(document|window|localStorage)\./.test(block.code) ? '/// <reference lib="dom" />\n' : "";
}

async function typeCheck(): Promise<{ code: number | null; output: string }> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const block of [...blocks, ...nodeBlocks]) {
    writeFileSync(`${dir}/${block.fileName}`, browserLib(block) + block.code);
  }
  let checker: Started;
  if (runtime === "deno") {
    const files = blocks.map((block) => `${dir}/${block.fileName}`);
    checker = start(bin("deno"), ["check", "--config", `${root}deno.json`, ...files]);
  } else {
    writeFileSync(`${dir}/tsconfig.json`, JSON.stringify(bunConfig(blocks), null, 2));
    checker = start(bin("tsc"), ["-p", `${dir}/tsconfig.json`]);
  }
  const code = await withDeadline(checker.exited, 120_000, `type-checking the doc blocks (${runtime})`);
  return { code, output: checker.output() };
}

// The repository's Bun setup (bun-types, strict), each block a module; the package names map to
// this checkout, as an install would (Bun reads these paths too when it runs a block).
function bunConfig(files: DocBlock[]) {
  return {
    extends: "../../../tsconfig.json",
    compilerOptions: { paths: packagePaths(), moduleDetection: "force" },
    include: [],
    files: files.map((block) => block.fileName),
  };
}

describe(`README and docs code blocks on ${runtime}`, () => {
  let checked: { code: number | null; output: string };
  before(async () => {
    checked = await typeCheck();
  }, { timeout: 180_000 }); // a cold cache type-checks the library and its npm imports too
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("type-checking every block exits 0", () => {
    assert.equal(checked.code, 0, checked.output);
  });

  for (const block of blocks) {
    it(`${block.name} type-checks as a module of its own`, () => {
      const lines = checked.output.split("\n");
      // Deno names each root it checks; a file it skipped (e.g. excluded by deno.json) would pass unseen.
      if (runtime === "deno") {
        assert.ok(
          lines.some((line) => /^Check /.test(line) && line.includes(block.fileName)),
          `deno check skipped ${block.fileName}:\n${checked.output}`,
        );
      }
      const errors = lines.filter((line) => line.includes(block.fileName) && !/^Check /.test(line));
      assert.deepEqual(errors, [], `${block.name}:\n${checked.output}`);
    });
  }

  for (const block of blocks.filter((block) => block.server)) {
    it(`${block.name} serves what its curl lines print`, () => tryServer(block, launchProcess));
  }

  for (const block of nodeBlocks) {
    it(
      `${block.name} serves what its curl lines print on Node (built package)`,
      { timeout: 180_000 },
      async () => {
        await buildIfNeeded();
        await tryServer(block, launchProcess);
      },
    );
  }

  for (const block of workerBlocks) {
    it(`${block.name} serves what its curl lines print on workerd`, { timeout: 120_000 }, () => {
      return tryServer(block, launchWorkerd);
    });
  }
});
