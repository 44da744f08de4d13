import { describe, it } from "./helpers/timed.ts";
import assert from "node:assert/strict";
import { Hub, HubError } from "../mod.ts";

// The default topic rule, as README and SECURITY.md state it: 1 to 128 of `A-Z a-z 0-9 _ . : -`,
// not starting with `.`, `:` or `-`, and no `..` anywhere.
const valid = ["a", "_", "a.b", "a.b.c", "room:42", "a-b_c", "a.", "x".repeat(128), "__proto__"];
const invalid = [
  "",
  ".a",
  ":a",
  "-a",
  "a..b",
  "a...b",
  "a..",
  "x".repeat(127) + "..",
  "a/b",
  "a b",
  "é",
  "x".repeat(129),
];

describe("topic names", () => {
  it("Hub.publish accepts every topic the default rule allows", () => {
    const hub = new Hub<string>();
    for (const topic of valid) assert.equal(hub.publish(topic, "x").topic, topic);
    hub.close();
  });

  it("Hub.publish refuses with HubError invalid-topic every topic the default rule forbids, `..` included", () => {
    const hub = new Hub<string>();
    for (const topic of invalid) {
      assert.throws(
        () => hub.publish(topic, "x"),
        (error: unknown) => error instanceof HubError && error.type === "invalid-topic",
        JSON.stringify(topic),
      );
    }
    assert.equal(hub.stats().published, 0);
    hub.close();
  });

  it("Hub.response answers 400 to a topic with `..` and subscribes nothing", async () => {
    const hub = new Hub<string>();
    const response = await hub.response(new Request("http://localhost/events"), { topics: ["ok", "a..b"] });
    assert.equal(response.status, 400);
    assert.match(await response.text(), /a\.\.b/);
    assert.equal(hub.stats().subscribers, 0);
    hub.close();
  });
});
