// What one replay request costs Redis, by Redis's own accounting (SLOWLOG with every command
// logged): 10,000 events of 4 KiB on a busy topic, and a client of a quiet topic resuming with an
// old id or a forged one. No single call may do unbounded work (Redis runs one command or script
// at a time, so a long one stalls every instance): every stream read inside a script has a COUNT of
// at most 100, and a script makes at most 3 of them (a probe, or one page). An id the stream
// cannot vouch for must cost one call. The times Redis measured are printed, not asserted (speed
// lives in bench/): here the old single script took 176 ms (a real old id) and 314 ms (a forged one).
import { after, before, describe, it } from "../helpers/timed.ts";
import assert from "node:assert/strict";
import { RedisHistory } from "../../mod.ts";
import { clientKinds, startRedis } from "../helpers/redis.ts";
import type { ClientPair, RespReply, TestRedis } from "../helpers/redis.ts";

const EVENTS = 10_000;
const EVENT_BYTES = 4096;
/** The most entries one stream read may return, and the most reads one script call may make. */
const PAGE = 100;
const READS_PER_CALL = 3;

// Fills the stream with the bridge's entry format, inside Redis (no 40 MB of arguments).
const FILL = `for i = 1, tonumber(ARGV[1]) do
  redis.call('XADD', KEYS[1], '*', 't', ARGV[2], 'm', '["' .. ARGV[2] .. '",null,"' .. string.rep('x', tonumber(ARGV[3])) .. '",0,"fill:' .. i .. '"]')
end
return redis.call('XLEN', KEYS[1])`;

interface Cost {
  commands: number;
  /** XRANGE/XREVRANGE calls the scripts made, and the largest COUNT among them (Infinity: none given). */
  reads: number;
  largestCount: number;
  longestUs: number;
  totalUs: number;
  medianUs: number;
  /** The three longest, µs. */
  top: number[];
}

for (const kind of clientKinds) {
  describe(`RedisHistory with ${kind.name} on a stream of ${EVENTS} × 4 KiB events`, () => {
    let redis: TestRedis;
    let pair: ClientPair;
    let quietId: string;
    let newestId: string;
    const key = "replay-cost";

    // The scripts the client library ran while `run` ran, as Redis timed them (SLOWLOG also lists
    // the commands a script calls; the script's own entry covers them).
    async function cost(run: () => Promise<unknown>): Promise<Cost> {
      await redis.command("SLOWLOG", "RESET");
      await run();
      const log = await redis.command("SLOWLOG", "GET", "-1") as RespReply[][];
      const ours = log.filter((entry) => /^(EVALSHA|EVAL)$/i.test(String((entry[3] as string[])[0])));
      const durations = ours.map((entry) => Number(entry[2]));
      const reads = log.filter((entry) => /^(XRANGE|XREVRANGE)$/i.test(String((entry[3] as string[])[0])));
      const counts = reads.map((entry) => {
        const args = (entry[3] as string[]).map(String);
        const at = args.findIndex((arg) => /^count$/i.test(arg));
        if (at >= 0) return Number(args[at + 1]);
        return args[2] === args[3] ? 1 : Infinity; // `XRANGE key id id`: one exact id, O(log N)
      });
      return {
        commands: ours.length,
        reads: reads.length,
        largestCount: counts.reduce((a, b) => Math.max(a, b), 0),
        longestUs: Math.max(0, ...durations),
        totalUs: durations.reduce((a, b) => a + b, 0),
        medianUs: durations.sort((a, b) => a - b)[Math.floor(durations.length / 2)] ?? 0,
        top: durations.slice(-3).reverse(),
      };
    }

    before(async () => {
      redis = await startRedis({ persistence: false });
      pair = await kind.connect(redis.url);
      await redis.command(
        "XADD",
        key,
        "*",
        "t",
        "quiet",
        "m",
        '["quiet",null,"the last quiet event",0,"q:1"]',
      );
      await redis.command("EVAL", FILL, "1", key, String(EVENTS), "busy", String(EVENT_BYTES));
      const range = await redis.command("XRANGE", key, "-", "+", "COUNT", "1") as [string, string[]][];
      quietId = range[0]![0];
      const last = await redis.command("XREVRANGE", key, "+", "-", "COUNT", "1") as [string, string[]][];
      newestId = last[0]![0];
      await redis.command("CONFIG", "SET", "slowlog-log-slower-than", "0");
      await redis.command("CONFIG", "SET", "slowlog-max-len", "100000");
    });
    after(async () => {
      await pair?.close();
      await redis?.stop();
    });

    it("RedisHistory.since walks a real old id of a quiet topic in short commands", async () => {
      const history = new RedisHistory({ client: pair.client, key, timeout: 10_000 });
      let replay;
      const spent = await cost(async () => (replay = await history.since(["quiet"], quietId)));
      console.log(`${kind.name}: since(quiet, its last id): ${JSON.stringify(spent)}`);
      assert.deepEqual(replay, { entries: [], complete: true, latestId: newestId });
      assertBounded(spent);
      assert.ok(spent.commands >= EVENTS / PAGE, `walked in pages (${spent.commands} commands)`);
    });

    it("RedisHistory.since answers a forged or trimmed-looking id with one short command", async () => {
      const history = new RedisHistory({ client: pair.client, key, timeout: 10_000 });
      const [ms] = quietId.split("-");
      for (const forged of ["1-0", `${ms}-99999`]) {
        let replay;
        const spent = await cost(async () => (replay = await history.since(["quiet"], forged)));
        console.log(`${kind.name}: since(quiet, ${forged}): ${JSON.stringify(spent)}`);
        assert.deepEqual(replay, { entries: [], complete: false, latestId: newestId });
        assertBounded(spent);
        assert.ok(spent.commands <= 2, `${spent.commands} commands (EVALSHA, or EVAL after NOSCRIPT)`);
      }
    });

    it("RedisHistory.since sends at most maxReplayBytes of a busy topic, the newest, complete: false", async () => {
      const history = new RedisHistory({ client: pair.client, key, timeout: 10_000 });
      let replay: Awaited<ReturnType<RedisHistory["since"]>> | undefined;
      const spent = await cost(async () => (replay = await history.since(["busy"], quietId)));
      console.log(`${kind.name}: since(busy, first id): ${JSON.stringify(spent)}`);
      const bytes = replay!.entries.reduce((n, e) => n + e.bytes.byteLength, 0);
      assert.equal(replay!.complete, false);
      assert.ok(bytes <= 1024 * 1024 && bytes > 1024 * 1024 - 4200, `${bytes} bytes`);
      assert.equal(replay!.entries.at(-1)!.id, newestId);
      assertBounded(spent);
    });
  });
}

// Every read a script made was a bounded page, and no script made more than a few.
function assertBounded(spent: Cost): void {
  assert.ok(spent.largestCount <= PAGE, `a stream read took up to ${spent.largestCount} entries`);
  assert.ok(
    spent.reads <= READS_PER_CALL * spent.commands,
    `${spent.reads} reads in ${spent.commands} calls`,
  );
}
