// Deno 2.x prints a "legacy behavior" warning when `request.signal` is read for a streaming
// response; the hub relies on the stream's cancel there and never reads it. It drives a Deno
// subprocess, so it is registered under `deno test` only (Bun has no such warning).
import { test } from "../helpers/timed.ts";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { runtime } from "../helpers/server.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));

if (runtime === "deno") {
  test("Hub.response on Deno.serve never reads request.signal (no legacy-abort warning)", () => {
    const args = ["run", "-A", "tests/fixtures/deno_one_stream.ts"];
    const env = { ...process.env, NO_COLOR: "1" };
    const result = spawnSync(`${root}node_modules/.bin/deno`, args, {
      cwd: root,
      encoding: "utf8",
      timeout: 30_000,
      env,
    });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout.trim(), "done");
    assert.doesNotMatch(result.stderr, /signal|legacy/i);
  });
}
