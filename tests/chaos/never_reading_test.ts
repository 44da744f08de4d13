// Fault injection: 20 raw TCP clients on instance A send the request and never read, behind the
// Redis bridge, while eventsource clients on A and B must get every event.
import { describe, it } from "../helpers/timed.ts";
import assert from "node:assert/strict";
import { assertContract, runQuick } from "./_contract.ts";
import { runtime } from "../helpers/server.ts";

describe(`chaos: clients that never read (${runtime} demo processes)`, () => {
  it("Hub closes never-reading clients behind a bridge while every other client gets every event", async () => {
    const result = await runQuick("never-reading", { rate: 500 });
    assertContract(result, { resets: "none" });
    assert.equal(result.stats.A?.subscribers, result.clients / 2, "only the reading clients are left on A");
    assert.ok(
      result.stats.A!.slowDisconnects! >= 20,
      `A closed the never-readers: ${JSON.stringify(result.stats.A)}`,
    );
  });
});
