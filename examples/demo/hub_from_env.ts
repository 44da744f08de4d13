// The one place the demo builds its hub: in memory, or, with a `REDIS_URL`, bridged by Redis so
// that every demo process (Deno or Bun, any number) shares topics, ids and replay history.
import { Hub, type HubOptions } from "@sse-hub/sse-hub";
import { connectRedisBridge } from "../scale-out/redis.ts";

/**
 * Builds the demo's hub from environment variables: `REDIS_URL` (e.g. `redis://127.0.0.1:6379`)
 * attaches a {@linkcode RedisBridge} (Bun's built-in client on Bun unless `REDIS_CLIENT=node-redis`,
 * node-redis elsewhere) and
 * resolves once it is subscribed; without it the hub is in memory.
 *
 * @param env The process environment (`Deno.env.toObject()`, `process.env`).
 * @param options More hub options (the presence hooks).
 * @returns The hub; its payloads are the published strings.
 */
export async function createHubFromEnv(
  env: Record<string, string | undefined>,
  options: HubOptions = {},
): Promise<Hub<string>> {
  // retry: browsers reconnect after 1 s (instead of ~3 s) and resume with Last-Event-ID.
  if (!env.REDIS_URL) return new Hub<string>({ retry: 1000, ...options });
  // REDIS_CLIENT=node-redis: node-redis on Bun too (the chaos runner tries both clients there).
  const { bridge } = await connectRedisBridge(
    env.REDIS_URL,
    {},
    env.REDIS_CLIENT === "node-redis" ? "node-redis" : undefined,
  );
  const hub = new Hub<string>({
    ...options,
    retry: 1000,
    bridge,
    onBridgeEvent: (event) =>
      console.error(
        event.type === "gap"
          ? `bridge gap after ${event.from ?? "start"}: ${event.reason}${
            event.recovered === false ? " (not recovered: clients get a bus-gap reset)" : ""
          }`
          : `bridge error: ${event.error}`,
      ),
  });
  await bridge.ready;
  return hub;
}
