// Records what a client `Connection` yields, by iterating it (its one consumer) in the background.
import type { ClientItem, Connection } from "../../client.ts";
import { until } from "./server.ts";

export interface Recording<E> {
  readonly items: ClientItem<E>[];
  /** What iteration threw (the connection's error), once it ended. */
  readonly error: unknown;
  /** Whether iteration ended. */
  readonly ended: boolean;
  /** Waits (deadline-guarded) until at least `n` items arrived; returns all of them. */
  count(n: number, ms?: number): Promise<ClientItem<E>[]>;
  /** Waits (deadline-guarded) until iteration ended. */
  end(ms?: number): Promise<void>;
}

export function record<E>(connection: Connection<E>): Recording<E> {
  const items: ClientItem<E>[] = [];
  let error: unknown;
  let ended = false;
  (async () => {
    try {
      for await (const item of connection) items.push(item);
    } catch (thrown) {
      error = thrown;
    }
    ended = true;
  })();
  return {
    items,
    get error() {
      return error;
    },
    get ended() {
      return ended;
    },
    async count(n, ms = 10_000) {
      await until(() => items.length >= n || ended, `${n} items (have ${items.length})`, ms);
      if (items.length < n) {
        throw new Error(`the connection ended after ${items.length} of ${n} items: ${error}`);
      }
      return items;
    },
    end: (ms = 10_000) => until(() => ended, "the connection to end", ms),
  };
}
