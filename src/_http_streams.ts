// What a hub's HTTP streams share (one object per hub; a connection's one closure is its start
// put off until its first read, gone after it): the opening bytes, the linger, and the two moments
// of a stream's life: it started (the opening, the replay from its Last-Event-ID, then the
// fan-out; with the id from the request, at the first read) and its client left.
import type { ByteStreamOwner } from "./_byte_subscriber.ts";
import type { FanOut, HubCounters } from "./_fan_out.ts";
import { Linger } from "./_linger.ts";
import type { Guard } from "./_guard.ts";
import type { HistoryStore } from "./history.ts";
import { replayContext, startReplay } from "./_replay.ts";
import type { HubSettings } from "./_settings.ts";
import { getLastEventId } from "./response.ts";

/** The owner of a hub's HTTP streams; without a `history` they never replay. */
export function httpStreams<T>(
  settings: HubSettings,
  counters: HubCounters,
  fanOut: FanOut<T>,
  guard: Guard,
  history: HistoryStore | undefined,
  deserialize: ((text: string) => unknown) | undefined,
): ByteStreamOwner<T> {
  const replay = history && replayContext<T>(
    history,
    settings.resetEvent,
    guard,
    counters,
    (subscriber) => fanOut.remove(subscriber),
    deserialize,
  );
  return {
    opening: settings.opening,
    linger: settings.linger === 0 ? undefined : new Linger(settings.linger, counters),
    joined: (subscriber, from) => {
      if (replay === undefined) subscriber.begin();
      else if (typeof from === "string") {
        subscriber.begin();
        startReplay(subscriber, from, replay);
      } else {
        // The id is read at the runtime's first read, once it has taken the response: Deno.serve
        // keeps the whole header list of a request whose headers were read before (~0.6 KB per
        // connection), not of one read after. Live events are held until then.
        subscriber.hold(() => {
          subscriber.begin();
          startReplay(subscriber, lastEventIdOf(from, settings), replay);
        });
      }
      if (subscriber.active) fanOut.add(subscriber); // its filter may have thrown on a replayed event
    },
    left: (subscriber, endStream) => fanOut.remove(subscriber, endStream),
  };
}

// Reading fails only for a request whose response has ended (Deno), a stream nobody reads any more.
function lastEventIdOf(request: Request, settings: HubSettings): string | undefined {
  try {
    return getLastEventId(request, settings.maxLastEventIdLength);
  } catch {
    return undefined;
  }
}
