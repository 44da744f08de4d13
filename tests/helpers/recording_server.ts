// A real server (tests/helpers/server.ts) that records every request it gets (method, headers,
// URL, body, time) and answers the n-th one with `respond(n, request)`: for tests of clients.
import { serve } from "./server.ts";
import type { TestServer } from "./server.ts";

export const SSE = { "content-type": "text/event-stream" };

export interface Seen {
  method: string;
  headers: Headers;
  url: URL;
  body: string;
  at: number;
}

/** A server that records every request and answers with `respond(n)` for the n-th (0-based). */
export function recordingServer(
  respond: (n: number, request: Seen) => Response,
): { server: TestServer; seen: Seen[] } {
  const seen: Seen[] = [];
  const server = serve(async (request) => {
    const entry = {
      method: request.method,
      headers: request.headers,
      url: new URL(request.url),
      body: await request.text(),
      at: Date.now(),
    };
    seen.push(entry);
    return respond(seen.length - 1, entry);
  });
  return { server, seen };
}
