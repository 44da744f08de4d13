// A client resuming on an instance that has not received its last event yet: it read the event
// from another instance a moment ago, and the channel is still carrying it. Two hubs behind real
// servers, in one thread; a relay between their two channel names holds back what the first
// publishes, so the second receives it only when the test says. Counted per client: events
// delivered, duplicated, resets.
import { after, before, describe, it } from "../helpers/timed.ts";
import assert from "node:assert/strict";
import { BroadcastChannelBridge, Hub } from "../../mod.ts";
import { SseClient } from "../helpers/client.ts";
import { serve, until } from "../helpers/server.ts";
import type { TestServer } from "../helpers/server.ts";

/** Forwards every message between channels `from` and `to`; `hold` keeps `from`'s back until `release`. */
function relay(from: string, to: string) {
  const a = new BroadcastChannel(from);
  const b = new BroadcastChannel(to);
  let held: unknown[] | undefined;
  a.onmessage = (event) => held ? held.push(event.data) : b.postMessage(event.data);
  b.onmessage = (event) => a.postMessage(event.data);
  return {
    hold: () => void (held = []),
    release: () => {
      const kept = held ?? [];
      held = undefined;
      for (const data of kept) b.postMessage(data);
    },
    close: () => (a.close(), b.close()),
  };
}

interface Side {
  hub: Hub<string>;
  server: TestServer;
}

function side(name: string): Side {
  const hub = new Hub<string>({ bridge: new BroadcastChannelBridge({ name }) });
  return { hub, server: serve((request) => hub.response(request, { topics: "t" })) };
}

describe("BroadcastChannelBridge resuming on an instance the channel has not reached yet", () => {
  const name = `resume-${Math.random().toString(36).slice(2)}`;
  let link: ReturnType<typeof relay>;
  let a: Side;
  let b: Side;
  const clients: SseClient[] = [];

  before(() => {
    link = relay(`${name}-a`, `${name}-b`);
    a = side(`${name}-a`);
    b = side(`${name}-b`);
  });
  after(async () => {
    for (const client of clients) await client.close();
    a.hub.close();
    b.hub.close();
    await a.server.close();
    await b.server.close();
    link.close();
  });

  const connect = async (server: TestServer, lastEventId?: string) => {
    const headers: Record<string, string> = lastEventId === undefined ? {} : { "last-event-id": lastEventId };
    const client = await SseClient.connect(`${server.url}/`, { headers });
    clients.push(client);
    return client;
  };

  it("waits for the client's last event, then sends only what follows it: no reset, nothing twice", async () => {
    const first = await connect(a.server);
    link.hold(); // b does not receive a's events for now
    const seen = [];
    for (let i = 0; i < 3; i++) seen.push(await a.hub.publishAsync("t", `seen ${i}`));
    assert.deepEqual((await first.take(3)).map((e) => e.id), seen.map((r) => r.id));

    const subscribers = b.hub.size;
    const resumed = await connect(b.server, seen[2]!.id); // b has never heard of it
    await until(() => b.hub.size === subscribers + 1, "b to take the client");
    link.release(); // now b receives them: they are the client's already
    const next = await a.hub.publishAsync("t", "next");
    const [event] = await resumed.take(1);
    assert.equal(event!.id, next.id);
    assert.equal(event!.data, "next");
    await b.hub.publishAsync("t", "last");
    const [last] = await resumed.take(1);
    assert.equal(last!.data, "last");
    assert.equal(resumed.buffered.length, 0, "nothing twice: the three it had did not come again");
    assert.ok(!resumed.text.includes("sse-hub:reset"), "no reset: nothing was missed");
  });

  it("answers an id that never arrives (forged, far ahead) with a reset after the wait, then goes live", async () => {
    const forged = `${Date.now() + 1e9}-zz`;
    const client = await connect(b.server, forged);
    const [reset] = await client.take(1);
    assert.equal(reset!.event, "sse-hub:reset");
    assert.deepEqual(JSON.parse(reset!.data), { reason: "unknown-id" });
    const live = await a.hub.publishAsync("t", "after the reset");
    const [event] = await client.take(1);
    assert.equal(event!.id, live.id);
  });
});
