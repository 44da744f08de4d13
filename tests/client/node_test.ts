// The client on Node 20 (which cannot run TypeScript): the bundle a user's bundler would make
// of client.ts, imported by a script run by `node`, against the demo on this test's runtime.
import { describe, it } from "../helpers/timed.ts";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { buildClientBundle } from "../helpers/client_bundle.ts";
import { startDemo } from "../helpers/demo_process.ts";
import { runtime, withDeadline } from "../helpers/server.ts";

// Runs in Node: a private stream with a fresh ticket per connect, a server drop in the middle,
// a POST stream, a stream with no ticket (401), a 204, and a 503 with Retry-After. Prints one JSON line.
const SCRIPT = `
const { connect, ClientError } = await import(process.argv[2]);
const base = process.argv[3];
const post = (path, body) => fetch(base + path, {
  method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body),
}).then((response) => response.json());
const until = async (condition, what) => {
  for (const start = Date.now(); !condition();) {
    if (Date.now() - start > 10000) throw new Error("timed out waiting for " + what);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};
const tokens = [];
const connection = connect(base + "/private/events/node", {
  headers: async () => {
    tokens.push((await post("/private/token", {})).token);
    return { authorization: "Bearer " + tokens.at(-1) };
  },
});
const items = [];
const iterated = (async () => { for await (const item of connection) items.push(item); })();
await until(() => connection.state === "open", "open");
await post("/publish", { topic: "node", msg: "one" });
await until(() => items.length === 1, "one");
await post("/debug/drop", {});
await post("/publish", { topic: "node", msg: "two" });
await until(() => items.length === 2, "two");
const posted = connect(base + "/subscribe", { method: "POST", body: JSON.stringify({ topics: ["node"] }) });
const postedItems = [];
posted.on("message", (data) => postedItems.push(data));
await until(() => posted.state === "open", "the POST stream");
await post("/publish", { topic: "node", msg: "three" });
await until(() => postedItems.length === 1 && items.length === 3, "three");
const refused = connect(base + "/private/events/node");
await refused.closed;
await post("/debug/refuse", { status: 204 });
const noContent = connect(base + "/events/node");
await noContent.closed;
await post("/debug/refuse", { status: 503, retryAfter: 1 });
const delays = [];
const busy = connect(base + "/events/node", { onFailure: ({ delay }) => void delays.push(delay) });
await until(() => busy.state === "open", "the stream after the 503");
busy.close();
connection.close();
posted.close();
await iterated;
console.log(JSON.stringify({
  node: process.version,
  data: items.map((item) => item.data),
  ids: items.map((item) => item.id),
  posted: postedItems,
  tickets: new Set(tokens).size,
  reconnects: connection.reconnects,
  refused: refused.error instanceof ClientError ? refused.error.status : String(refused.error),
  state: connection.state,
  noContent: [noContent.state, noContent.error === undefined, noContent.reconnects],
  delays,
}));
`;

describe(`client on Node 20 against the demo (${runtime})`, () => {
  it("connect (bundled) runs on Node: refreshed tickets, resume after a drop, POST, 401 and 204 stop, 503 waits", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sse-hub-client-node-"));
    const demo = await startDemo({ TICK_MS: "0", DEMO_DEBUG: "1" });
    try {
      const bundle = buildClientBundle(dir);
      writeFileSync(join(dir, "run.mjs"), SCRIPT);
      const child = spawn("node", [join(dir, "run.mjs"), pathToFileURL(bundle.path).href, demo.url], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      child.stdout.on("data", (chunk) => out += chunk);
      child.stderr.on("data", (chunk) => out += chunk);
      const code = await withDeadline(
        new Promise((resolve) => child.once("exit", resolve)),
        30_000,
        "the Node script",
      );
      assert.equal(code, 0, out);
      const result = JSON.parse(out.trim().split("\n").at(-1)!);
      assert.match(result.node, /^v20\./);
      assert.deepEqual(result.data, ["one", "two", "three"]);
      assert.ok(result.ids.every((id: string) => /^\d+$/.test(id)), `${result.ids}`);
      assert.deepEqual(result.posted, ["three"]);
      assert.equal(result.tickets, 2);
      assert.equal(result.reconnects, 1);
      assert.equal(result.refused, 401);
      assert.equal(result.state, "closed");
      assert.deepEqual(result.noContent, ["closed", true, 0]);
      assert.deepEqual(result.delays, [1000]);
    } finally {
      await demo.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
