// Shutdown under load: `hub.close()` while many clients are connected and a loop keeps
// publishing. Every client gets every event published before the close, in order and once,
// then the last event, then the end of its stream; nothing is left running and nothing
// rejects unhandled.
import { describe, it } from "../helpers/timed.ts";
import assert from "node:assert/strict";
import { Hub, HubError } from "../../mod.ts";
import type { DecodedEvent, HubMessage } from "../../mod.ts";
import { SseClient } from "../helpers/client.ts";
import { rawRequest } from "../helpers/raw.ts";
import { delay, serve, until, withDeadline } from "../helpers/server.ts";
import { watchUnhandled } from "../helpers/unhandled.ts";

const TOPICS: readonly string[] = ["a", "b", "c"];

describe("Hub.close under load", () => {
  it("Hub.close gives 60 HTTP and 6 in-process subscribers every event published before it, once and in order, then the last event, then the end", async () => {
    const watch = watchUnhandled();
    const hub = new Hub<string>({ keepAlive: 20, retry: 1000 });
    const server = serve((request) => {
      const topics = new URL(request.url).searchParams.getAll("topic");
      return hub.response(request, { topics });
    });
    // Subscribers of one topic, and of two.
    const follows = Array.from(
      { length: 60 },
      (_, i) => i % 4 === 3 ? [TOPICS[i % 3]!, TOPICS[(i + 1) % 3]!] : [TOPICS[i % 3]!],
    );
    const clients = await Promise.all(
      follows.map((topics) =>
        SseClient.connect(`${server.url}/?${topics.map((t) => `topic=${t}`).join("&")}`)
      ),
    );
    const inProcess = TOPICS.flatMap((topic) =>
      [0, 1].map(() => ({ topic, seen: [] as HubMessage<string>[], done: false }))
    );
    const readers = inProcess.map(async (subscriber) => {
      for await (const message of hub.subscribe(subscriber.topic, { bufferMessages: 1_000_000 })) {
        subscriber.seen.push(message);
      }
      subscriber.done = true;
    });
    await until(() => hub.size === 66, "66 subscribers");

    // Three publishers: a tight synchronous burst per macrotask, an async loop, and publishAsync.
    const published: { topic: string; id: string; data: string }[] = [];
    const refusals: unknown[] = [];
    let stop = false;
    const record = (topic: string, data: string, id: string) => published.push({ topic, id, data });
    const burst = setInterval(() => {
      for (let i = 0; i < 20; i++) {
        const topic = TOPICS[i % 3]!;
        const data = `burst ${published.length}\nline two`;
        try {
          record(topic, data, hub.publish(topic, data).id);
        } catch (error) {
          refusals.push(error);
          return;
        }
      }
    }, 1);
    const loops = [false, true].map(async (useAsync) => {
      for (let n = 0; !stop; n++) {
        const topic = TOPICS[n % 3]!;
        const data = `${useAsync ? "async" : "loop"} ${n}`;
        try {
          const result = useAsync ? await hub.publishAsync(topic, data) : hub.publish(topic, data);
          record(topic, data, result.id);
        } catch (error) {
          refusals.push(error);
          return;
        }
        await delay(0);
      }
    });

    await until(() => published.length >= 3000, "3000 events published");
    hub.close({ event: { event: "shutdown", data: "bye" }, retry: 30_000 });
    const closedAt = published.length;
    await delay(20); // the publishers run into the closed hub
    stop = true;
    clearInterval(burst);
    await Promise.all(loops);

    // Nothing was published after the close; every publisher was refused with HubError closed.
    assert.equal(published.length, closedAt);
    assert.ok(refusals.length >= 1);
    for (const error of refusals) {
      assert.ok(error instanceof HubError && error.type === "closed", String(error));
    }
    assert.equal(new Set(published.map((p) => p.id)).size, published.length, "every id is unique");

    for (const [i, client] of clients.entries()) {
      const events = await withDeadline(client.end(30_000), 30_000, `client ${i} to end`);
      const expected: DecodedEvent[] = published
        .filter((p) => follows[i]!.includes(p.topic))
        .map((p) => ({ event: "message", data: p.data, id: p.id }));
      const last = events.pop();
      assert.deepEqual(events, expected, `client ${i} got exactly what was published to it, once, in order`);
      // The last event carries no id: the client keeps the id of the last event it got.
      assert.deepEqual(last, {
        event: "shutdown",
        data: "bye",
        id: expected.at(-1)?.id ?? "",
        retry: 30_000,
      });
      assert.equal(client.error, undefined);
    }
    await Promise.all(readers);
    for (const subscriber of inProcess) {
      assert.ok(subscriber.done);
      assert.deepEqual(
        subscriber.seen.map((m) => m.id),
        published.filter((p) => p.topic === subscriber.topic).map((p) => p.id),
      );
    }
    const stats = hub.stats();
    assert.equal(stats.subscribers, 0);
    assert.equal(stats.timers, 0);
    console.log(`closed after ${closedAt} events; ${refusals.length} publishes refused after the close`);
    await server.close(); // resolves only once every response has ended
    await watch.assertNone();
  });

  it("Hub.close refuses what comes after it: requests get 204, publishes and subscribes throw, a second close does nothing", async () => {
    const watch = watchUnhandled();
    const hub = new Hub<string>();
    const server = serve((request) => hub.response(request, { topics: "t" }));
    const client = await SseClient.connect(`${server.url}/`);
    await until(() => hub.size === 1, "a subscriber");
    hub.close();
    hub.close({ event: { data: "ignored" } });
    assert.deepEqual(await client.end(), []);
    const late = await fetch(`${server.url}/`);
    assert.equal(late.status, 204);
    await late.body?.cancel();
    assert.throws(() => hub.publish("t", "x"), { name: "HubError", type: "closed" });
    assert.throws(() => hub.subscribe("t"), { name: "HubError", type: "closed" });
    await assert.rejects(async () => await hub.publishAsync("t", "x"), { name: "HubError", type: "closed" });
    await server.close();
    await watch.assertNone();
  });

  for (const overflow of ["close", "drop"] as const) {
    it(`Hub.close ends the streams of clients that stopped reading, so the server can shut down (overflow "${overflow}")`, async () => {
      const watch = watchUnhandled();
      const hub = new Hub<string>({ keepAlive: false, overflow });
      const server = serve((request) => hub.response(request, { topics: "t" }));
      const stalled = await Promise.all(
        Array.from(
          { length: 10 },
          () => rawRequest(server.url, "GET / HTTP/1.1\r\nHost: x", { pause: true }),
        ),
      );
      await until(() => hub.size === 10, "10 subscribers");
      const payload = "z".repeat(64 * 1024);
      for (let i = 0; i < 200; i++) hub.publish("t", payload); // 12.8 MB each: far past their budget
      hub.close({ event: { data: "bye" } });
      try {
        await withDeadline(server.close(), 15_000, "the server to shut down with stalled clients");
      } finally {
        for (const client of stalled) client.socket.destroy();
      }
      await watch.assertNone();
    });
  }
});
