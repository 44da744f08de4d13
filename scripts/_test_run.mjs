// Running one test file on one runtime, with a deadline, and counting its results from its
// JUnit report: the same way for `npm test` (scripts/test.mjs) and the mutation check
// (scripts/mutation_check.mjs). A tally: { passed, failed, skipped, failures: names, skips: names }.
import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const bin = (name) => join(root, "node_modules", ".bin", name);

const unescape = (text) =>
  text.replace(/&gt;/g, ">").replace(/&lt;/g, "<").replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(
    /&amp;/g,
    "&",
  );

/** Every <testcase> of a JUnit file: its name, and whether it failed or was skipped. */
export function testcases(xml) {
  const cases = [];
  const re = /<testcase\b([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g;
  for (let m; (m = re.exec(xml));) {
    const name = unescape(/\bname="([^"]*)"/.exec(m[1])?.[1] ?? "");
    const classname = unescape(/\bclassname="([^"]*)"/.exec(m[1])?.[1] ?? "");
    const body = m[3] ?? "";
    const failure = /<(failure|error)\b[^>]*?message="([^"]*)"/.exec(body);
    cases.push({
      name,
      classname,
      failed: /<(failure|error)\b/.test(body),
      message: failure ? unescape(failure[2]) : "",
      skipped: /<skipped\b/.test(body),
    });
  }
  return cases;
}

// Deno: every test and step is a <testcase> named by its path ("describe > it"). Only leaves
// are tests. A parent that failed although none of its children did failed on its own: a hook
// (before/after) or its body threw; that counts as one failure.
export function countDeno(xml) {
  const cases = testcases(xml);
  const tally = { passed: 0, failed: 0, skipped: 0, failures: [], skips: [] };
  for (const c of cases) {
    const children = cases.filter((other) => other.name.startsWith(`${c.name} > `));
    if (children.length > 0) {
      if (c.failed && !children.some((child) => child.failed)) {
        tally.failed++;
        tally.failures.push(`${c.name} (hook or describe body: ${c.message.split("\n")[0]})`);
      }
      continue;
    }
    if (c.failed) {
      tally.failed++;
      tally.failures.push(c.name);
    } else if (c.skipped) {
      tally.skipped++;
      tally.skips.push(c.name);
    } else tally.passed++;
  }
  return tally;
}

// Bun: every <testcase> is a leaf. A hook that throws, or an error between tests, leaves the
// tests "passed" in the JUnit file; Bun prints it as "Unhandled error between tests": one
// failure each.
export function countBun(xml, output) {
  const tally = { passed: 0, failed: 0, skipped: 0, failures: [], skips: [] };
  for (const c of testcases(xml)) {
    const name = c.classname ? `${c.classname.split(" > ").reverse().join(" > ")} > ${c.name}` : c.name;
    if (c.failed) {
      tally.failed++;
      tally.failures.push(name);
    } else if (c.skipped) {
      tally.skipped++;
      tally.skips.push(name);
    } else tally.passed++;
  }
  const between = output.split("# Unhandled error between tests").length - 1;
  for (let i = 0; i < between; i++) {
    tally.failed++;
    tally.failures.push("an error between tests (a failing before/after hook, or an unhandled error)");
  }
  return tally;
}

/** Runs a command, echoing its output live; kills its whole process group after `deadline` s. */
export function run(cmd, args, { env = {}, deadline = Infinity, echo = true, cwd = root } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      cwd,
      env: { ...process.env, NO_COLOR: "1", ...env },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true, // its own process group: a kill takes the servers it started with it
    });
    let out = "";
    let killed = false;
    const take = (chunk) => {
      out += chunk;
      if (echo) process.stdout.write(chunk);
    };
    child.stdout.on("data", take);
    child.stderr.on("data", take);
    const timer = Number.isFinite(deadline)
      ? setTimeout(() => {
        killed = true;
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {
          child.kill("SIGKILL");
        }
      }, deadline * 1000)
      : undefined;
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, out, killed });
    });
  });
}

/**
 * Runs one test file on `runtime` ("deno" | "bun") from `cwd`, killed after `deadline` s;
 * `checked`: types were checked already (Deno skips its own check). JUnit goes to `artifacts`.
 */
export async function runFile(
  runtime,
  file,
  { deadline, checked = false, cwd = root, artifacts, env = {}, echo = true },
) {
  const junit = join(artifacts, `${runtime}-${file.replace(/[^\w.-]+/g, "_")}.xml`);
  rmSync(junit, { force: true });
  const args = runtime === "deno"
    ? ["test", "--allow-all", ...(checked ? ["--no-check"] : []), `--junit-path=${junit}`, file]
    : ["test", "--timeout", "120000", "--reporter=junit", `--reporter-outfile=${junit}`, `./${file}`];
  if (echo) process.stdout.write(`\n=== ${runtime} test ${file}\n`);
  const { code, out, killed } = await run(bin(runtime), args, { deadline, cwd, env, echo });
  const xml = existsSync(junit) ? readFileSync(junit, "utf8") : "";
  const tally = runtime === "deno" ? countDeno(xml) : countBun(xml, out);
  if (killed) {
    tally.failed++;
    tally.failures.push(`the run was killed after ${deadline} s (its tests were not counted)`);
  } else if (code !== 0 && tally.failed === 0) {
    tally.failed++;
    tally.failures.push(
      xml === ""
        ? `the run exited with code ${code} and wrote no report (did the file load? see its output)`
        : `the run exited with code ${code} although no test failed (an error outside the tests)`,
    );
  }
  return tally;
}
