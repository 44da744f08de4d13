// Connects a RedisBridge with the Redis client the runtime has: Bun's built-in `RedisClient`
// on Bun, the `redis` npm package (node-redis) elsewhere (Deno, Node). The bridge takes either
// as it is; this file only opens the two connections (commands + a dedicated subscriber).
import { RedisBridge } from "@sse-hub/sse-hub";
import type { RedisBridgeOptions } from "@sse-hub/sse-hub";

// The part of Bun's API used here, declared so that `deno check` passes on this file too.
declare const Bun: {
  RedisClient: new (url: string, options?: { enableOfflineQueue?: boolean; maxRetries?: number }) => {
    send(command: string, args: string[]): Promise<unknown>;
    subscribe(channel: string, listener: (message: string, channel: string) => void): Promise<number>;
    unsubscribe(channel: string): Promise<void>;
    connect(): Promise<void>;
    close(): void;
  };
};

/** A bridge over two fresh connections to `url`, and a way to close them after the hub. */
export interface RedisConnection {
  bridge: RedisBridge;
  /** Which client library is used. */
  library: "bun" | "node-redis";
  /** Stops the bridge and closes both connections. */
  close(): Promise<void>;
}

export async function connectRedisBridge(
  url: string,
  options: Omit<RedisBridgeOptions, "client" | "subscriber"> = {},
  library: "bun" | "node-redis" = ("Bun" in globalThis ? "bun" : "node-redis"),
): Promise<RedisConnection> {
  if (library === "bun") {
    // No offline queue: while Redis is down a publish fails at once (the endpoint answers 503)
    // instead of waiting and going out late. Many retries: Bun gives up after `maxRetries`.
    const client = new Bun.RedisClient(url, { enableOfflineQueue: false, maxRetries: 1_000_000 });
    const subscriber = new Bun.RedisClient(url, { maxRetries: 1_000_000 });
    await Promise.all([client.connect(), subscriber.connect()]);
    const bridge = new RedisBridge({ client, subscriber, ...options });
    return {
      bridge,
      library: "bun",
      close: async () => {
        await bridge.close().catch(() => {});
        client.close();
        subscriber.close();
      },
    };
  }
  const { createClient } = await import("redis");
  const client = createClient({ url, disableOfflineQueue: true });
  const subscriber = client.duplicate();
  // node-redis throws on an "error" event nobody listens to; the bridge reports them once attached.
  for (const c of [client, subscriber]) c.on("error", () => {});
  await Promise.all([client.connect(), subscriber.connect()]);
  const bridge = new RedisBridge({ client, subscriber, ...options });
  return {
    bridge,
    library: "node-redis",
    close: async () => {
      await bridge.close().catch(() => {});
      client.destroy();
      subscriber.destroy();
    },
  };
}
