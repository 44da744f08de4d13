// The reconnection policy as pure functions: which failures stop, how long the others wait.
import { describe, it } from "../helpers/timed.ts";
import assert from "node:assert/strict";
import { ClientError, parseRetryAfter, retryDelay } from "../../client.ts";

const status = (code: number, retryAfter?: number) =>
  new ClientError("status", `answered ${code}`, { status: code, retryAfter });
const network = new ClientError("network", "down");

describe("retryDelay", () => {
  it("retryDelay stops on 204, on a content-type error and on every 4xx but 429", () => {
    for (const code of [204, 400, 401, 403, 404, 410]) {
      assert.equal(retryDelay(status(code), 0, 1000), undefined, `${code}`);
    }
    assert.equal(
      retryDelay(new ClientError("content-type", "text/html", { status: 200 }), 0, 1000),
      undefined,
    );
    assert.equal(retryDelay(status(429), 0, 1000), 1000);
  });

  it("retryDelay waits a 429's or 503's Retry-After, even past the backoff cap", () => {
    assert.equal(retryDelay(status(429, 7000), 5, undefined), 7000);
    assert.equal(retryDelay(status(503, 120_000), 0, 1000, { max: 30_000 }), 120_000);
  });

  it("retryDelay waits the server's retry after a healthy connection, then backs off from it", () => {
    assert.equal(retryDelay(network, 0, 250), 250);
    assert.equal(retryDelay(network, 2, 250, {}, () => 0.999), Math.floor(0.999 * 1000));
  });

  it("retryDelay backs off with full jitter, doubling and capped, when the server sent no retry", () => {
    const bound = (attempt: number) =>
      retryDelay(network, attempt, undefined, { initial: 100, max: 1000 }, () => 0.999999);
    assert.deepEqual([0, 1, 2, 3, 4, 10, 2000].map(bound), [99, 199, 399, 799, 999, 999, 999]);
    assert.equal(retryDelay(network, 3, undefined, { initial: 100, max: 1000 }, () => 0), 0);
    for (let i = 0; i < 200; i++) {
      const delay = retryDelay(status(502), 2, undefined)!;
      assert.ok(delay >= 0 && delay < 4000, `${delay}`);
    }
  });
});

describe("parseRetryAfter", () => {
  it("parseRetryAfter reads delay-seconds and HTTP dates, and nothing else", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    assert.equal(parseRetryAfter("0", now), 0);
    assert.equal(parseRetryAfter(" 120 ", now), 120_000);
    assert.equal(parseRetryAfter("Thu, 01 Jan 2026 00:00:30 GMT", now), 30_000);
    assert.equal(parseRetryAfter("Wed, 31 Dec 2025 23:00:00 GMT", now), 0); // in the past: at once
    assert.equal(parseRetryAfter(null, now), undefined);
    assert.equal(parseRetryAfter("-1", now), undefined);
    assert.equal(parseRetryAfter("soon", now), undefined);
  });
});
