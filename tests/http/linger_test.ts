// HubOptions.linger over real HTTP: clients of a lingering hub get every event, once, in
// order, whether events come one per turn (kept back and coalesced) or one at a time with
// quiet gaps (handed over at once). The chunking itself is shown in tests/linger_test.ts.
import { describe, it } from "../helpers/timed.ts";
import assert from "node:assert/strict";
import { Hub } from "../../mod.ts";
import { SseClient } from "../helpers/client.ts";
import { serve, until } from "../helpers/server.ts";
import { tally } from "../bridge/tally.ts";

const byNumber = (a: string, b: string) => Number(a) - Number(b);

describe("Hub linger over HTTP", () => {
  it("Hub with linger 5 delivers every event once and in order to 50 clients, one event per turn and paced", async () => {
    const hub = new Hub<string>({ linger: 5 });
    const server = serve((request) => hub.response(request, { topics: "t" }));
    const clients = await Promise.all(Array.from({ length: 50 }, () => SseClient.connect(`${server.url}/`)));
    await until(() => hub.size === 50, "50 subscribers", 10_000);
    const published: string[] = [];
    for (let i = 0; i < 300; i++) {
      published.push(hub.publish("t", `burst ${i}`).id);
      await new Promise<void>((resolve) => setTimeout(resolve, 0)); // one per turn
    }
    for (let i = 0; i < 5; i++) {
      published.push(hub.publish("t", `paced ${i}`).id);
      await new Promise<void>((resolve) => setTimeout(resolve, 20)); // quiet for whole windows
    }
    for (const client of clients) {
      const events = await client.take(published.length, 10_000);
      const count = tally(published, events.map((event) => event.id!), byNumber);
      assert.deepEqual(count, {
        published: 305,
        delivered: 305,
        lost: 0,
        duplicated: 0,
        reordered: 0,
        resets: 0,
      });
    }
    await Promise.all(clients.map((client) => client.close()));
    hub.close();
    await server.close();
  });
});
