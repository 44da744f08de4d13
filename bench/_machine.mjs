// What bench/run.mjs measured on: the machine, the runtimes' versions, and the source state
// (commit, dirty flag, and a hash of mod.ts + src/ as they were: the tree may be dirty).
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { BUN, DENO, root } from "./_harness.mjs";

function version(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: "utf8" }).split("\n")[0].trim();
  } catch {
    return "unavailable";
  }
}

function sourceState() {
  const hash = createHash("sha256");
  const walk = (dir) => {
    const entries = readdirSync(join(root, dir), { withFileTypes: true });
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".ts")) hash.update(path).update(readFileSync(join(root, path)));
    }
  };
  hash.update(readFileSync(join(root, "mod.ts")));
  walk("src");
  let commit = "unknown", dirty = false;
  try {
    const git = (...args) => execFileSync("git", args, { cwd: root, encoding: "utf8" }).trim();
    commit = git("rev-parse", "--short", "HEAD");
    dirty = git("status", "--porcelain", "--", "mod.ts", "src") !== "";
  } catch { /* not a git checkout */ }
  return { commit, dirty, srcSha256: hash.digest("hex").slice(0, 12) };
}

export function machineInfo() {
  return {
    nproc: cpus().length,
    cpu: cpus()[0]?.model ?? "unknown",
    memoryGiB: +(totalmem() / 2 ** 30).toFixed(1),
    kernel: version("uname", ["-r"]),
    deno: version(DENO, ["--version"]),
    bun: version(BUN, ["--version"]),
    node: process.version,
    go: version("go", ["version"]),
    source: sourceState(),
  };
}
