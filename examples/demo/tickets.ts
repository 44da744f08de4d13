// The demo's bearer tokens for `/private/events/:topics`: short-lived, single-use stream tickets.
// A client asks `POST /private/token` for one before every (re)connect (sse-hub's client calls
// its `headers` function each time), so a token replayed from a log or a proxy is worth nothing.

/** Issues and redeems tickets; at most `max` are outstanding, so a flood cannot grow memory. */
export class Tickets {
  readonly #ttlMs: number;
  readonly #max: number;
  readonly #expiry = new Map<string, number>();

  constructor(ttlMs = 60_000, max = 10_000) {
    this.#ttlMs = ttlMs;
    this.#max = max;
  }

  /** A new ticket, valid once within `ttlMs`. */
  issue(now = Date.now()): { token: string; expiresIn: number } {
    for (const [token, expiry] of this.#expiry) {
      if (expiry > now && this.#expiry.size < this.#max) break; // Map order is issue order
      this.#expiry.delete(token);
    }
    const token = crypto.randomUUID();
    this.#expiry.set(token, now + this.#ttlMs);
    return { token, expiresIn: Math.floor(this.#ttlMs / 1000) };
  }

  /** Whether `authorization` is `Bearer <a ticket issued and not yet used or expired>`; uses it up. */
  redeem(authorization: string | null, now = Date.now()): boolean {
    const token = /^Bearer ([0-9a-f-]{36})$/i.exec(authorization ?? "")?.[1];
    if (token === undefined) return false;
    const expiry = this.#expiry.get(token);
    this.#expiry.delete(token);
    return expiry !== undefined && expiry > now;
  }
}
