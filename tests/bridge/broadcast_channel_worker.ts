// A worker with its own hub (bridged by a BroadcastChannel), HTTP server and in-process
// subscriber; the test drives it with postMessage commands. Works on Deno and Bun.
import { BroadcastChannelBridge, Hub } from "../../mod.ts";
import type { HubMessage } from "../../mod.ts";
import { serve } from "../helpers/server.ts";
import type { TestServer } from "../helpers/server.ts";

declare const self: {
  onmessage: ((event: MessageEvent) => void) | null;
  postMessage(message: unknown): void;
};

let hub: Hub<unknown> | undefined;
let server: TestServer | undefined;
const received: HubMessage<unknown>[] = [];

type Command =
  | { call: number; op: "start"; name: string; topics: string[] }
  | { call: number; op: "publish"; topic: string; data: unknown }
  | { call: number; op: "publishAfterSeeing"; topic: string; data: unknown; count: number }
  | { call: number; op: "received" }
  | { call: number; op: "close" };

async function run(command: Command): Promise<unknown> {
  switch (command.op) {
    case "start": {
      hub = new Hub<unknown>({
        bridge: new BroadcastChannelBridge({ name: command.name }),
        keepAlive: false,
      });
      const reader = hub.subscribe(command.topics).getReader();
      void (async () => {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          received.push(value);
        }
      })();
      server = serve((request) => hub!.response(request, { topics: command.topics }));
      return server.url;
    }
    case "publish":
      return await hub!.publishAsync(command.topic, command.data);
    case "publishAfterSeeing": {
      // Publishes once this worker has received `count` events: a causal successor of them.
      while (received.length < command.count) await new Promise((resolve) => setTimeout(resolve, 2));
      return await hub!.publishAsync(command.topic, command.data);
    }
    case "received":
      return received.map(({ id, topic, data }) => ({ id, topic, data }));
    case "close":
      hub?.close();
      await server?.close();
      return null;
  }
}

self.onmessage = (event: MessageEvent) => {
  const command = event.data as Command;
  run(command).then(
    (result) => self.postMessage({ call: command.call, result }),
    (error) => self.postMessage({ call: command.call, error: String(error) }),
  );
};
