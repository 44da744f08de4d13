/**
 * Internal: a wait that an abort signal cuts short.
 *
 * @module
 */

/** Resolves after `ms` (at most 2^31 - 1, the longest timer), or at once when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, Math.min(ms, 2 ** 31 - 1));
    signal.addEventListener("abort", done);
  });
}
