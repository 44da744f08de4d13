// Fault injection: every instance's Redis pub/sub connection killed every 100 ms (CLIENT KILL TYPE
// pubsub) while instance B takes publishes and a third instance floods another topic. The demo's
// bridge uses node-redis (Deno, and Bun with REDIS_CLIENT=node-redis) or Bun's RedisClient (Bun).
// The node-redis reconnect race (live messages before "ready") is rare per kill: before its fix,
// 6 s of kills lost events in about half of the runs (the 60 s `npm run chaos` row in every run).
import { describe, it } from "../helpers/timed.ts";
import { assertContract, runQuick } from "./_contract.ts";
import { runtime } from "../helpers/server.ts";

const libraries = runtime === "bun" ? (["node-redis", "bun"] as const) : (["node-redis"] as const);

describe(`chaos: pub/sub connection killed repeatedly (${runtime} demo processes)`, () => {
  for (const library of libraries) {
    it(`RedisBridge (${library}) delivers every acknowledged event to every client once, in order, when its subscriber connection is killed repeatedly`, async () => {
      const seconds = library === "node-redis" ? 6 : 3;
      assertContract(await runQuick("pubsub-kill", { library, seconds }), { resets: "none" });
    });
  }
});
