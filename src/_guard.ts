// Re-entrancy: while the hub encodes or offers an event, application callbacks (filters,
// serializers) run inside it. A publish from there would reach subscribers before the event
// being delivered (ids out of order) or take an id twice, so it is refused.
import { HubError } from "./errors.ts";

export class Guard {
  #busy = false;

  /** Runs `work` marked busy (nesting keeps the outer mark). */
  run<R>(work: () => R): R {
    const was = this.#busy;
    this.#busy = true;
    try {
      return work();
    } finally {
      this.#busy = was;
    }
  }

  /**
   * Marks the hub busy for a publish that found it idle (`assertIdle`); `leave()` ends it.
   * The publish path uses these instead of `run`: no closure per publish.
   */
  enter(): void {
    this.#busy = true;
  }

  leave(): void {
    this.#busy = false;
  }

  /** @throws {HubError} `"reentrant"` while busy. */
  assertIdle(): void {
    if (!this.#busy) return;
    throw new HubError(
      "reentrant",
      "cannot publish from a filter or serializer while the hub delivers another event: publish after it returns",
    );
  }
}
