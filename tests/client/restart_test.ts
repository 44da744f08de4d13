// The client through a server crash: two demo processes bridged by a real redis-server; the
// one the client follows is killed (SIGKILL) mid-stream and started again on the same port,
// while a publisher keeps publishing through the other. Counted: published, delivered, lost,
// duplicated, reordered, resets.
import { describe, it } from "../helpers/timed.ts";
import assert from "node:assert/strict";
import { connect } from "../../client.ts";
import { startDemo } from "../helpers/demo_process.ts";
import type { DemoProcess } from "../helpers/demo_process.ts";
import { record } from "../helpers/connection.ts";
import { freePort, startRedis } from "../helpers/redis.ts";
import { delay, runtime, until, withDeadline } from "../helpers/server.ts";

async function kill(demo: DemoProcess): Promise<void> {
  const exited = new Promise((resolve) => demo.child.once("exit", resolve));
  demo.child.kill("SIGKILL");
  await withDeadline(exited, 10_000, "the demo to die");
}

// The same port again. A port freed a moment ago can be taken for a while by an outgoing
// connection's ephemeral source port (the client's own reconnect attempts use them), so a
// restart that cannot listen yet is tried again (bounded).
async function restartOn(port: string, redisUrl: string): Promise<DemoProcess> {
  for (let attempt = 1;; attempt++) {
    try {
      return await startDemo({ REDIS_URL: redisUrl, TICK_MS: "0", PORT: port });
    } catch (error) {
      if (attempt === 5) throw error;
      await delay(200);
    }
  }
}

describe(`client through a server restart (${runtime})`, () => {
  it("connect resumes on the restarted server with nothing lost, repeated or reordered, and no reset", async () => {
    const redis = await startRedis();
    const port = String(await freePort());
    let followed = await startDemo({ REDIS_URL: redis.url, TICK_MS: "0", PORT: port });
    const publisher = await startDemo({ REDIS_URL: redis.url, TICK_MS: "0" });
    const connection = connect(`${followed.url}/events/crash`, { backoff: { initial: 200, max: 1000 } });
    const recording = record(connection);
    const published: string[] = [];
    let publishing = true;
    const publishLoop = (async () => {
      for (let n = 0; publishing; n++) {
        const response = await fetch(`${publisher.url}/publish`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ topic: "crash", msg: `m${n}` }),
        });
        assert.equal(response.status, 200, await response.clone().text());
        await response.body?.cancel();
        published.push(`m${n}`);
        await delay(10);
      }
    })();
    try {
      await until(() => connection.state === "open", "the first connection");
      await until(() => recording.items.length >= 20, "events before the crash", 15_000);
      await kill(followed);
      await until(() => connection.state === "connecting", "the client to notice");
      await delay(300); // published meanwhile: only the history can bring these back
      followed = await restartOn(port, redis.url);
      await until(() => connection.state === "open", "the client back on the restarted server", 20_000);
      const afterRestart = recording.items.length;
      await until(() => recording.items.length >= afterRestart + 20, "events after the restart", 15_000);
    } finally {
      publishing = false;
      await publishLoop;
    }
    try {
      const total = published.length;
      await until(() => recording.items.length >= total, `all ${total} events`, 15_000);
      await delay(200); // a duplicate would arrive now
      const delivered = recording.items.flatMap((item) => item.type === "event" ? [item.data] : []);
      const resets = recording.items.filter((item) => item.type === "reset").length;
      const seen = new Set(delivered);
      const lost = published.filter((msg) => !seen.has(msg)).length;
      const duplicated = delivered.length - seen.size;
      const reordered = delivered.filter((msg, i) =>
        i > 0 && Number(msg.slice(1)) < Number(delivered[i - 1]!.slice(1))
      ).length;
      const counts = { published: total, delivered: delivered.length, lost, duplicated, reordered, resets };
      console.log(`restart (${runtime}): ${JSON.stringify(counts)}, reconnects ${connection.reconnects}`);
      assert.deepEqual(counts, {
        published: total,
        delivered: total,
        lost: 0,
        duplicated: 0,
        reordered: 0,
        resets: 0,
      });
      assert.ok(connection.reconnects >= 1);
    } finally {
      connection.close();
      await publisher.stop();
      await followed.stop();
      await redis.stop();
    }
  });
});
