// The contract every Bridge keeps (src/bridge/bridge.ts), as one suite that each bridge runs
// with a fixture for its bus: a new bus is one file in src/bridge/ plus a ~15-line test file.
// It drives the bridges directly, with recording sinks, the way a Hub does.
import { after, before, describe, it } from "../helpers/timed.ts";
import assert from "node:assert/strict";
import type { Bridge, BridgeMessage, BridgeSink } from "../../mod.ts";
import { delay, until, withDeadline } from "../helpers/server.ts";

/** One bus (a channel name, a Redis key) on which a test makes bridges. */
export interface BridgeBus {
  /** A new bridge on this bus, not started. */
  bridge(): Promise<Bridge>;
  /** Resolves once a started bridge gets everything published from now on. */
  live(bridge: Bridge): Promise<void>;
  /** Puts malformed messages on the bus; resolves with how many it sent. */
  sendGarbage(): Promise<number>;
  /**
   * Makes the bus refuse `bridge`'s publishes. Resolves with a function that brings it back, or
   * undefined when the bus has no way back but a new bridge (a closed BroadcastChannel).
   */
  takeDown(bridge: Bridge): Promise<(() => Promise<void>) | undefined>;
  /** How many bridges still listen on the bus, when the bus can tell (Redis: PUBSUB NUMSUB). */
  listeners?(): Promise<number>;
  /** Closes every bridge it made and what the bus fixture opened. */
  close(): Promise<void>;
}

export interface BridgeFixture {
  /** Once before the suite (start a server). */
  before?(): Promise<void>;
  /** Once after it. */
  after?(): Promise<void>;
  /** A fresh bus for one test. */
  bus(): Promise<BridgeBus>;
}

interface Recording extends BridgeSink {
  messages: BridgeMessage[];
  errors: unknown[];
}

function recording(): Recording {
  const messages: BridgeMessage[] = [];
  const errors: unknown[] = [];
  return {
    messages,
    errors,
    deliver: (message) => void messages.push(message),
    error: (error) => void errors.push(error),
    gap: () => {},
  };
}

let origins = 0;
const message = (topic: string, data: string): Omit<BridgeMessage, "id"> => ({
  topic,
  data,
  json: false,
  origin: `contract:${++origins}`,
});

