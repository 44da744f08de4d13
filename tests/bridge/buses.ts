// The buses the bridge contract suite (contract.ts) runs on: a Redis key on a real redis-server
// (through a TCP proxy, so a test can take the bus down), and a BroadcastChannel name.
import { BroadcastChannelBridge, RedisBridge } from "../../mod.ts";
import type { Bridge } from "../../mod.ts";
import { startRedis, tcpProxy } from "../helpers/redis.ts";
import type { ClientKind, ClientPair, TestRedis } from "../helpers/redis.ts";
import type { BridgeBus, BridgeFixture } from "./contract.ts";

/** Bridges of one client library on one redis-server, one stream key per bus. */
export function redisFixture(kind: ClientKind): BridgeFixture {
  let redis: TestRedis | undefined;
  let keys = 0;
  return {
    before: async () => void (redis = await startRedis({ persistence: false })),
    after: async () => await redis?.stop(),
    bus: async (): Promise<BridgeBus> => {
      const key = `contract-${++keys}`;
      const proxy = await tcpProxy(redis!.port);
      const made: { bridge: RedisBridge; pair: ClientPair }[] = [];
      return {
        async bridge() {
          const pair = await kind.connect(proxy.url);
          const bridge = new RedisBridge({ client: pair.client, subscriber: pair.subscriber, key });
          made.push({ bridge, pair });
          return bridge;
        },
        live: (bridge) => (bridge as RedisBridge).ready,
        async sendGarbage() {
          await redis!.command("PUBLISH", key, "not a message");
          await redis!.command("PUBLISH", key, '99999999999999-0 ["t"]');
          return 2;
        },
        takeDown() {
          proxy.cut();
          return Promise.resolve(() => Promise.resolve(void proxy.restore()));
        },
        listeners: async () => Number(((await redis!.command("PUBSUB", "NUMSUB", key)) as unknown[])[1]),
        async close() {
          for (const { bridge, pair } of made) {
            await bridge.close().catch(() => {});
            await pair.close();
          }
          await proxy.close();
        },
      };
    },
  };
}

/**
 * Bridges on one BroadcastChannel name per bus. Deno 2.9: closing a thread's last
 * BroadcastChannel and opening a new one at once races the old receive loop (later `postMessage`
 * throws "expected i32"), so one channel stays open for the whole suite.
 */
export function broadcastChannelFixture(): BridgeFixture {
  let keeper: BroadcastChannel | undefined;
  let names = 0;
  return {
    before: () => Promise.resolve(void (keeper = new BroadcastChannel("contract-keeper"))),
    after: () => Promise.resolve(keeper?.close()),
    bus: (): Promise<BridgeBus> => {
      const name = `contract-${++names}-${Math.random().toString(36).slice(2)}`;
      const made: Bridge[] = [];
      return Promise.resolve({
        bridge() {
          const bridge = new BroadcastChannelBridge({ name });
          made.push(bridge);
          return Promise.resolve(bridge);
        },
        live: () => Promise.resolve(),
        sendGarbage() {
          const stranger = new BroadcastChannel(name);
          stranger.postMessage({ hello: "world" });
          stranger.postMessage({ sseHub: 1, id: "1-a", topic: "t", data: 5, json: false, origin: "x" });
          stranger.close();
          return Promise.resolve(2);
        },
        // A channel has no outage but its own closing: a closed bridge is a bus that is down.
        async takeDown(bridge) {
          await bridge.close();
          return undefined;
        },
        async close() {
          for (const bridge of made) await bridge.close();
        },
      });
    },
  };
}
