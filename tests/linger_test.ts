// HubOptions.linger: events published on consecutive turns share one chunk (one socket write),
// a stream that was quiet for a whole window gets its next event at once, and nothing is lost
// or reordered. The mechanism is shown on the exact chunks a body hands its reader; the
// delivery over real HTTP is in tests/http/linger_test.ts.
import { describe, it } from "./helpers/timed.ts";
import assert from "node:assert/strict";
import { Hub, parseEventStream } from "../mod.ts";
import { until } from "./helpers/server.ts";

const LINGER = 40;
const decoder = new TextDecoder();
const turn = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** Whether a pending read was answered within the current turn (handed over) or not (kept back). */
const settledNow = (read: Promise<unknown>) =>
  Promise.race([read.then(() => "handed over"), turn().then(() => "kept back")]);

/** The data of the events in one chunk a body handed its reader. */
const dataOf = (chunk: Uint8Array | undefined): string[] =>
  parseEventStream(decoder.decode(chunk)).map((event) => event.data);

async function subscribed(hub: Hub<string>) {
  const reader = (await hub.response(new Request("http://x/"), { topics: "t" })).body!.getReader();
  assert.equal(decoder.decode((await reader.read()).value), ":\n\n");
  return reader;
}

/** Three events in one window: the hub is busy, so that the next window keeps back. */
async function busyWindow(hub: Hub<string>, reader: ReadableStreamDefaultReader<Uint8Array>) {
  for (const data of ["a1", "a2", "a3"]) {
    const next = reader.read();
    hub.publish("t", data);
    await next;
  }
  await until(() => hub.stats().timers === 0, "the window ends", 2000);
}

/** Blocks the event loop for `ms`: no timer can run meanwhile (a server busy writing). */
function blockLoop(ms: number): void {
  const started = performance.now();
  while (performance.now() - started < ms) { /* busy */ }
}

/** Whether `read` settles within a few microtasks, that is before any timer could run. */
async function settledBeforeAnyTimer(read: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void read.then(() => settled = true);
  for (let i = 0; i < 5; i++) await null;
  return settled;
}

/**
 * After a busy window, "b" goes at once and opens a window that has not started yet (its zero
 * timer has not run), and "c" is kept back: returns the read waiting for "c".
 */
async function keptBack(hub: Hub<string>, reader: ReadableStreamDefaultReader<Uint8Array>) {
  await busyWindow(hub, reader);
  const first = reader.read();
  hub.publish("t", "b");
  await first;
  const next = reader.read();
  hub.publish("t", "c"); // hot: kept back
  assert.equal(await settledBeforeAnyTimer(next), false);
  return { next };
}

