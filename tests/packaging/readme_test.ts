// Every ```ts block of README.md and docs/*.md runs as copied: each one type-checks as a module of
// its own (`deno check` under `deno test`; tsc with bun-types under `bun test`; a block for one
// runtime only on that one), with `@sse-hub/sse-hub` and `sse-hub` mapped to this checkout as the
// install lines would, and every server is started on the runtime running the test and tried
// with the `curl` lines it shows, which must print what it says they print.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { type DocBlock, docBlocks, printed, root, withPort } from "./_doc_blocks.ts";
import { runtime, until, withDeadline } from "../helpers/server.ts";
import { freePort } from "../helpers/redis.ts";
import { buildIfNeeded } from "../helpers/node_process.ts";
import { bundleWorker, startWorkerd, stopWorkerd } from "../helpers/workerd.ts";
import { after, before, describe, it } from "../helpers/timed.ts";

const bin = (name: string) => `${root}node_modules/.bin/${name}`;
const dir = `${root}tests/packaging/.blocks-${runtime}`;
// DOC_BLOCK=README.md:40 checks the blocks whose name starts so (while editing the docs).
const only = process.env.DOC_BLOCK ?? "";
const all = docBlocks().filter((block) => block.name.startsWith(only));
const blocks = all.filter((block) => block.runtimes.includes(runtime));
// Node servers (js blocks) run once, under `deno test`, on the built package, as tests/http/node_test.ts does.
const nodeBlocks = runtime === "deno" ? all.filter((block) => block.runtimes.includes("node")) : [];
// Worker blocks (run with `wrangler dev`) also run on workerd, once, under `deno test`.
const workerBlocks = runtime === "deno" ? all.filter((block) => block.worker) : [];

interface Started {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

function start(command: string, args: string[], env: Record<string, string> = {}): Started {
  const child = spawn(command, args, {
    cwd: root,
    env: { ...process.env, NO_COLOR: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const take = (chunk: Uint8Array) => (output += new TextDecoder().decode(chunk));
  child.stdout!.on("data", take);
  child.stderr!.on("data", take);
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code) => resolve(code));
    child.once("error", (error) => {
      output += String(error);
      resolve(-1);
    });
  });
  return { child, output: () => output, exited };
}

// `deno serve` waits for open responses on SIGTERM, and an event stream never ends: SIGKILL follows.
// It goes through process.kill, since Deno's child.kill sends nothing after a first signal (2.9).
async function stop(started: Started): Promise<void> {
  if (started.child.exitCode !== null || started.child.pid === undefined) return;
  started.child.kill("SIGTERM");
  try {
    await withDeadline(started.exited, 1500, "a process to exit on SIGTERM");
  } catch {
    process.kill(started.child.pid, "SIGKILL");
    await withDeadline(started.exited, 5000, "a process to exit on SIGKILL");
  }
}

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
  const paths: Record<string, string[]> = {};
  for (const name of ["sse-hub", "@sse-hub/sse-hub"]) {
    paths[name] = [`${root}mod.ts`];
    paths[`${name}/redis`] = [`${root}redis.ts`];
    if (existsSync(`${root}client.ts`)) paths[`${name}/client`] = [`${root}client.ts`];
  }
  return {
    extends: "../../../tsconfig.json",
    compilerOptions: { paths, moduleDetection: "force" },
    include: [],
    files: files.map((block) => block.fileName),
  };
}

