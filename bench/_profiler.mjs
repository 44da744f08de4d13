// A V8/JSC CPU profile of this very process through node:inspector (which Deno, Bun
// and Node all provide), written as a .cpuprofile (Chrome DevTools format).
import { writeFileSync } from "node:fs";

/**
 * Starts sampling every `intervalUs` µs.
 * @returns {Promise<(file: string) => Promise<void>>} stops and writes the profile to `file`
 */
export async function startProfiler(intervalUs = 100) {
  const { Session } = await import("node:inspector");
  const session = new Session();
  session.connect();
  const post = (method, params = {}) =>
    new Promise((resolve, reject) =>
      session.post(method, params, (error, result) => (error ? reject(error) : resolve(result)))
    );
  await post("Profiler.enable");
  await post("Profiler.setSamplingInterval", { interval: intervalUs });
  await post("Profiler.start");
  return async (file) => {
    const { profile } = await post("Profiler.stop");
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  };
}
