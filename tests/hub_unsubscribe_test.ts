// Every way a subscription ends, each proven on its own: a test here fails when its one path
// is removed, whatever the other paths do. Over real sockets a disconnect may come through
// either the stream's cancel or request.signal (Bun calls both), each hiding the other; these
// tests drive one path and keep the others silent (a body nobody reads is never cancelled; a
// signal nobody aborts never fires).
import { describe, it } from "./helpers/timed.ts";
import assert from "node:assert/strict";
import { Hub } from "../mod.ts";
import { read, SseClient } from "./helpers/client.ts";
import { runtime } from "./helpers/server.ts";

/** Asserts the hub holds nothing for anyone: no subscriber, no topic, no keep-alive timer. */
function assertEmpty(hub: Hub<string>): void {
  const { subscribers, topics, timers } = hub.stats();
  assert.deepEqual({ subscribers, topics, timers }, { subscribers: 0, topics: 0, timers: 0 });
}

describe("Hub.response unsubscribes through the stream's cancel", () => {
  it("Hub.response unsubscribes when the body is cancelled while the request's signal never aborts", async () => {
    const hub = new Hub<string>({ keepAlive: 20 });
    const neverAborted = new AbortController();
    const response = await hub.response(new Request("http://x/", { signal: neverAborted.signal }), {
      topics: ["a", "b"],
    });
    assert.equal(hub.stats().subscribers, 1);
    assert.equal(hub.stats().timers, 1);
    await response.body!.cancel();
    assertEmpty(hub);
    assert.equal(hub.publish("a", "after").delivered, 0);
    assert.equal(neverAborted.signal.aborted, false);
    hub.close();
  });

  it("Hub.response unsubscribes when a reading client cancels mid-stream", async () => {
    const hub = new Hub<string>({ keepAlive: false });
    const client = SseClient.of(await hub.response(new Request("http://x/"), { topics: "t" }));
    hub.publish("t", "one");
    assert.equal((await client.next(2000)).data, "one");
    await client.close();
    assertEmpty(hub);
    hub.close();
  });
});

// Deno.serve (2.x) aborts request.signal after every completed response, so the hub listens to
// it only elsewhere; on Deno the stream's cancel is the one path (tested above). Not registered
// under `deno test` (neither run nor counted there).
const signalPath = runtime === "deno" ? undefined : describe;
signalPath?.("Hub.response unsubscribes through request.signal (Bun and workerd only)", () => {
  it("Hub.response unsubscribes and ends the stream when request.signal aborts and the body is never read or cancelled", async () => {
    const hub = new Hub<string>({ keepAlive: 20 });
    const client = new AbortController();
    const response = await hub.response(new Request("http://x/", { signal: client.signal }), { topics: "t" });
    hub.publish("t", "queued before the abort");
    assert.equal(hub.stats().subscribers, 1);
    client.abort();
    assertEmpty(hub);
    assert.equal(hub.publish("t", "after").delivered, 0);
    // The stream ended on its own (nobody cancelled it): what was queued, then the end.
    const events = await SseClient.of(response).end(2000);
    assert.deepEqual(events.map((e) => e.data), ["queued before the abort"]);
    hub.close();
  });

  it("Hub.response does not subscribe a client whose request.signal aborted while authorize ran", async () => {
    const client = new AbortController();
    const hub = new Hub<string>({
      keepAlive: 20,
      authorize: async () => {
        client.abort(); // the client leaves while access is being checked
        await Promise.resolve();
        return true;
      },
    });
    const response = await hub.response(new Request("http://x/", { signal: client.signal }), { topics: "t" });
    assertEmpty(hub);
    const reader = SseClient.of(response);
    assert.deepEqual(await reader.end(2000), []);
    assert.equal(reader.text, ":\n\n");
    hub.close();
  });
});

describe("Hub.subscribe unsubscribes through its signal", () => {
  it("Hub.subscribe unsubscribes when its signal aborts, and its stream ends after what was queued", async () => {
    const hub = new Hub<string>({ keepAlive: 20 });
    const controller = new AbortController();
    const stream = hub.subscribe(["a", "b"], { signal: controller.signal });
    hub.publish("a", "before");
    controller.abort();
    assertEmpty(hub);
    assert.equal(hub.publish("a", "after").delivered, 0);
    assert.deepEqual((await read(stream, 10, 2000)).map((m) => m.data), ["before"]);
    hub.close();
  });

  it("Hub.subscribe with an already aborted signal subscribes nothing and returns an ended stream", async () => {
    const hub = new Hub<string>({ keepAlive: 20 });
    const stream = hub.subscribe("t", { signal: AbortSignal.abort() });
    assertEmpty(hub);
    assert.equal(hub.publish("t", "x").delivered, 0);
    assert.deepEqual(await read(stream, 1, 2000), []);
    hub.close();
  });

  it("Hub.subscribe unsubscribes when its stream is cancelled while its signal never aborts", async () => {
    const hub = new Hub<string>({ keepAlive: 20 });
    const neverAborted = new AbortController();
    const stream = hub.subscribe("t", { signal: neverAborted.signal });
    assert.equal(hub.stats().subscribers, 1);
    await stream.cancel();
    assertEmpty(hub);
    hub.close();
  });
});
