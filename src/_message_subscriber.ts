// The in-process subscriber (`Hub.subscribe`): a stream of messages whose own queue, counted
// in messages, is its budget.
import { DELIVERED, FAILED, FULL, type Offer, Subscriber } from "./_subscriber.ts";
import type { HubMessage } from "./message.ts";

/** An in-process subscriber: a stream of messages with a count budget (the stream's own queue). */
export class MessageSubscriber<T> extends Subscriber<T> {
  get wantsBytes(): false {
    return false;
  }

  /** Its stream: `start` calls `joined`, `cancel` calls `left`; the stream's queue is the budget. */
  open(joined: () => void, left: () => void): ReadableStream<HubMessage<T>> {
    return new ReadableStream<HubMessage<T>>({
      start: (controller) => {
        this.controller = controller;
        joined();
      },
      cancel: left,
    }, new CountQueuingStrategy({ highWaterMark: this.budget }));
  }

  protected deliver(_bytes: Uint8Array, message: HubMessage<T>): Offer {
    const room = this.controller.desiredSize ?? 0;
    if (room < 1 && room < this.budget) return FULL; // with a budget of 0, one may wait
    return this.enqueue(message) ? DELIVERED : FAILED;
  }

  replayed(_bytes: Uint8Array, message: HubMessage<T> | undefined): void {
    if (message !== undefined) this.enqueue(message);
  }

  push(_chunk: Uint8Array): void {
    // In-process streams carry messages only: comments and reset events are HTTP's.
  }

  protected discard(): void {}
  protected flush(): void {}
}
