// Every ```ts block of README.md and docs/*.md, with what it needs: the runtimes it is for, whether
// it is a server, and the `curl` lines that try it; and every ```js block that shows curl lines (a
// Node server, run on the built package). A block shows how to try a server in comments:
//
//   // $ curl -N http://127.0.0.1:8000/events      a command (-N: a stream, left open)
//   // > data: {"text":"hi"}                       a line it prints (… matches anything)
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const root: string = fileURLToPath(new URL("../..", import.meta.url));

export type BlockRuntime = "deno" | "bun" | "node";

/** One `curl` line of a block and the lines it must print. */
export interface Try {
  command: string;
  /** `-N`: a stream, opened before the other commands run and read while they do. */
  stream: boolean;
  expect: string[];
}

export interface DocBlock {
  /** `README.md:33`: the file and the line of the opening fence. */
  name: string;
  /** A file name for the block's module: `README.md-L33.ts` (`.mjs` for a js block). */
  fileName: string;
  lang: "ts" | "js";
  code: string;
  /** Deno-only (`Deno.`), Bun-only (`Bun.`, `from "bun"`), or both; a js block: Node. */
  runtimes: BlockRuntime[];
  /** A server calls `Deno.serve`/`Bun.serve` or shows `curl` lines; `export default` ones are served. */
  server: "serve-call" | "default-export" | false;
  tries: Try[];
  /** A Worker: its first line says to run it with `wrangler dev`. */
  worker: boolean;
  /** The port the block's commands use (replaced by a free one when it runs). */
  port: number | undefined;
}

/** The markdown files whose blocks are checked: README.md and docs/*.md. */
export function docFiles(): string[] {
  const docs = readdirSync(`${root}docs`).filter((f) => f.endsWith(".md")).sort().map((f) => `docs/${f}`);
  return ["README.md", ...docs];
}

export function docBlocks(files: string[] = docFiles()): DocBlock[] {
  const blocks: DocBlock[] = [];
  for (const file of files) {
    const text = readFileSync(`${root}${file}`, "utf8");
    for (const match of text.matchAll(/^```(ts|js)\n([\s\S]*?)^```$/gm)) {
      const line = text.slice(0, match.index).split("\n").length;
      const lang = match[1] as "ts" | "js";
      const fileName = `${file.replace("/", "_")}-L${line}.${lang === "ts" ? "ts" : "mjs"}`;
      const block = describeBlock(`${file}:${line}`, fileName, match[2]!, lang);
      if (lang === "ts" || block.tries.length > 0) blocks.push(block);
    }
  }
  return blocks;
}

export function describeBlock(
  name: string,
  fileName: string,
  code: string,
  lang: "ts" | "js" = "ts",
): DocBlock {
  const deno = /\bDeno\./.test(code);
  const bun = /\bBun\.|from "bun"/.test(code);
  if (deno && bun) throw new Error(`${name} uses both Deno and Bun: split it`);
  const tries = parseTries(code);
  const serveCall = /\b(Deno|Bun)\.serve\(/.test(code);
  const server = serveCall ? "serve-call" : tries.length > 0 ? "default-export" : false;
  if (lang === "js") {
    return {
      name,
      fileName,
      lang,
      code,
      runtimes: ["node"],
      server: "serve-call",
      tries,
      worker: false,
      port: portOf(tries),
    };
  }
  if (server === "default-export" && !/^export default\b/m.test(code)) {
    throw new Error(
      `${name} shows curl lines but starts no server (no Deno.serve, Bun.serve or export default)`,
    );
  }
  return {
    name,
    fileName,
    lang: "ts",
    code,
    runtimes: deno ? ["deno"] : bun ? ["bun"] : ["deno", "bun"],
    server,
    tries,
    worker: /wrangler dev/.test(code.split("\n")[0]!) && tries.length > 0,
    port: portOf(tries),
  };
}

function portOf(tries: Try[]): number | undefined {
  const match = tries.map((t) => /\/\/(?:127\.0\.0\.1|localhost):(\d+)/.exec(t.command)).find(Boolean);
  return match ? Number(match[1]) : undefined;
}

function parseTries(code: string): Try[] {
  const tries: Try[] = [];
  for (const line of code.split("\n")) {
    const command = /^\s*\/\/ \$ (curl .*)$/.exec(line);
    const output = /^\s*\/\/ > (.*)$/.exec(line);
    if (command) {
      const text = command[1]!.replace(/\s*&$/, "");
      tries.push({ command: text, stream: /\s-N\b/.test(text), expect: [] });
    } else if (output && tries.length > 0) {
      tries.at(-1)!.expect.push(output[1]!);
    }
  }
  return tries;
}

/** Whether `output` has a line that is `expected`, where `…` stands for anything. */
export function printed(output: string, expected: string): boolean {
  const pattern = expected.split("…").map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".*?");
  return new RegExp(`^${pattern}$`, "m").test(output);
}

/** The block with its documented port replaced by `port` (in `port: N` and in URLs). */
export function withPort(text: string, from: number | undefined, port: number): string {
  if (from === undefined) return text;
  return text.replaceAll(`port: ${from}`, `port: ${port}`).replaceAll(`:${from}/`, `:${port}/`)
    .replace(new RegExp(`:${from}(?=['"\\s]|$)`, "gm"), `:${port}`);
}

/** The package's names mapped to this checkout, as the install lines would (tsconfig `paths`). */
export function packagePaths(): Record<string, string[]> {
  const paths: Record<string, string[]> = {};
  for (const name of ["sse-hub", "@sse-hub/sse-hub"]) {
    paths[name] = [`${root}mod.ts`];
    paths[`${name}/redis`] = [`${root}redis.ts`];
    if (existsSync(`${root}client.ts`)) paths[`${name}/client`] = [`${root}client.ts`];
  }
  return paths;
}
