// Lifecycle over real HTTP: onJoin/onLeave with key and request (presence), per-topic counts,
// and keep-alive timers per connection (what a plain Worker needs).
import { describe, it } from "../helpers/timed.ts";
import assert from "node:assert/strict";
import { Hub } from "../../mod.ts";
import type { HubOptions, SubscriberInfo } from "../../mod.ts";
import { SseClient } from "../helpers/client.ts";
import { serve, until } from "../helpers/server.ts";

// GET /events?topic=…&user=… ; the user becomes the subscriber's key.
function start(options: HubOptions = {}) {
  const hub = new Hub<string>(options);
  const server = serve((request) => {
    const url = new URL(request.url);
    const user = url.searchParams.get("user") ?? undefined;
    return hub.response(request, {
      topics: url.searchParams.getAll("topic"),
      ...(user ? { key: user } : {}),
    });
  });
  return {
    hub,
    connect: (query: string) => SseClient.connect(`${server.url}/events?${query}`),
    stop: async () => {
      hub.close();
      await server.close();
    },
  };
}

describe("Hub lifecycle hooks", () => {
  it("Hub calls onJoin and onLeave with the key, topics and request of each HTTP subscriber", async () => {
    const joined: SubscriberInfo[] = [];
    const left: SubscriberInfo[] = [];
    const t = start({ onJoin: (info) => joined.push(info), onLeave: (info) => left.push(info) });
    const ada = await t.connect("topic=lobby&user=ada");
    const bob = await t.connect("topic=lobby&topic=news&user=bob");
    await until(() => joined.length === 2, "two joins");
    assert.deepEqual(joined.map((info) => [info.key, info.topics]), [["ada", ["lobby"]], ["bob", [
      "lobby",
      "news",
    ]]]);
    assert.ok(joined[0]!.request instanceof Request);
    assert.equal(new URL(joined[0]!.request!.url).searchParams.get("user"), "ada");
    assert.equal(t.hub.count("lobby"), 2);
    assert.equal(t.hub.count("news"), 1);
    await ada.close();
    await until(() => left.length === 1, "ada's leave");
    assert.equal(left[0]!.key, "ada");
    assert.equal(t.hub.count("lobby"), 1);
    t.hub.close();
    await until(() => left.length === 2, "bob's leave at close");
    assert.equal(left[1]!.key, "bob");
    assert.equal(t.hub.count("lobby"), 0);
    await bob.end();
    await t.stop();
  });

  it("Hub lets onJoin publish (presence): the newcomer and everyone else get the join event", async () => {
    const t: ReturnType<typeof start> = start({
      onJoin: (info) => t.hub.publish("lobby", `${info.key} joined`, { event: "presence" }),
    });
    const ada = await t.connect("topic=lobby&user=ada");
    assert.equal((await ada.next()).data, "ada joined");
    const bob = await t.connect("topic=lobby&user=bob");
    assert.deepEqual([(await ada.next()).data, (await bob.next()).data], ["bob joined", "bob joined"]);
    await ada.close();
    await bob.close();
    await t.stop();
  });

  it("Hub calls onLeave when a slow subscriber is closed for overflow", async () => {
    const left: SubscriberInfo[] = [];
    const hub = new Hub<string>({ bufferBytes: 64, onLeave: (info) => left.push(info) });
    const slow = hub.subscribe("a", { key: "slow", bufferMessages: 1 });
    for (let i = 0; i < 3; i++) hub.publish("a", `event ${i}`);
    await until(() => left.length === 1, "the leave of the closed subscriber");
    assert.equal(left[0]!.key, "slow");
    await assert.rejects(async () => {
      for await (const _ of slow) { /* drains what was queued, then the overflow error */ }
    });
    hub.close();
  });
});

describe("Hub keepAliveTimer", () => {
  it("Hub with keepAliveTimer per-connection keeps one timer per stream and sends each quiet stream comments", async () => {
    const t = start({ keepAlive: 20, keepAliveTimer: "per-connection" });
    const clients = await Promise.all([1, 2, 3].map(() => t.connect("topic=quiet")));
    await until(() => t.hub.stats().timers === 3, "three timers");
    for (const client of clients) await until(() => client.comments.length >= 3, "keep-alive comments");
    await clients[0]!.close();
    await until(() => t.hub.stats().timers === 2, "the leaver's timer to stop");
    await Promise.all(clients.slice(1).map((client) => client.close()));
    await until(() => t.hub.stats().timers === 0, "no timer left");
    await t.stop();
  });

  it("Hub with the shared keep-alive holds one timer for any number of streams", async () => {
    const t = start({ keepAlive: 20 });
    const clients = await Promise.all([1, 2, 3].map(() => t.connect("topic=quiet")));
    await until(() => t.hub.size === 3, "three subscribers");
    assert.equal(t.hub.stats().timers, 1);
    for (const client of clients) await until(() => client.comments.length >= 3, "keep-alive comments");
    await Promise.all(clients.map((client) => client.close()));
    await until(() => t.hub.stats().timers === 0, "the timer to stop");
    await t.stop();
  });
});
