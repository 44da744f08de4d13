// The Node recipes as real `node` processes: Hono through @hono/node-server
// (examples/frameworks/hono_node.mjs) and srvx (examples/node/server.mjs), each importing the built
// package. They only drive another process, so they run once, under `deno test`; under `bun test`
// this file reports one skipped test.
import { describe, it } from "../helpers/timed.ts";
import assert from "node:assert/strict";
import { SseClient } from "../helpers/client.ts";
import { buildIfNeeded, exited, startNode } from "../helpers/node_process.ts";
import type { NodeProcess } from "../helpers/node_process.ts";
import { runtime, withDeadline } from "../helpers/server.ts";
import { frameworkContract } from "./frameworks_contract.ts";

const recipes = [
  ["Hono on Node (@hono/node-server)", "examples/frameworks/hono_node.mjs"],
  ["srvx on Node", "examples/node/server.mjs"],
] as const;

if (runtime === "deno") {
  for (const [name, script] of recipes) {
    describe(`${name}: node ${script}`, () => {
      let node: NodeProcess | undefined;
      frameworkContract(name, async () => {
        await buildIfNeeded();
        node = await startNode(script);
        const { url } = node;
        return {
          url,
          subscribers: async () => {
            const response = await fetch(`${url}/stats`);
            assert.equal(response.status, 200);
            return (await response.json()).subscribers;
          },
          close: node.stop,
        };
      });

      // (srvx's shutdown is tested by node_test.ts.)
      if (script === "examples/frameworks/hono_node.mjs") {
        it(`${name} ends open streams with a retry hint and exits on its own on SIGTERM`, async () => {
          const { url, child } = node!;
          const client = await SseClient.connect(`${url}/events/bye`);
          await client.textUntil((text) => text.length > 0);
          child.kill("SIGTERM");
          await client.end();
          assert.match(client.text, /retry: 5000\n\n$/);
          await withDeadline(exited(child), 10_000, "node to exit on its own");
        });
      }
    });
  }
} else {
  // Skipped when registered: a skip from inside a running test is reported by Deno as passed.
  it("the Node recipes run under deno test", { skip: "they only drive a node process: run once" }, () => {});
}
