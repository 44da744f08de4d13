/**
 * The client's reconnection policy as pure functions: how long to wait after a failure, or
 * whether to stop.
 *
 * @module
 */
import type { ClientError } from "./errors.ts";

/** The backoff used when the server sent no `retry:` field. */
export interface Backoff {
  /**
   * The base delay in milliseconds: the cap of the first wait, doubled after each consecutive failure.
   * @default {1000}
   */
  initial?: number;
  /**
   * The longest wait in milliseconds (a server's `Retry-After` may be longer, and is honoured).
   * @default {30000}
   */
  max?: number;
}

/**
 * The default decision after a failed attempt, in milliseconds to wait before the next one, or
 * `undefined` to stop:
 * - 204 stops (the spec's "do not reconnect"); a `content-type` error stops; any other 4xx but 429 stops;
 * - a 429 or 503 with `Retry-After` waits that long;
 * - otherwise the server's `retry:` hint when it sent one and this is the first failure in a row;
 * - otherwise exponential backoff with full jitter: a random wait in `[0, min(max, initial · 2^attempt))`.
 *
 * @param error The failure.
 * @param attempt Consecutive failures before this one (0 after a healthy connection).
 * @param serverRetry The last `retry:` the server sent, if any.
 * @param backoff The backoff bounds.
 * @param random A source of numbers in `[0, 1)` (tests pass their own).
 * @returns Milliseconds to wait, or `undefined` to stop.
 *
 * @example
 * ```ts
 * import { ClientError, retryDelay } from "@sse-hub/sse-hub/client";
 * import assert from "node:assert/strict";
 *
 * const busy = new ClientError("status", "503", { status: 503, retryAfter: 2000 });
 * assert.equal(retryDelay(busy, 0, undefined), 2000);
 * assert.equal(retryDelay(new ClientError("status", "401", { status: 401 }), 0, undefined), undefined);
 * assert.equal(retryDelay(new ClientError("ended", "ended"), 0, 1000), 1000);
 * assert.equal(retryDelay(new ClientError("network", "down"), 3, undefined, {}, () => 0.5), 4000);
 * ```
 */
export function retryDelay(
  error: ClientError,
  attempt: number,
  serverRetry: number | undefined,
  backoff: Backoff = {},
  random: () => number = Math.random,
): number | undefined {
  const status = error.status ?? 0;
  if (error.type === "content-type" || status === 204) return undefined;
  if (status === 429 || status === 503) {
    if (error.retryAfter !== undefined) return error.retryAfter;
  } else if (status >= 400 && status < 500) return undefined;
  if (serverRetry !== undefined && attempt === 0) return serverRetry;
  const initial = serverRetry ?? backoff.initial ?? 1000;
  const cap = Math.min(backoff.max ?? 30_000, initial * 2 ** attempt);
  return Math.floor(random() * cap);
}

/**
 * Parses a `Retry-After` header: delay-seconds or an HTTP date.
 *
 * @param value The header's value (`null` when absent).
 * @param now The current time in milliseconds since the epoch.
 * @returns The delay in milliseconds, or `undefined` when absent or unreadable.
 *
 * @example
 * ```ts
 * import { parseRetryAfter } from "@sse-hub/sse-hub/client";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseRetryAfter("5"), 5000);
 * assert.equal(parseRetryAfter("Thu, 01 Jan 1970 00:00:10 GMT", 4000), 6000);
 * assert.equal(parseRetryAfter("soon"), undefined);
 * ```
 */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null) return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  // An HTTP date names its day or month; Date.parse alone would take "-1" for the year -1.
  const date = /[a-z]/i.test(value) ? Date.parse(value) : NaN;
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
