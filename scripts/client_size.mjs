#!/usr/bin/env node
// The size a browser downloads for the client entry (`./client`): bundled and minified by
// `bun build --minify` (from node_modules/.bin), then gzipped (zlib level 9).
//
//   node scripts/client_size.mjs          prints: client.ts: N bytes min, N bytes min+gzip
//   node scripts/client_size.mjs --out x  also writes the bundle to x (an ES module)
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const root = new URL("..", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "sse-hub-client-size-"));
try {
  execFileSync(join(root, "node_modules/.bin/bun"), [
    "build", "--minify", "--target=browser", "--format=esm", `--outfile=${join(dir, "client.js")}`, join(root, "client.ts"),
  ], { stdio: ["ignore", "ignore", "inherit"] });
  const code = readFileSync(join(dir, "client.js"));
  const gzipped = gzipSync(code, { level: 9 }).length;
  const out = process.argv.indexOf("--out");
  if (out !== -1) writeFileSync(process.argv[out + 1], code);
  console.log(`client.ts: ${code.length} bytes min, ${gzipped} bytes min+gzip`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
