// How RedisBridge learns that its subscriber connection dropped and came back, from whichever
// hooks the client library has. What matters is WHEN: the bridge must hear of a drop before the
// first message of the new connection, or that message would be delivered live, move the
// bridge's last id past the events missed during the outage, and the catch-up would start after
// them (issue 11: node-redis lost 7-9 events in 15k under repeated `CLIENT KILL TYPE pubsub`).

type Listener = (...args: any[]) => void;

interface EventedClient {
  on(event: string, listener: Listener): unknown;
  off?(event: string, listener: Listener): unknown;
  removeListener?(event: string, listener: Listener): unknown;
  readonly isReady?: boolean;
}

interface BunStyleClient {
  onconnect: Listener | null;
  onclose: Listener | null;
}

/** What the watch reports to the bridge. */
export interface LinkEvents {
  /** The subscriber connection dropped: hold live messages until the next catch-up. */
  down(): void;
  /**
   * It is back. `resubscribed`: the client subscribed again by itself (node-redis); otherwise
   * the bridge must (Bun's `RedisClient` 1.x reconnects but does not resubscribe).
   */
  up(resubscribed: boolean): void;
  /** An error on either connection, to report. */
  error(error: unknown): void;
}

/**
 * Watches the subscriber (and the command client's errors). Returns a function that detaches
 * every hook it added and restores any handler it chained.
 *
 * node-redis (checked against 6.3) emits, per drop: "error" (the socket died; `isReady` is already false),
 * "reconnecting", then "connect", its own resubscribe, and "ready". Messages of the new
 * connection can arrive between its resubscribe and "ready", so the drop is taken from "error",
 * "reconnecting" and "end", never from "ready".
 *
 * Bun's `RedisClient` (1.4): a dropped connection reconnects and calls `onconnect`, without
 * `onclose` and without resubscribing, so nothing arrives before the bridge subscribes again;
 * `onclose` comes when it gives up or is closed.
 */
export function watchLink(subscriber: object, client: object, events: LinkEvents): () => void {
  const unwatch: (() => void)[] = [];
  const onError: Listener = (error) => events.error(error);
  for (const target of new Set<object>([subscriber, client])) {
    if (typeof (target as Partial<EventedClient>).on === "function") {
      const evented = target as EventedClient;
      const listen = (event: string, fn: Listener) => {
        evented.on(event, fn);
        unwatch.push(() => (evented.off ?? evented.removeListener)?.call(evented, event, fn));
      };
      if (target !== subscriber) {
        listen("error", onError);
        continue;
      }
      listen("error", (error: unknown) => {
        // An error on a connection that is still up (none known today) holds nothing.
        if (evented.isReady !== true) events.down();
        events.error(error);
      });
      listen("reconnecting", () => events.down());
      listen("end", () => events.down());
      listen("ready", () => events.up(true));
    } else if (target === subscriber && "onconnect" in target) {
      const bun = target as BunStyleClient;
      const { onconnect, onclose } = bun;
      bun.onconnect = function (this: unknown, ...args: unknown[]) {
        events.up(false);
        return onconnect?.apply(this, args);
      };
      bun.onclose = function (this: unknown, ...args: unknown[]) {
        events.down();
        events.error(new Error("the Redis subscriber connection closed", { cause: args[0] }));
        return onclose?.apply(this, args);
      };
      unwatch.push(() => {
        bun.onconnect = onconnect;
        bun.onclose = onclose;
      });
    }
  }
  return () => {
    for (const undo of unwatch.splice(0)) undo();
  };
}
