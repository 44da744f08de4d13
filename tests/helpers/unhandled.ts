// Watches for unhandled promise rejections and uncaught errors while a test runs.
//
// What each runtime offers (checked on Deno 2.9 and Bun 1.4):
// - Deno: `globalThis` dispatches "unhandledrejection" and "error" events, and node:process
//   emits "unhandledRejection"/"uncaughtException" too; `deno test` also fails the running test.
// - Bun: only node:process emits them (`globalThis` has no "unhandledrejection" event); under
//   `bun test` the runner takes them first and fails the running test.
// So the watch listens on both (each where it exists) and `assertNone` fails the test with
// what was seen; either way a test that causes one cannot pass.
import process from "node:process";
import assert from "node:assert/strict";

export interface UnhandledWatch {
  /** What was seen so far (rejection reasons and uncaught errors, as text). */
  readonly seen: readonly string[];
  /** Lets pending rejections surface (two macrotasks), stops watching, and asserts none were seen. */
  assertNone(): Promise<void>;
  /** Stops watching without asserting (for `finally`). */
  stop(): void;
}

type Target = {
  addEventListener?: (type: string, listener: (event: Event) => void) => void;
  removeEventListener?: (type: string, listener: (event: Event) => void) => void;
};

export function watchUnhandled(): UnhandledWatch {
  const seen: string[] = [];
  const describe = (
    value: unknown,
  ) => (value instanceof Error ? `${value.name}: ${value.message}` : String(value));
  const onRejection = (event: Event) =>
    seen.push(`unhandled rejection: ${describe((event as PromiseRejectionEvent).reason)}`);
  const onError = (event: Event) => seen.push(`uncaught error: ${describe((event as ErrorEvent).error)}`);
  const onProcessRejection = (reason: unknown) => {
    const text = `unhandled rejection: ${describe(reason)}`;
    if (!seen.includes(text)) seen.push(text);
  };
  const onProcessError = (error: unknown) => {
    const text = `uncaught error: ${describe(error)}`;
    if (!seen.includes(text)) seen.push(text);
  };
  const target = globalThis as Target;
  const hasGlobalEvents = "Deno" in globalThis && typeof target.addEventListener === "function";
  if (hasGlobalEvents) {
    target.addEventListener!("unhandledrejection", onRejection);
    target.addEventListener!("error", onError);
  }
  process.on("unhandledRejection", onProcessRejection);
  process.on("uncaughtException", onProcessError);
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    if (hasGlobalEvents) {
      target.removeEventListener!("unhandledrejection", onRejection);
      target.removeEventListener!("error", onError);
    }
    process.off("unhandledRejection", onProcessRejection);
    process.off("uncaughtException", onProcessError);
  };
  return {
    seen,
    stop,
    async assertNone() {
      for (let i = 0; i < 2; i++) await new Promise((resolve) => setTimeout(resolve, 0));
      stop();
      assert.deepEqual(seen, [], `unhandled errors: ${seen.join("; ")}`);
    },
  };
}