describe("Hub linger", () => {
  it("Hub with linger, once events come faster than one per window, hands events of consecutive turns to a waiting reader as one chunk", async () => {
    const hub = new Hub<string>({ linger: LINGER, keepAlive: false });
    const reader = await subscribed(hub);
    // One window of three events: each goes at once (the hub was not busy), and the hub is busy next.
    for (const data of ["a1", "a2", "a3"]) {
      const next = reader.read();
      await turn();
      hub.publish("t", data);
      assert.deepEqual(dataOf((await next).value), [data]);
    }
    await until(() => hub.stats().timers === 0, "the window ends", 2000);
    const first = reader.read();
    hub.publish("t", "b");
    assert.equal(await settledNow(first), "handed over"); // a stream quiet for a window: at once
    assert.deepEqual(dataOf((await first).value), ["b"]);
    const next = reader.read();
    for (const data of ["c", "d", "e"]) {
      await turn();
      hub.publish("t", data);
    }
    assert.deepEqual(dataOf((await next).value), ["c", "d", "e"]); // one chunk, at the window's end
    await until(() => hub.stats().timers === 0, "the linger timer stops once traffic does", 2000);
    const later = reader.read();
    hub.publish("t", "f");
    assert.equal(await settledNow(later), "handed over"); // quiet again: at once
    assert.deepEqual(dataOf((await later).value), ["f"]);
    await reader.cancel();
    hub.close();
  });

  it("Hub with linger keeps nothing back while events come at most one per window", async () => {
    const hub = new Hub<string>({ linger: 5, keepAlive: false });
    const reader = await subscribed(hub);
    for (const data of ["a", "b", "c"]) {
      const next = reader.read();
      hub.publish("t", data);
      assert.equal(await settledNow(next), "handed over");
      assert.deepEqual(dataOf((await next).value), [data]);
      await until(() => hub.stats().timers === 0, "the window ends", 2000);
    }
    await reader.cancel();
    hub.close();
  });

  it("Hub with linger stops keeping back after a window that kept one event back and saw no other: keeping back merged nothing, it only delayed", async () => {
    const hub = new Hub<string>({ linger: LINGER, keepAlive: false });
    const reader = await subscribed(hub);
    await busyWindow(hub, reader);
    const first = reader.read();
    hub.publish("t", "a"); // handed over at once: opens a window
    await first;
    const kept = reader.read();
    await turn(); // the window has started
    hub.publish("t", "b"); // hot: kept back until the window ends, and nothing comes after it
    assert.equal(await settledNow(kept), "kept back");
    assert.deepEqual(dataOf((await kept).value), ["b"]);
    const next = reader.read();
    await turn();
    hub.publish("t", "c");
    assert.equal(await settledNow(next), "handed over");
    assert.deepEqual(dataOf((await next).value), ["c"]);
    await reader.cancel();
    hub.close();
  });

  it("Hub without linger hands each event of consecutive turns to a waiting reader on its own", async () => {
    const hub = new Hub<string>({ keepAlive: false });
    const reader = await subscribed(hub);
    const chunks: string[][] = [];
    for (const data of ["a", "b", "c"]) {
      const next = reader.read();
      await turn();
      hub.publish("t", data);
      chunks.push(dataOf((await next).value));
    }
    assert.deepEqual(chunks, [["a"], ["b"], ["c"]]);
    assert.equal(hub.stats().timers, 0);
    await reader.cancel();
    hub.close();
  });

  it("Hub with linger ends a stream with everything it kept back when it closes", async () => {
    const hub = new Hub<string>({ linger: 200, keepAlive: false });
    const reader = await subscribed(hub);
    await busyWindow(hub, reader);
    const first = reader.read();
    hub.publish("t", "a");
    await first;
    const next = reader.read();
    hub.publish("t", "b"); // kept back for up to 200 ms
    assert.equal(await settledNow(next), "kept back");
    hub.close({ event: { data: "bye" } });
    let text = decoder.decode((await next).value);
    for (let r = await reader.read(); !r.done; r = await reader.read()) text += decoder.decode(r.value);
    assert.deepEqual(parseEventStream(text).map((e) => e.data), ["b", "bye"]);
    assert.equal(hub.stats().timers, 0);
  });

  it("Hub with linger, when a busy loop runs the window's timer late, hands the next event over at once: the publish ends the overdue window", async () => {
    const hub = new Hub<string>({ linger: LINGER, keepAlive: false });
    const reader = await subscribed(hub);
    await busyWindow(hub, reader);
    const first = reader.read();
    hub.publish("t", "b"); // handed over at once: opens a window that starts after this turn
    await first;
    const next = reader.read();
    await turn(); // the window has started (its zero timer ran first) and lasts LINGER ms
    blockLoop(LINGER * 2);
    hub.publish("t", "c");
    assert.ok(await settledBeforeAnyTimer(next), "ended by the publish, not by the late timer");
    assert.deepEqual(dataOf((await next).value), ["c"]);
    await reader.cancel();
    hub.close();
  });

  it("Hub with linger keeps an event back at most `linger` ms, even while the window has not started: another stream's read hands it over", async () => {
    const hub = new Hub<string>({ linger: LINGER, keepAlive: false });
    const reader = await subscribed(hub);
    const other = await subscribed(hub);
    const { next } = await keptBack(hub, reader);
    blockLoop(LINGER * 2);
    for (let r = await other.read();; r = await other.read()) { // the other stream reads
      if (dataOf(r.value).includes("c")) break;
    }
    assert.ok(await settledBeforeAnyTimer(next), "handed over past its deadline, before any timer");
    assert.deepEqual(dataOf((await next).value), ["c"]);
    await Promise.all([reader.cancel(), other.cancel()]);
    hub.close();
  });

  it("Hub with linger keeps an event back at most `linger` ms while another hub of the process writes: a read of that hub's stream hands it over", async () => {
    const hub = new Hub<string>({ linger: LINGER, keepAlive: false });
    const plain = new Hub<string>({ keepAlive: false }); // no linger of its own
    const reader = await subscribed(hub);
    const other = await subscribed(plain);
    const { next } = await keptBack(hub, reader);
    blockLoop(LINGER * 2); // the other hub's writes, say: no timer runs
    const otherRead = other.read(); // the runtime asks the other hub's stream for data
    assert.ok(await settledBeforeAnyTimer(next), "handed over past its deadline, before any timer");
    assert.deepEqual(dataOf((await next).value), ["c"]);
    plain.publish("t", "x");
    assert.deepEqual(dataOf((await otherRead).value), ["x"]);
    await Promise.all([reader.cancel(), other.cancel()]);
    hub.close();
    plain.close();
  });

  it("Hub with linger keeps nothing back while the writes that opened the window are still going on after `linger` ms (the loop is busy writing)", async () => {
    const hub = new Hub<string>({ linger: LINGER, keepAlive: false });
    const reader = await subscribed(hub);
    await busyWindow(hub, reader);
    const first = reader.read();
    hub.publish("t", "b"); // opens a window that starts once this turn's writes are done
    await first;
    blockLoop(LINGER * 2); // still "writing": the window has not started after LINGER ms
    const next = reader.read();
    hub.publish("t", "c");
    assert.ok(await settledBeforeAnyTimer(next), "handed over at once, not kept back behind the writes");
    assert.deepEqual(dataOf((await next).value), ["c"]);
    await reader.cancel();
    hub.close();
  });

  it("Hub refuses a linger that is not a whole number of ms from 0 to 1000", () => {
    for (const linger of [-1, 1.5, 1001, "5", NaN]) {
      assert.throws(() => new Hub({ linger: linger as number }), {
        name: "RangeError",
        message: /`HubOptions.linger` must be milliseconds from 0 to 1000/,
      });
    }
  });
});
