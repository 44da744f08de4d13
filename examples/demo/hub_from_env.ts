// The one place the demo builds its hub. For now an in-memory hub; with a `REDIS_URL` this is
// where a Redis bridge will be attached, so every demo process shares topics and history.
import { Hub } from "@sse-hub/sse-hub";

/**
 * Builds the demo's hub from environment variables.
 *
 * @param env The process environment (`Deno.env.toObject()`, `process.env`).
 * @returns The hub; its payloads are the published strings.
 */
export function createHubFromEnv(env: Record<string, string | undefined>): Promise<Hub<string>> {
  void env; // REDIS_URL: not yet
  // retry: browsers reconnect after 1 s (instead of ~3 s) and resume with Last-Event-ID.
  return Promise.resolve(new Hub<string>({ retry: 1000 }));
}
