/**
 * The error the client reports when a connection attempt fails or the stream breaks.
 *
 * @module
 */

/**
 * Why a connection attempt failed:
 * - `"network"`: `fetch` rejected, or the response body broke mid-stream;
 * - `"ended"`: the server ended the stream (by default the client reconnects, as `EventSource` does);
 * - `"status"`: the response status was not 200 (`status` says which; 204 means "stop");
 * - `"content-type"`: a 200 response that is not `text/event-stream` (by default the client stops).
 */
export type ClientErrorType = "network" | "ended" | "status" | "content-type";

/**
 * Reported to `onFailure` for every failed attempt, and kept as `connection.error` when it
 * stopped the connection. Iterating a connection that stopped on an error throws it.
 *
 * @example
 * ```ts
 * import { ClientError } from "@sse-hub/sse-hub/client";
 * import assert from "node:assert/strict";
 *
 * const error = new ClientError("status", "the server answered 401", { status: 401 });
 * assert.equal(error.name, "ClientError");
 * assert.equal(error.type, "status");
 * assert.equal(error.status, 401);
 * ```
 */
export class ClientError extends Error {
  /** Why the attempt failed. */
  readonly type: ClientErrorType;
  /** The response status, when there was a response. */
  readonly status: number | undefined;
  /** The server's `Retry-After`, in milliseconds, when it sent one with a 429 or 503. */
  readonly retryAfter: number | undefined;

  /**
   * Creates the error.
   *
   * @param type Why the attempt failed.
   * @param message What went wrong.
   * @param options The response status, its `Retry-After` (ms), and the `cause`.
   */
  constructor(
    type: ClientErrorType,
    message: string,
    options: { status?: number; retryAfter?: number | undefined; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "ClientError";
    this.type = type;
    this.status = options.status;
    this.retryAfter = options.retryAfter;
  }
}
