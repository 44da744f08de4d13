// Feeding an event stream in pieces: the decoder's tests cut input at every position.
import { EventDecoderStream } from "../../src/decode.ts";
import type { DecodedEvent, DecoderOptions } from "../../src/decode.ts";

/** Feeds chunks through an EventDecoderStream, reading concurrently; rejects if the stream errors. */
export async function decodeChunks(
  chunks: Iterable<string | Uint8Array>,
  options?: DecoderOptions,
): Promise<DecodedEvent[]> {
  const stream = new EventDecoderStream(options);
  const writer = stream.writable.getWriter();
  const reader = stream.readable.getReader();
  const writing = (async () => {
    for (const chunk of chunks) await writer.write(chunk);
    await writer.close();
  })();
  writing.catch(() => {}); // the reader reports the same error
  const events: DecodedEvent[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    events.push(value);
  }
  await writing;
  return events;
}

/** Splits bytes at the given positions (any order, repeats and out-of-range positions allowed). */
export function splitAt(bytes: Uint8Array, points: number[]): Uint8Array[] {
  const cuts = [...new Set(points.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const cut of cuts) {
    chunks.push(bytes.subarray(from, cut));
    from = cut;
  }
  chunks.push(bytes.subarray(from));
  return chunks;
}
