// sse-hub's client entry (client.ts) bundled by scripts/client_size.mjs (bun build --minify),
// run under Node: the file a browser or Node would load, and the script's size report.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));

export interface ClientBundle {
  /** The bundle's path (an ES module): `dir/client.mjs`. */
  path: string;
  /** Its text. */
  code: string;
  /** "client.ts: N bytes min, N bytes min+gzip" */
  report: string;
}

export function buildClientBundle(dir: string): ClientBundle {
  const path = join(dir, "client.mjs");
  const run = spawnSync("node", ["scripts/client_size.mjs", "--out", path], { cwd: root, encoding: "utf8" });
  assert.equal(run.status, 0, `scripts/client_size.mjs failed: ${run.stderr}`);
  return { path, code: readFileSync(path, "utf8"), report: run.stdout.trim() };
}
