// examples/frameworks/oak.ts on its own server (Oak's listen). The npm build of Oak serves through
// Node's http even on Deno (JSR's @oak/oak, which uses Deno.serve, cannot be installed here); it is
// tested on Deno, so under `bun test` this file reports one skipped test.
import { describe, it } from "../helpers/timed.ts";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { runtime, until } from "../helpers/server.ts";
import { frameworkContract } from "./frameworks_contract.ts";

/** A free port: Oak's Node server reports the port it was given, not the one it got for 0. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().once("error", reject).listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

async function accepting(url: string): Promise<boolean> {
  try {
    await (await fetch(`${url}/stats`)).body?.cancel();
    return true;
  } catch {
    return false;
  }
}

if (runtime === "deno") {
  describe("Oak (examples/frameworks/oak.ts, npm build) on deno", () => {
    frameworkContract(
      "Oak",
      async () => {
        const { app, hub } = await import("../../examples/frameworks/oak.ts");
        const port = await freePort();
        const url = `http://127.0.0.1:${port}`;
        const stop = new AbortController();
        // Not awaited: with the Node server, listen() does not settle after the abort either.
        void app.listen({ hostname: "127.0.0.1", port, signal: stop.signal });
        // Its "listen" event comes before node:http listens: wait until a request is answered.
        await until(() => accepting(url), `Oak to accept connections on ${url}`);
        return {
          url,
          subscribers: () => Promise.resolve(hub.size),
          close: async () => {
            hub.close();
            stop.abort(); // closes the node:http server
            await until(async () => !(await accepting(url)), "Oak to stop accepting connections");
          },
        };
      },
      // Oak's Node server stops reading a response whose client left only when a write fails:
      // the hub's next keep-alive (every 4 s; up to 8 s after the last write).
      { leaveMs: 20_000 },
    );
  });
} else {
  // Skipped when registered: a skip from inside a running test is reported by Deno as passed.
  it("Oak (examples/frameworks/oak.ts) is tested on Deno", { skip: "the recipe is Oak on Deno" }, () => {});
}
