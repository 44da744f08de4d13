// One bridged hub on a real Redis, as the Redis bridge tests build it: a RedisBridge over a
// client pair of one library, a Hub, and an in-process subscriber that records what it gets.
import { Hub, RedisBridge } from "../../mod.ts";
import type { HubMessage, HubOptions, RedisBridgeOptions } from "../../mod.ts";
import { SseClient } from "../helpers/client.ts";
import type { ClientKind, ClientPair } from "../helpers/redis.ts";
import { serve, until, withDeadline } from "../helpers/server.ts";
import type { TestServer } from "../helpers/server.ts";

export type BridgeEvent =
  | { type: "error"; error: unknown }
  | { type: "gap"; from?: string; reason: string };

export interface Instance {
  hub: Hub<unknown>;
  bridge: RedisBridge;
  pair: ClientPair;
  /** Everything the hub fanned out to an in-process subscriber of `topics`. */
  received: HubMessage<unknown>[];
  events: BridgeEvent[];
  /** Another in-process subscriber of `topics`, recording into a list of its own. */
  subscribe(topics?: string[]): HubMessage<unknown>[];
  /** A real SSE client of the instance's HTTP server (started on first use), on `topics`. */
  sse(init?: RequestInit): Promise<SseClient>;
  close(): Promise<void>;
}

export interface InstanceOptions extends Partial<RedisBridgeOptions> {
  /** Connect the subscriber through another URL (a proxy). */
  subscriberUrl?: string;
  topics?: string[];
  hub?: HubOptions;
}

export async function instance(
  kind: ClientKind,
  url: string,
  options: InstanceOptions = {},
): Promise<Instance> {
  const { subscriberUrl, topics = ["a"], hub: hubOptions, ...bridgeOptions } = options;
  const pair = await kind.connect(url, subscriberUrl);
  const bridge = new RedisBridge({ client: pair.client, subscriber: pair.subscriber, ...bridgeOptions });
  const events: BridgeEvent[] = [];
  const hub = new Hub<unknown>({ bridge, onBridgeEvent: (event) => events.push(event), ...hubOptions });
  const subscribe = (list = topics): HubMessage<unknown>[] => {
    const received: HubMessage<unknown>[] = [];
    const reader = hub.subscribe(list, { bufferMessages: 100_000 }).getReader();
    void (async () => {
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true as const }));
        if (done) return;
        received.push(value);
      }
    })();
    return received;
  };
  let server: TestServer | undefined;
  const clients: SseClient[] = [];
  const sse = async (init?: RequestInit): Promise<SseClient> => {
    server ??= serve((request) => hub.response(request, { topics }));
    const client = await SseClient.connect(`${server.url}/`, init);
    clients.push(client);
    return client;
  };
  let closed: Promise<void> | undefined;
  return {
    hub,
    bridge,
    pair,
    received: subscribe(),
    events,
    subscribe,
    sse,
    close: () =>
      closed ??= (async () => {
        for (const client of clients) await client.close();
        hub.close();
        await server?.close();
        await bridge.close().catch(() => {});
        await pair.close();
      })(),
  };
}

/** Waits until every bridge is live (`ready`), then until a probe publish has been fanned out on each. */
export async function ready(...instances: Instance[]): Promise<string> {
  await withDeadline(
    Promise.all(instances.map(({ bridge }) => bridge.ready)),
    10_000,
    "the bridges to be ready",
  );
  const before = instances.map(({ hub }) => hub.stats().published);
  const probe = await instances[0]!.hub.publishAsync("ready", "probe");
  await until(
    () => instances.every(({ hub }, i) => hub.stats().published > before[i]!),
    "the probe on every hub",
  );
  return probe.id;
}

export const ids = (messages: readonly { id: string }[]): string[] => messages.map((m) => m.id);

/** What an SSE client got: the ids of its published events, and the reset events' reasons. */
export function seenBy(client: SseClient): { ids: string[]; resets: string[] } {
  const ids: string[] = [];
  const resets: string[] = [];
  for (const event of client.buffered) {
    if (event.event === "sse-hub:reset") resets.push((JSON.parse(event.data) as { reason: string }).reason);
    else if (event.event === "message") ids.push(event.id);
  }
  return { ids, resets };
}
