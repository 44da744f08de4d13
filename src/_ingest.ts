// How an event enters this instance: ONE path, whether a local publish or off the bus. The
// history records it, then the fan-out offers it; both get the same encoded bytes.
//
// A local publish first gets its id here: increasing integers, as decimal strings, from the
// clock (µs) read at the first publish, not at construction: Workers freeze the clock while a
// module loads, and a restarted process must never reuse an id. (A bus event comes with the bus's.)
import { encodePublished, type Serializer } from "./encode.ts";
import type { FanOut } from "./_fan_out.ts";
import type { HistoryStore } from "./history.ts";
import type { HubMessage, PublishResult } from "./message.ts";
import { lastIssued } from "./_issued_id.ts";

/** Where events go on this instance. */
export interface IngestTarget<T> {
  readonly history: HistoryStore | undefined;
  readonly fanOut: FanOut<T>;
}

/**
 * Records `message` in the history, then offers it; returns how many subscribers took it. A
 * store that fails fails a local publish (nothing was sent); a bus event, which every other
 * instance has, is sent anyway and the failure goes to `storeFailed`.
 */
export function ingest<T>(
  target: IngestTarget<T>,
  message: HubMessage<T>,
  bytes: Uint8Array,
  json: boolean,
  storeFailed?: (error: unknown) => void,
): number {
  const { topic, id, event } = message;
  try {
    target.history?.append({ id, topic, bytes, event, json, message });
  } catch (error) {
    if (storeFailed === undefined) throw error;
    storeFailed(error);
  }
  return target.fanOut.offer(topic, bytes, message);
}

/** A hub's local publishes, once the hub has checked them: the next id, ONE encoding, `ingest`. */
export class LocalPublish<T> {
  #lastId = 0;

  constructor(readonly target: IngestTarget<T>, readonly serialize: Serializer | undefined) {}

  /** Assigns the id, records and fans out the event; returns what `Hub.publish` returns. */
  publish(topic: string, data: T, event: string | undefined): PublishResult {
    if (this.#lastId === 0) this.#lastId = Date.now() * 1000;
    const seq = ++this.#lastId;
    const id = String(seq);
    lastIssued.id = id;
    lastIssued.seq = seq;
    const bytes = encodePublished(id, event, data, this.serialize);
    // MemoryHistory keeps the `json` flag, not the payload.
    const delivered = ingest(this.target, { topic, id, event, data }, bytes, typeof data !== "string");
    return { topic, id, delivered };
  }
}
