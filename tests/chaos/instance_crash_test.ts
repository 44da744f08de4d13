// Fault injection: demo instance A kill -9ed mid-stream and restarted on the same port; its
// eventsource clients reconnect with Last-Event-ID and resume from the Redis stream.
import { describe, it } from "../helpers/timed.ts";
import { assertContract, runQuick } from "./_contract.ts";
import { runtime } from "../helpers/server.ts";

describe(`chaos: an instance crashes and restarts (${runtime} demo processes)`, () => {
  it("RedisBridge lets the clients of a kill -9ed instance resume on its restart with nothing lost or repeated", async () => {
    assertContract(await runQuick("instance-crash"), { resets: "none" });
  });
});
