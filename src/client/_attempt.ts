/**
 * Internal: one attempt of a connection, from its request to the end of its stream.
 *
 * @module
 */
import { EventDecoderStream } from "../decode.ts";
import type { DecodedEvent } from "../decode.ts";
import { ClientError } from "./errors.ts";
import { refusal, request } from "./_exchange.ts";
import type { ConnectOptions } from "./types.ts";

/** Does nothing: a cancel whose failure does not matter, an unwatched page. */
export const noop = (): void => {};

/**
 * Requests the stream (resuming after `lastEventId`) and reads its events until it ends, breaks or
 * `signal` aborts; calls `opened` once the response is an event stream, `retry` for each `retry:`
 * field, and `event` for each event (reading goes on once its promise settles: backpressure).
 * Never rejects: resolves with why the attempt ended.
 */
export async function connectOnce<E>(
  url: string | URL,
  options: ConnectOptions<E>,
  lastEventId: string,
  signal: AbortSignal,
  opened: () => void,
  retry: (ms: number) => void,
  event: (decoded: DecodedEvent) => Promise<void>,
): Promise<ClientError> {
  let response: Response;
  try {
    response = await request(url, options, lastEventId, signal);
  } catch (cause) {
    return new ClientError("network", `the request failed: ${cause}`, { cause });
  }
  const refused = refusal(response);
  if (refused) {
    response.body?.cancel().catch(noop);
    return refused;
  }
  opened();
  // Read with getReader(), not `for await`: Safari's ReadableStream is not async-iterable.
  const reader = response.body!.pipeThrough(
    new EventDecoderStream({ lastEventId, onRetry: retry }),
  ).getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return new ClientError("ended", "the server ended the stream");
      await event(value);
    }
  } catch (cause) {
    return new ClientError("network", `the stream broke: ${cause}`, { cause });
  } finally {
    reader.cancel().catch(noop);
  }
}
