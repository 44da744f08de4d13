// A replayed event's type and payload, for a subscriber whose filter must see them. Stores
// that keep only the encoded bytes (MemoryHistory) mark whether the payload was serialized;
// it is rebuilt here, lazily, only for the entries a filter asks about.
import type { HistoryEntry } from "./history.ts";
import { parseEventStream } from "./decode.ts";

/** An event's type and payload, as a filter sees them. */
export interface Payload {
  event: string | undefined;
  data: unknown;
}

const utf8 = new TextDecoder();

/**
 * The entry's `message` when the store kept one; else the payload rebuilt from its bytes
 * (`data` lines joined by LF, exactly as a client decodes them), through `deserialize` when
 * `json` is `true`; `undefined` when the entry says neither. Throws what `deserialize` throws.
 */
export function payloadOf(
  entry: HistoryEntry,
  deserialize: (text: string) => unknown = JSON.parse,
): Payload | undefined {
  if (entry.message !== undefined) return entry.message;
  if (entry.json === undefined) return undefined;
  const text =
    parseEventStream(utf8.decode(entry.bytes), { maxLineLength: Infinity, maxEventSize: Infinity })[0]
      ?.data ?? "";
  return { event: entry.event, data: entry.json ? deserialize(text) : text };
}
