// Fault injection: redis-server kill -9ed mid-stream and restarted, empty (no persistence) or
// from its AOF (appendfsync always). No instance crashes; every acknowledged event reaches every
// client once, or the client gets a reset event saying why.
import { describe, it } from "../helpers/timed.ts";
import assert from "node:assert/strict";
import { assertContract, runQuick } from "./_contract.ts";
import { runtime } from "../helpers/server.ts";

describe(`chaos: redis-server killed and restarted (${runtime} demo processes)`, () => {
  it("RedisBridge loses no acknowledged event silently when Redis restarts empty: a gap it cannot recover is a bus-gap reset", async () => {
    const result = await runQuick("redis-restart-empty");
    assertContract(result);
    for (const [reason, count] of Object.entries(result.resetReasons)) {
      assert.ok(
        ["bus-gap", "unknown-id", "history-exceeded", "history-unavailable"].includes(reason),
        `${count}× reset reason ${reason}`,
      );
    }
  });

  it("RedisBridge delivers every acknowledged event once, in order, when Redis restarts from its AOF", async () => {
    assertContract(await runQuick("redis-restart-aof"));
  });
});
