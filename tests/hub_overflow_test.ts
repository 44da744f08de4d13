// The overflow policy, one branch per test: what happens to a subscriber that falls behind by
// more than its budget, for HTTP subscribers (bytes, `bufferBytes`) and in-process ones
// (messages, `bufferMessages`), under "close" and "drop". A response body read no further than
// its opening (a runtime reads that at once) is a client that stops reading, deterministically
// (over sockets the kernel's buffers decide when a queue is full; tests/http/hub_test.ts and
// tests/hardening/slow_clients_test.ts do that too).
// Overflow while an async replay is held is in tests/hardening/slow_clients_test.ts.
import { describe, it } from "./helpers/timed.ts";
import assert from "node:assert/strict";
import { Hub, HubError } from "../mod.ts";
import { read, readOpening, SseClient } from "./helpers/client.ts";

const BUDGET = 64 * 1024;
const PAYLOAD = "p".repeat(16 * 1024);
/** Events of ~16 KiB that fit in a 64 KiB budget behind the first one: 3; the 4th passes it. */
const FITTING = 3;

/** A hub with one subscriber that reads no further than its opening and one that reads everything. */
async function slowAndFast(overflow: "close" | "drop") {
  const hub = new Hub<string>({ overflow, bufferBytes: BUDGET, keepAlive: false });
  const unread = await readOpening(await hub.response(new Request("http://x/"), { topics: "t" }));
  const fast = SseClient.of(await hub.response(new Request("http://x/"), { topics: "t" }));
  return { hub, unread, fast };
}

describe("Hub.response past bufferBytes", () => {
  it('Hub.response closes an HTTP subscriber that passes bufferBytes with HubError slow-subscriber and counts it (overflow "close")', async () => {
    const { hub, unread, fast } = await slowAndFast("close");
    const delivered = [];
    for (let i = 0; i < 8; i++) {
      delivered.push(hub.publish("t", `${i}:${PAYLOAD}`).delivered);
      // The fast client takes each event before the next is published: it never falls behind.
      assert.equal((await fast.next(2000)).data, `${i}:${PAYLOAD}`);
    }
    assert.deepEqual(delivered, [2, 2, 2, 1, 1, 1, 1, 1]);
    const stats = hub.stats();
    assert.equal(stats.slowDisconnects, 1);
    assert.equal(stats.dropped, 0);
    assert.equal(stats.subscribers, 1);
    await assert.rejects(
      read(unread.body!, 10, 2000),
      (error: unknown) => error instanceof HubError && error.type === "slow-subscriber",
    );
    await fast.close();
    hub.close();
  });

  it('Hub.response skips events for an HTTP subscriber past bufferBytes, counts them, and delivers again once it reads (overflow "drop")', async () => {
    const { hub, unread, fast } = await slowAndFast("drop");
    const delivered = [];
    for (let i = 0; i < 8; i++) {
      delivered.push(hub.publish("t", `${i}:${PAYLOAD}`).delivered);
      // The fast client takes each event before the next is published: it never falls behind.
      assert.equal((await fast.next(2000)).data, `${i}:${PAYLOAD}`);
    }
    assert.deepEqual(delivered, [2, 2, 2, 1, 1, 1, 1, 1]);
    const stats = hub.stats();
    assert.equal(stats.dropped, 8 - FITTING);
    assert.equal(stats.slowDisconnects, 0);
    assert.equal(stats.subscribers, 2);
    const slow = SseClient.of(unread);
    assert.deepEqual((await slow.take(FITTING, 2000)).map((e) => e.data.split(":")[0]), ["0", "1", "2"]);
    assert.equal(hub.publish("t", "after").delivered, 2);
    assert.equal((await slow.next(2000)).data, "after");
    assert.equal((await fast.next(2000)).data, "after");
    await Promise.all([slow.close(), fast.close()]);
    hub.close();
  });
});

describe("Hub.subscribe past bufferMessages", () => {
  it('Hub.subscribe errors a subscriber that passes bufferMessages with HubError slow-subscriber and counts it (overflow "close")', async () => {
    const hub = new Hub<number>({ keepAlive: false });
    const slow = hub.subscribe("n", { bufferMessages: 3 });
    const fast = hub.subscribe("n", { bufferMessages: 100 });
    const delivered = [0, 1, 2, 3, 4].map((i) => hub.publish("n", i).delivered);
    assert.deepEqual(delivered, [2, 2, 2, 1, 1]);
    assert.equal(hub.stats().slowDisconnects, 1);
    assert.equal(hub.stats().dropped, 0);
    assert.equal(hub.size, 1);
    await assert.rejects(
      read(slow, 5, 2000),
      (e: unknown) => e instanceof HubError && e.type === "slow-subscriber",
    );
    assert.deepEqual((await read(fast, 5, 2000)).map((m) => m.data), [0, 1, 2, 3, 4]);
    hub.close();
  });

  it('Hub.subscribe skips and counts messages past bufferMessages, and delivers again once it reads (overflow "drop")', async () => {
    const hub = new Hub<number>({ overflow: "drop", keepAlive: false });
    const slow = hub.subscribe("n", { bufferMessages: 2 });
    const delivered = [0, 1, 2, 3, 4].map((i) => hub.publish("n", i).delivered);
    assert.deepEqual(delivered, [1, 1, 0, 0, 0]);
    assert.equal(hub.stats().dropped, 3);
    assert.equal(hub.stats().slowDisconnects, 0);
    assert.equal(hub.size, 1);
    assert.deepEqual((await read(slow, 2, 2000)).map((m) => m.data), [0, 1]);
    hub.publish("n", 9);
    assert.deepEqual((await read(slow, 1, 2000)).map((m) => m.data), [9]);
    hub.close();
  });
});

// docs/guarantees.md, "one pull": a backlog goes out in reads of at most 8 KiB (one bigger event
// on its own), so a runtime that copies what a socket has not taken yet copies at most that much.
describe("Hub.response hands a backlog over in bounded reads", () => {
  it("Hub.response hands a waiting backlog to its reader in chunks of at most 8 KiB, a bigger event alone, every event in order", async () => {
    const hub = new Hub<string>({ keepAlive: false });
    const reader = (await hub.response(new Request("http://x/"), { topics: "t" })).body!.getReader();
    await reader.read(); // the opening comment; nobody reads while the backlog builds
    const sent: string[] = [];
    for (let i = 0; i < 100; i++) sent.push(hub.publish("t", `${i}:${"s".repeat(1000)}`).id);
    sent.push(hub.publish("t", `big:${"b".repeat(20_000)}`).id);
    for (let i = 100; i < 110; i++) sent.push(hub.publish("t", `${i}:${"s".repeat(1000)}`).id);
    const sizes: number[] = [];
    let text = "";
    const decoder = new TextDecoder();
    while (text.split("\n\n").length - 1 < sent.length) {
      const { value } = await reader.read();
      sizes.push(value!.byteLength);
      text += decoder.decode(value);
    }
    const big = sizes.filter((size) => size > 8 * 1024);
    assert.equal(big.length, 1, `one read over 8 KiB (the 20 KB event alone), got ${sizes.join(", ")}`);
    assert.ok(big[0]! < 21_000);
    assert.ok(sizes.length >= 14, `110 events of ~1 KB take at least 14 reads of 8 KiB, got ${sizes.length}`);
    assert.deepEqual([...text.matchAll(/^id: (.*)$/gm)].map((m) => m[1]), sent);
    await reader.cancel();
    hub.close();
  });
});
