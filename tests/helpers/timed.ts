// node:test's `describe`/`it`/`test`/`before`/`after`, with a deadline on every test and hook.
//
// Why a wrapper: a regression that stops an event from arriving must FAIL, not hang the run.
// Both runtimes honour node:test's per-test `{ timeout }` option (checked on Deno 2.9 and
// Bun 1.4), but neither applies a `describe`'s timeout to the tests inside it, and `deno test`
// has no default timeout at all. So every `it`/`test` registered here gets `{ timeout }` unless
// it sets its own. Override the default with TEST_TIMEOUT_MS (milliseconds).
//
// Skipping: pass `{ skip: "reason" }` when registering (both runtimes report it as skipped).
// Never call `t.skip()` inside a running test: Deno reports that test as passed.
import * as nodeTest from "node:test";
import process from "node:process";

/** The deadline of one test or hook unless it sets its own `timeout`. */
export const TEST_TIMEOUT_MS: number = Number(process.env.TEST_TIMEOUT_MS) > 0
  ? Number(process.env.TEST_TIMEOUT_MS)
  : 60_000;

type Body = (context: nodeTest.TestContext) => unknown;
type Options = nodeTest.TestOptions;
type Register = (name: string, options: Options, fn: Body) => unknown;

function withTimeout(register: Register) {
  function timed(name: string, fn: Body): void;
  function timed(name: string, options: Options, fn: Body): void;
  function timed(name: string, optionsOrFn: Options | Body, maybeFn?: Body): void {
    const [options, fn] = typeof optionsOrFn === "function" ? [{}, optionsOrFn] : [optionsOrFn, maybeFn!];
    register(name, { timeout: TEST_TIMEOUT_MS, ...options }, fn);
  }
  return timed;
}

/** node:test's `it`, with a `TEST_TIMEOUT_MS` deadline unless `options.timeout` is given. */
export const it = withTimeout(nodeTest.it as unknown as Register);
/** node:test's `test`, with a `TEST_TIMEOUT_MS` deadline unless `options.timeout` is given. */
export const test = withTimeout(nodeTest.test as unknown as Register);

type Hook = (fn: () => unknown, options?: { timeout?: number }) => unknown;
const hook = (register: Hook) => (fn: () => unknown, options: { timeout?: number } = {}): void => {
  register(fn, { timeout: TEST_TIMEOUT_MS, ...options });
};

/** node:test's `before`, with a deadline. */
export const before = hook(nodeTest.before as unknown as Hook);
/** node:test's `after`, with a deadline. */
export const after = hook(nodeTest.after as unknown as Hook);

export { describe } from "node:test";
