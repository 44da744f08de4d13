// examples/frameworks/hono.ts served with Hono's fetch handler by the runtime running the test:
// Deno.serve under `deno test`, Bun.serve under `bun test`.
import { describe, it } from "../helpers/timed.ts";
import assert from "node:assert/strict";
import { Hono } from "hono";
import { compress } from "hono/compress";
import { app, hub } from "../../examples/frameworks/hono.ts";
import { SseClient } from "../helpers/client.ts";
import { runtime, serve, until } from "../helpers/server.ts";
import { frameworkContract, publish } from "./frameworks_contract.ts";

describe(`Hono (examples/frameworks/hono.ts) on ${runtime}`, () => {
  const server = frameworkContract("Hono", () => {
    const server = serve(app.fetch);
    return Promise.resolve({
      url: server.url,
      subscribers: () => Promise.resolve(hub.size),
      close: async () => {
        hub.close();
        await server.close();
      },
    });
  });

  it("Hono's compress() leaves the stream unencoded, even set to compress every type (no-transform)", async () => {
    const { url } = server();
    // The recipe's compress() skips text/event-stream by type; this one would compress anything.
    const everything = new Hono().use(compress({ contentTypeFilter: () => true })).route("/", app);
    const wrapped = serve(everything.fetch);
    try {
      for (const base of [url, wrapped.url]) {
        await until(() => hub.size === 0, "no subscribers left from before");
        const client = await SseClient.connect(`${base}/events/zipped`, {
          headers: { "accept-encoding": "gzip" },
        });
        try {
          assert.equal(client.response.headers.get("content-encoding"), null);
          await until(() => hub.size === 1, "the client to be subscribed");
          const { id } = await publish(base, "zipped", "not compressed");
          assert.deepEqual(await client.next().then((e) => [e.data, e.id]), ["not compressed", id]);
        } finally {
          await client.close();
        }
      }
      // The JSON route next to it is compressed: the middleware is really there.
      const stats = await fetch(`${wrapped.url}/stats`, { headers: { "accept-encoding": "gzip" } });
      assert.equal(stats.headers.get("content-encoding"), "gzip");
      assert.equal(typeof (await stats.json()).published, "number");
    } finally {
      await until(() => hub.size === 0, "the clients to be gone");
      await wrapped.close();
    }
  });
});
