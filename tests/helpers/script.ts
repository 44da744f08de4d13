// Runs a short TypeScript program in a child process of the runtime running the test (Deno
// under `deno test`, Bun under `bun test`), for what only a whole process can show: whether it
// exits on its own (no timer left running) and what it printed.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { runtime, withDeadline } from "./server.ts";

/** `import … from MOD` in a script imports the library's mod.ts. */
export const MOD: string = JSON.stringify(new URL("../../mod.ts", import.meta.url).href);

/**
 * Runs `source` and waits for the process to exit on its own. Rejects (after killing it) when
 * it is still running after `ms`: a timer or handle kept it alive.
 */
export async function runScript(
  source: string,
  ms = 15_000,
): Promise<{ code: number | null; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), "sse-hub-script-"));
  const script = join(dir, "script.ts");
  writeFileSync(script, source);
  try {
    const args = runtime === "deno" ? ["run", "-A", "--quiet", script] : [script];
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout!.on("data", (chunk) => output += chunk);
    child.stderr!.on("data", (chunk) => output += chunk);
    const code = await withDeadline(
      new Promise<number | null>((resolve) => child.on("close", resolve)),
      ms,
      "the child process to exit on its own (a timer left running?)",
    ).catch((error) => {
      child.kill("SIGKILL");
      throw error;
    });
    return { code, output };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
