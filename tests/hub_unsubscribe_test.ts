// Every way a subscription ends, each proven on its own: a test here fails when its one path
// is removed, whatever the other paths do. Over real sockets a disconnect may come through
// the stream's cancel (or, on workerd, request.signal), each hiding the other; these
// tests drive one path and keep the others silent (a body nobody reads is never cancelled; a
// signal nobody aborts never fires).
import { describe, it } from "./helpers/timed.ts";
import assert from "node:assert/strict";
import { Hub } from "../mod.ts";
import { read, SseClient } from "./helpers/client.ts";

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

// Deno.serve (2.x) aborts request.signal after every completed response, and on Bun merely reading
// it costs about 0.6 KB per connection (bench/README.md); both call the stream's cancel on a
// disconnect (tests/http/hub_test.ts), so the hub reads request.signal only on other runtimes
// (workerd: tests/http/workers_test.ts disconnects a real client).
describe("Hub.response on Deno and Bun", () => {
  it("Hub.response never reads request.signal, and a cancelled body still unsubscribes", async () => {
    let reads = 0;
    class CountingRequest extends Request {
      override get signal(): AbortSignal {
        reads++;
        return super.signal;
      }
    }
    const hub = new Hub<string>({ keepAlive: 20 });
    const response = await hub.response(new CountingRequest("http://x/"), { topics: "t" });
    hub.publish("t", "one");
    await response.body!.cancel();
    assertEmpty(hub);
    assert.equal(reads, 0);
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
