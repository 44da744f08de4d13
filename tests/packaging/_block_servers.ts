// Serving a doc block and trying it as its reader would: the block as a process of its runtime
// (or bundled onto workerd), then its `curl` lines, whose output must show the lines it promises.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import process from "node:process";
import { type DocBlock, packagePaths, printed, root, withPort } from "./_doc_blocks.ts";
import { runtime, until, withDeadline } from "../helpers/server.ts";
import { freePort } from "../helpers/redis.ts";
import { bundleWorker, startWorkerd, stopWorkerd } from "../helpers/workerd.ts";

export const bin = (name: string): string => `${root}node_modules/.bin/${name}`;
/** Where the blocks' modules are written while the tests run (one folder per runtime). */
export const dir: string = `${root}tests/packaging/.blocks-${runtime}`;

export interface Started {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

export function start(command: string, args: string[], env: Record<string, string> = {}): Started {
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
export async function stop(started: Started): Promise<void> {
  if (started.child.exitCode !== null || started.child.pid === undefined) return;
  started.child.kill("SIGTERM");
  try {
    await withDeadline(started.exited, 1500, "a process to exit on SIGTERM");
  } catch {
    process.kill(started.child.pid, "SIGKILL");
    await withDeadline(started.exited, 5000, "a process to exit on SIGKILL");
  }
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
export interface Launched {
  port: number;
  output(): string;
  stop(): Promise<void>;
}

// The block as a process of the runtime it is for (Node for a js block), on a free port.
export async function launchProcess(block: DocBlock): Promise<Launched> {
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
export async function launchWorkerd(block: DocBlock): Promise<Launched> {
  const work = `${dir}/workerd-${block.fileName.replace(/\.ts$/, "")}`;
  mkdirSync(work, { recursive: true });
  writeFileSync(`${work}/worker.ts`, block.code);
  writeFileSync(`${work}/tsconfig.json`, JSON.stringify({ compilerOptions: { paths: packagePaths() } }));
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

export async function tryServer(
  block: DocBlock,
  launch: (block: DocBlock) => Promise<Launched>,
): Promise<void> {
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