function waitForPort(port: number, server: Started): Promise<void> {
  const deadline = Date.now() + 30_000;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve();
      });
      socket.once("error", () => {
        socket.destroy();
        if (server.child.exitCode !== null) reject(new Error(`the server exited:\n${server.output()}`));
        else if (Date.now() > deadline) reject(new Error(`nothing listened on ${port}:\n${server.output()}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

// `curl` as the reader would type it, plus: quiet but for errors, bounded, and (for a request that
// is not a stream) failing on an HTTP error status.
function curl(command: string, stream: boolean): Started {
  const flags = stream ? "-sS --max-time 20" : "-sS --fail-with-body --max-time 10";
  return start("sh", ["-c", command.replace(/^curl /, `exec curl ${flags} `)]);
}

/** A server under test: where it listens, what it printed, how to end it. */
interface Launched {
  port: number;
  output(): string;
  stop(): Promise<void>;
}

// The block as a process of the runtime it is for (Node for a js block), on a free port.
async function launchProcess(block: DocBlock): Promise<Launched> {
  const port = await freePort();
  const file = `${dir}/run-${block.fileName}`;
  writeFileSync(file, withPort(block.code, block.port, port));
  const config = ["--allow-all", "--config", `${root}deno.json`];
  const [command, args] = block.lang === "js"
    ? ["node", [file]]
    : runtime === "bun"
    ? [bin("bun"), ["run", file]]
    : block.server === "serve-call"
    ? [bin("deno"), ["run", ...config, file]]
    : [bin("deno"), ["serve", ...config, "--host", "127.0.0.1", "--port", `${port}`, file]];
  const server = start(command, args, { PORT: `${port}` });
  try {
    await waitForPort(port, server);
  } catch (error) {
    await stop(server);
    throw error;
  }
  return { port, output: server.output, stop: () => stop(server) };
}

// A Worker block on workerd, bundled as `wrangler dev` would (one ES module, the package inlined).
async function launchWorkerd(block: DocBlock): Promise<Launched> {
  const work = `${dir}/workerd-${block.fileName.replace(/\.ts$/, "")}`;
  mkdirSync(work, { recursive: true });
  writeFileSync(`${work}/worker.ts`, block.code);
  writeFileSync(`${work}/tsconfig.json`, JSON.stringify({ compilerOptions: bunConfig([]).compilerOptions }));
  await bundleWorker(`${work}/worker.ts`, `${work}/worker.js`);
  writeFileSync(
    `${work}/config.capnp`,
    `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [(name = "main", worker = .worker)],
  sockets = [(name = "http", address = "127.0.0.1:0", http = (), service = "main")],
);
const worker :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "worker.js")],
  compatibilityDate = "2026-01-01",
);
`,
  );
  const server = await startWorkerd(`${work}/config.capnp`);
  return {
    port: Number(new URL(server.url).port),
    output: server.log,
    stop: () => stopWorkerd(server, "SIGKILL"),
  };
}

async function tryServer(block: DocBlock, launch: (block: DocBlock) => Promise<Launched>): Promise<void> {
  assert.ok(
    block.tries.length > 0,
    `${block.name} starts a server but shows no "// $ curl …" line to try it`,
  );
  const server = await launch(block);
  const port = server.port;
  const streams: [Started, string[]][] = [];
  try {
    for (const t of block.tries.filter((t) => t.stream)) {
      const stream = curl(withPort(t.command, block.port, port), true);
      streams.push([stream, t.expect]);
      // The head (an opening comment or a retry hint) says the stream is subscribed.
      await until(() => stream.output().length > 0, `${t.command} to open`, 10_000);
    }
    for (const t of block.tries.filter((t) => !t.stream)) {
      const request = curl(withPort(t.command, block.port, port), false);
      const code = await withDeadline(request.exited, 15_000, t.command);
      assert.equal(code, 0, `${t.command} failed (${code}):\n${request.output()}`);
      for (const line of t.expect) {
        assert.ok(
          printed(request.output(), line),
          `${t.command} printed:\n${request.output()}\nnot: ${line}`,
        );
      }
    }
    for (const [stream, expect] of streams) {
      for (const line of expect) {
        await until(
          () => printed(stream.output(), line),
          `"${line}" on the stream; it printed:\n${stream.output()}`,
        );
      }
    }
  } catch (error) {
    throw new Error(`${block.name}: ${(error as Error).message}\nserver output:\n${server.output()}`);
  } finally {
    await Promise.all(streams.map(([stream]) => stop(stream)));
    await server.stop();
  }
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
