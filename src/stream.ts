/**
 * One connection's event stream without a hub, for request-scoped work (LLM
 * tokens, job progress): {@linkcode createEventStream} to push events by hand,
 * {@linkcode eventStreamResponse} to pull them from an async iterable.
 *
 * @module
 */
import { encodeEvent } from "./encode.ts";
import type {
  EventStream,
  EventStreamOptions,
  EventStreamResponseOptions,
  StreamEvent,
} from "./stream_options.ts";
import { Connection, toEvent } from "./_stream_connection.ts";

/**
 * Opens one event stream without a hub: return `response`, then `send` events
 * until you `close` it or the client leaves (`signal` aborts, `send` returns `false`).
 *
 * @typeParam T The type of `data` in the events sent.
 * @param options Headers, a `retry` hint, keep-alive, the byte budget behind `ready`.
 * @returns The stream: its `response`, `send`, `comment`, `close`, `ready`, `signal`, `closed`.
 *
 * @example Stream LLM tokens, at the pace the client reads
 * ```ts
 * import { createEventStream } from "@sse-hub/sse-hub";
 *
 * async function* tokens(_signal: AbortSignal) { yield "Hel"; yield "lo"; }
 * function handler(_request: Request): Response {
 *   const stream = createEventStream();
 *   (async () => {
 *     for await (const token of tokens(stream.signal)) {
 *       await stream.ready; // backpressure: wait while the client is behind
 *       if (!stream.send(token)) return; // the client left
 *     }
 *     stream.close({ event: "done", data: "" });
 *   })();
 *   return stream.response;
 * }
 * ```
 */
export function createEventStream<T = unknown>(options: EventStreamOptions = {}): EventStream<T> {
  return new Connection<T>(options, options.bufferBytes ?? 65536);
}

/**
 * Streams an async iterable as an SSE response, pulling the next event only when
 * the client has read the previous one. When the client leaves, the iterator's
 * `return()` runs (a generator's `finally` blocks) and the signal given to a
 * `source` function aborts.
 *
 * @typeParam T The type of `data` in the events yielded.
 * @param source The events (strings are data), or a function of an `AbortSignal` returning them.
 * @param options A `final` event, `onError`, headers, a `retry` hint, keep-alive.
 * @returns The response to return from your `fetch` handler.
 * @throws {EventFieldError} When `final` cannot be encoded.
 *
 * @example
 * ```ts
 * import { eventStreamResponse } from "@sse-hub/sse-hub";
 *
 * async function* progress() {
 *   for (let done = 0; done <= 100; done += 50) yield { event: "progress", data: { done } };
 * }
 * const response = eventStreamResponse(progress(), { final: { event: "end", data: "" }, keepAlive: false });
 * console.log(await response.text()); // ':\n\nevent: progress\ndata: {"done":0}\n\n…event: end\ndata: \n\n'
 * ```
 */
export function eventStreamResponse<T = unknown>(
  source: AsyncIterable<StreamEvent<T>> | ((signal: AbortSignal) => AsyncIterable<StreamEvent<T>>),
  options: EventStreamResponseOptions = {},
): Response {
  if (options.final !== undefined) encodeEvent(toEvent(options.final), options); // throws now, not at the end
  let iterator: AsyncIterator<StreamEvent<T>> | undefined;
  const start = () =>
    iterator ??= (typeof source === "function" ? source(stream.signal) : source)[Symbol.asyncIterator]();
  // Releases the source: a generator's `finally` runs. A source function never called has nothing to release.
  const stop = () => {
    if (iterator === undefined && typeof source === "function") return;
    void Promise.resolve().then(() => start().return?.()).catch(() => {}); // its error has nowhere to go now
  };
  const stream: Connection<unknown> = new Connection<unknown>(options, 0, async () => {
    let yielded = false;
    try {
      const result = await start().next();
      yielded = !result.done;
      if (!stream.open) return;
      if (result.done) stream.close(options.final);
      else stream.send(result.value);
    } catch (error) {
      if (yielded) stop(); // the event it yielded was invalid: let it clean up
      if (!stream.open) return;
      let last: StreamEvent | undefined;
      try {
        last = options.onError?.(error);
      } catch (cause) {
        return stream.fail(cause);
      }
      if (last === undefined) return stream.fail(error);
      try {
        stream.close(last);
      } catch (cause) {
        stream.fail(cause);
      }
    }
  }, stop);
  return stream.response;
}
