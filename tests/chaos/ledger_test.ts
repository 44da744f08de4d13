// The chaos ledger's arithmetic: what the fault-injection verdicts rest on.
import { describe, it } from "../helpers/timed.ts";
import assert from "node:assert/strict";
import { ClientLedger, idKey, keyId } from "../../chaos/ledger.ts";

const ids = (...seqs: number[]) => seqs.map((seq) => `1700000000000-${seq}`);
const keys = (...seqs: number[]) => ids(...seqs).map(idKey);

describe("chaos ClientLedger", () => {
  it("idKey orders stream ids as Redis does and keyId reverses it", () => {
    assert.ok(idKey("1700000000000-9") < idKey("1700000000000-10"));
    assert.ok(idKey("1700000000000-1023") < idKey("1700000000001-0"));
    assert.equal(keyId(idKey("1700000000000-42")), "1700000000000-42");
    assert.throws(() => idKey("42"), /not a stream id/);
    assert.throws(() => idKey("1700000000000-1024"), /sequence/);
  });

  it("ClientLedger counts a complete, in-order delivery as delivered and nothing else", () => {
    const ledger = new ClientLedger();
    for (const id of ids(0, 1, 2, 3)) ledger.deliver(id);
    const { lostKeys, ...tally } = ledger.tally(keys(0, 1, 2, 3), idKey(ids(3)[0]!));
    assert.deepEqual(lostKeys, []);
    assert.deepEqual(tally, {
      published: 4,
      delivered: 4,
      lost: 0,
      duplicated: 0,
      reordered: 0,
      resets: 0,
      missedUnderReset: 0,
      unacked: 0,
    });
  });

  it("ClientLedger counts lost, duplicated, reordered and unacknowledged deliveries", () => {
    const ledger = new ClientLedger();
    for (const id of ids(0, 2, 2, 4, 3, 6)) ledger.deliver(id);
    const { lostKeys, ...tally } = ledger.tally(keys(0, 1, 2, 3, 4, 5), idKey(ids(6)[0]!));
    assert.deepEqual(lostKeys, keys(1, 5));
    assert.equal(tally.published, 6);
    assert.equal(tally.delivered, 4);
    assert.equal(tally.lost, 2);
    assert.equal(tally.duplicated, 1);
    assert.equal(tally.reordered, 1);
    assert.equal(tally.unacked, 1, "6 was delivered but never acknowledged");
  });

  it("ClientLedger owes nothing before the client's first event or after the fence", () => {
    const ledger = new ClientLedger();
    for (const id of ids(3, 4)) ledger.deliver(id);
    const tally = ledger.tally(keys(0, 1, 2, 3, 4, 5), idKey(ids(4)[0]!));
    assert.equal(tally.published, 2);
    assert.equal(tally.lost, 0);
  });

  it("ClientLedger excuses only the events missing between the ids around a reset", () => {
    const ledger = new ClientLedger();
    ledger.deliver(ids(0)[0]!);
    ledger.reset("bus-gap", 100);
    for (const id of ids(3, 4, 6)) ledger.deliver(id);
    const sentEarly = new Map(keys(0, 1, 2, 3, 4, 5, 6).map((key) => [key, 0]));
    const { lostKeys, ...tally } = ledger.tally(keys(0, 1, 2, 3, 4, 5, 6), idKey(ids(6)[0]!), sentEarly);
    assert.equal(tally.missedUnderReset, 2, "1 and 2 fell inside the reset's window");
    assert.deepEqual(lostKeys, keys(5), "5 was missed after the reset: lost");
    assert.equal(tally.resets, 1);
    assert.deepEqual(ledger.resetReasons, ["bus-gap"]);
  });

  it("ClientLedger does not excuse an event published after the client had the reset", () => {
    const ledger = new ClientLedger();
    ledger.deliver(ids(0)[0]!);
    ledger.reset("bus-gap", 100);
    ledger.deliver(ids(3)[0]!);
    const sentAt = new Map(keys(1, 2).map((key, i) => [key, [50, 150][i]!]));
    const { lostKeys, ...tally } = ledger.tally(keys(0, 1, 2, 3), idKey(ids(3)[0]!), sentAt);
    assert.equal(tally.missedUnderReset, 1, "1 was sent before the reset arrived");
    assert.deepEqual(lostKeys, keys(2), "2 was sent after it: owed, so lost");
  });
});
