// Deno 2.x prints a "legacy behavior" warning when `request.signal` is read for a streaming
// response; the hub relies on the stream's cancel there and never reads it. Runs under Deno only
// (Bun has no such warning): it drives a Deno subprocess.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { runtime } from "../helpers/server.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));

test("Hub.response on Deno.serve never reads request.signal (no legacy-abort warning)", {
  skip: runtime !== "deno" && "Deno only",
}, () => {
  const result = spawnSync(`${root}node_modules/.bin/deno`, [
    "run",
    "-A",
    "tests/fixtures/deno_one_stream.ts",
  ], {
    cwd: root,
    encoding: "utf8",
    timeout: 30_000,
    env: { ...process.env, NO_COLOR: "1" },
  });
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout.trim(), "done");
  assert.doesNotMatch(result.stderr, /signal|legacy/i);
});
}
