// examples/frameworks/elysia.ts on its own server (Elysia's listen: Bun.serve). Elysia runs on Bun,
// so under `deno test` this file reports one skipped test.
import { describe, it } from "../helpers/timed.ts";
import assert from "node:assert/strict";
import { runtime } from "../helpers/server.ts";
import { frameworkContract } from "./frameworks_contract.ts";

if (runtime === "bun") {
  describe("Elysia (examples/frameworks/elysia.ts) on bun", () => {
    const server = frameworkContract("Elysia", async () => {
      // Imported here: the recipe is Bun's, and `deno test` only skips this file.
      const { app, hub } = await import("../../examples/frameworks/elysia.ts");
      app.listen({ hostname: "127.0.0.1", port: 0 });
      return {
        url: `http://127.0.0.1:${app.server!.port}`,
        subscribers: () => Promise.resolve(hub.size),
        close: async () => {
          hub.close();
          await app.stop(true);
        },
      };
    });

    it("Elysia passes a bad publish body to publishHandler, which answers 422", async () => {
      const { url } = server();
      const response = await fetch(`${url}/publish`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ topic: "news" }),
      });
      assert.equal(response.status, 422);
      assert.match(await response.text(), /msg/);
    });

    it("Elysia reads a body before a handler it cannot see through unless the route says parse: none", async () => {
      const { Elysia } = await import("elysia");
      const { Hub, publishHandler } = await import("../../mod.ts");
      const hub = new Hub<string>();
      const publish = publishHandler(hub);
      const requestOf = (context: { request: Request }) => context.request; // hides what it uses
      const statuses = [];
      for (const options of [undefined, { parse: "none" as const }]) {
        const app = new Elysia()
          .post("/publish", (context) => publish(requestOf(context)), options)
          .listen({ hostname: "127.0.0.1", port: 0 });
        const response = await fetch(`http://127.0.0.1:${app.server!.port}/publish`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ topic: "news", msg: "hi" }),
        });
        statuses.push([response.status, (await response.json()).error]);
        await app.stop(true);
      }
      hub.close();
      assert.deepEqual(statuses, [[400, "the body could not be read"], [200, undefined]]);
    });
  });
} else {
  // Skipped when registered: a skip from inside a running test is reported by Deno as passed.
  it(
    "Elysia (examples/frameworks/elysia.ts) runs on Bun only",
    { skip: "Elysia serves through Bun.serve" },
    () => {},
  );
}