/** Registers the contract tests for the bridge named `name`. */
export function bridgeContractTests(name: string, fixture: BridgeFixture): void {
  describe(`${name} keeps the Bridge contract`, () => {
    let bus: BridgeBus | undefined;
    if (fixture.before) before(() => fixture.before!());
    if (fixture.after) after(() => fixture.after!());

    // Two started, live bridges on a fresh bus, with their sinks.
    async function two(): Promise<[Bridge, Recording, Bridge, Recording]> {
      await bus?.close();
      bus = await fixture.bus();
      const [a, b] = [await bus.bridge(), await bus.bridge()];
      const [sinkA, sinkB] = [recording(), recording()];
      a.start(sinkA);
      b.start(sinkB);
      await withDeadline(Promise.all([bus.live(a), bus.live(b)]), 10_000, "the bridges to be live");
      return [a, sinkA, b, sinkB];
    }
    after(() => bus?.close());

    it(`${name} gives every instance the event with the id its publish resolved with`, async () => {
      const [a, sinkA, b, sinkB] = await two();
      const sent = [message("t", "from a"), message("u", "from b")];
      const idA = await a.publish({ ...sent[0]!, event: "named" });
      // Not before b has a's event: the order of two publishers is only the bus's to keep.
      await until(() => sinkB.messages.length === 1, "a's event on b");
      const idB = await b.publish(sent[1]!);
      await until(() => sinkA.messages.length === 2 && sinkB.messages.length === 2, "both events on both");
      for (const sink of [sinkA, sinkB]) {
        assert.deepEqual(sink.messages, [{ ...sent[0]!, event: "named", id: idA }, { ...sent[1]!, id: idB }]);
      }
      assert.notEqual(idA, idB);
    });

    it(`${name} delivers the publisher's own event to itself exactly once`, async () => {
      const [a, sinkA, , sinkB] = await two();
      const own = message("t", "own");
      const id = await a.publish(own);
      const marker = await a.publish(message("t", "marker"));
      await until(() => sinkA.messages.some((m) => m.id === marker), "the marker on the publisher");
      await until(() => sinkB.messages.some((m) => m.id === marker), "the marker on the other");
      assert.equal(sinkA.messages.filter((m) => m.origin === own.origin).length, 1);
      assert.equal(sinkA.messages.find((m) => m.origin === own.origin)?.id, id);
      assert.equal(sinkB.messages.filter((m) => m.origin === own.origin).length, 1);
    });

    it(`${name} keeps one publisher's order on every instance`, async () => {
      const [a, sinkA, , sinkB] = await two();
      const sent = Array.from({ length: 50 }, (_, i) => message("t", `m${i}`));
      const ids = await Promise.all(sent.map((m) => a.publish(m)));
      await until(() => sinkA.messages.length === 50 && sinkB.messages.length === 50, "50 events on both");
      for (const sink of [sinkA, sinkB]) {
        assert.deepEqual(sink.messages.map((m) => m.data), sent.map((m) => m.data));
        assert.deepEqual(sink.messages.map((m) => m.id), ids);
      }
      assert.equal(new Set(ids).size, 50, "unique ids");
    });

    it(`${name} rejects a publish while the bus is down, and delivers it nowhere`, async () => {
      const [a, sinkA, , sinkB] = await two();
      const restore = await bus!.takeDown(a);
      const lost = message("t", "while down");
      await withDeadline(assert.rejects(a.publish(lost)), 10_000, "the publish to reject");
      if (restore !== undefined) {
        await restore();
        let id: string | undefined;
        for (const start = Date.now(); id === undefined; await delay(20)) {
          id = await a.publish(message("t", "back")).catch(() => undefined);
          if (Date.now() - start > 10_000) assert.fail("publishing never worked again");
        }
        await until(() => sinkB.messages.some((m) => m.id === id), "the event after the outage");
      }
      for (const sink of [sinkA, sinkB]) assert.ok(!sink.messages.some((m) => m.origin === lost.origin));
    });

    it(`${name}.close stops deliveries, rejects later publishes and releases the bus`, async () => {
      const [a, sinkA, b, sinkB] = await two();
      const listening = await bus!.listeners?.();
      await withDeadline(Promise.resolve(b.close()), 10_000, "close");
      await withDeadline(Promise.resolve(b.close()), 10_000, "a second close");
      if (listening !== undefined) assert.equal(await bus!.listeners!(), listening - 1);
      await assert.rejects(b.publish(message("t", "after close")));
      const id = await a.publish(message("t", "to a only"));
      await until(() => sinkA.messages.some((m) => m.id === id), "the event on the open bridge");
      assert.equal(sinkB.messages.length, 0);
    });

    it(`${name}.start throws TypeError the second time (one bridge serves one hub)`, async () => {
      const [a] = await two();
      assert.throws(() => a.start(recording()), TypeError);
    });

    it(`${name} reports malformed bus messages, skips them and keeps delivering`, async () => {
      const [a, sinkA, , sinkB] = await two();
      const sent = await bus!.sendGarbage();
      const id = await a.publish(message("t", "fine"));
      await until(() => sinkA.messages.length === 1 && sinkB.messages.length === 1, "the valid event");
      await until(() => sinkB.errors.length === sent, `${sent} errors reported`);
      for (const sink of [sinkA, sinkB]) {
        assert.deepEqual(sink.messages.map((m) => m.id), [id]);
        assert.ok(sink.errors.every((error) => error instanceof TypeError), String(sink.errors));
      }
    });
  });
}
