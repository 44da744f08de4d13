// A stream whose Last-Event-ID comes from its request replays at the runtime's first read, not
// inside `hub.response`: Deno.serve keeps the whole header list of a request whose headers were
// read before the response was handed over (~0.6 KB per idle connection, `npm run bench`), and
// none of one read after. Until then the stream is subscribed and holds its live events.
import { describe, it } from "../helpers/timed.ts";
import assert from "node:assert/strict";
import { Hub } from "../../mod.ts";
import { SseClient } from "../helpers/client.ts";
import { serve, withDeadline } from "../helpers/server.ts";

/** The request as the hub sees it, noting whether its headers were read. */
function watchedRequest(request: Request): { request: Request; headersRead: () => boolean } {
  let read = false;
  const watched = new Proxy(request, {
    get(target, property) {
      if (property === "headers") read = true;
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { request: watched, headersRead: () => read };
}

/** Publishes `first` and `second` to "t", then answers a request resuming after `first`, unread. */
async function unreadResume(hub: Hub<string>, first: string, second: string): Promise<Response> {
  const id = hub.publish("t", first).id;
  hub.publish("t", second);
  const request = new Request("http://localhost/t", { headers: { "last-event-id": id } });
  return await hub.response(request, { topics: "t" });
}

/** Everything a body sends until it ends, as text. */
async function textOf(response: Response): Promise<string> {
  return await new Response(response.body).text();
}

describe("Hub.response reads Last-Event-ID at the stream's first read", () => {
  it("Hub.response has not read the request's headers when it returns, and the client still gets exactly what it missed", async () => {
    const hub = new Hub<string>({ keepAlive: false });
    const readBeforeReturn: boolean[] = [];
    const server = serve(async (request) => {
      const { request: watched, headersRead } = watchedRequest(request);
      const response = await hub.response(watched, { topics: "t" });
      readBeforeReturn.push(headersRead());
      return response;
    });
    const ids = ["one", "two", "three"].map((data) => hub.publish("t", data).id);
    const client = await SseClient.connect(`${server.url}/events`, { headers: { "last-event-id": ids[0]! } });
    const replayed = await client.take(2, 5000);
    assert.deepEqual(replayed.map((e) => [e.id, e.data]), [[ids[1], "two"], [ids[2], "three"]]);
    const live = hub.publish("t", "four");
    const next = await client.next(5000);
    assert.deepEqual([next.id, next.data], [live.id, "four"]);
    assert.deepEqual(readBeforeReturn, [false]);
    await client.close();
    hub.close();
    await server.close();
  });

  it("Hub.response sends what was published before a stream's first read once, after its replay, in order", async () => {
    const hub = new Hub<string>({ keepAlive: false });
    const response = await unreadResume(hub, "e1", "e2");
    hub.publish("t", "e3"); // held (and in the history the replay reads)
    hub.publish("t", "e4");
    assert.equal(hub.stats().replayed, 0, "nothing is replayed before the first read");
    const client = SseClient.of(response);
    const events = await client.take(3, 5000);
    assert.deepEqual(events.map((e) => e.data), ["e2", "e3", "e4"]);
    assert.equal(hub.stats().replayed, 3);
    hub.publish("t", "e5");
    assert.equal((await client.next(5000)).data, "e5");
    await client.close();
    hub.close();
  });

  it("Hub.close before a stream's first read still sends its opening, its replay, what was held, then the last event", async () => {
    const hub = new Hub<string>({ keepAlive: false });
    const response = await unreadResume(hub, "one", "two");
    hub.publish("t", "three");
    hub.close({ event: { event: "bye", data: "closing" } });
    const text = await withDeadline(textOf(response), 5000, "the stream to end");
    assert.ok(text.startsWith(":"), "the opening comment first");
    const data = [...text.matchAll(/^data: (.*)$/gm)].map((m) => m[1]);
    assert.deepEqual(data, ["two", "three", "closing"]);
    assert.match(text, /event: bye\n/);
  });

  it('Hub.response closes a stream whose held events pass bufferBytes before its first read, even under overflow "drop"', async () => {
    const hub = new Hub<string>({ overflow: "drop", keepAlive: false, bufferBytes: 64 * 1024 });
    const response = await unreadResume(hub, "one", "two");
    const payload = "p".repeat(16 * 1024);
    for (let i = 0; i < 8; i++) hub.publish("t", `${i}:${payload}`); // 128 KiB held
    assert.equal(hub.stats().slowDisconnects, 1);
    assert.equal(hub.stats().dropped, 0, "nothing skipped: a skip would reorder around the replay");
    assert.equal(hub.size, 0);
    await assert.rejects(response.body!.getReader().read(), { name: "HubError", type: "slow-subscriber" });
    hub.close();
  });
});
