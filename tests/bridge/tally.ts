// Counts what one subscriber got against what was published: the numbers a delivery guarantee
// is about (lost, duplicated, reordered, resets), for the in-process fault tests. It counts every
// acknowledged publish as owed; chaos/ledger.ts, for clients that join mid-run, counts from a
// client's first event and excuses what a reset covers.

/** One subscriber's count. */
export interface Tally {
  /** Events whose publish succeeded (the promise resolved). */
  published: number;
  /** Events the subscriber received, repeats included. */
  delivered: number;
  /** Published events it never received. */
  lost: number;
  /** Events it received more than once (each repeat counts). */
  duplicated: number;
  /** Events that arrived after an event with a larger id. */
  reordered: number;
  /** Reset events (or unrecoverable gaps) it was told about. */
  resets: number;
}

/**
 * Tallies `received` (ids in arrival order) against `published` (ids of acknowledged
 * publishes). `order` compares two ids; `resets` is passed through.
 */
export function tally(
  published: Iterable<string>,
  received: readonly string[],
  order: (a: string, b: string) => number,
  resets = 0,
): Tally {
  const acknowledged = new Set(published);
  const seen = new Set<string>();
  let duplicated = 0;
  let reordered = 0;
  let newest: string | undefined;
  for (const id of received) {
    if (seen.has(id)) {
      duplicated++;
      continue;
    }
    seen.add(id);
    if (newest !== undefined && order(id, newest) < 0) reordered++;
    else newest = id;
  }
  let lost = 0;
  for (const id of acknowledged) if (!seen.has(id)) lost++;
  return { published: acknowledged.size, delivered: received.length, lost, duplicated, reordered, resets };
}

/** Orders Redis Stream ids (`<ms>-<seq>`): the bridge's own comparison. */
export { compareStreamIds } from "../../src/bridge/_redis.ts";
