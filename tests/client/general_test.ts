// The client is a general event-stream client: against Hono's `streamSSE` (not sse-hub), and
// the WHATWG spec's own event-stream examples served byte for byte.
import { describe, it } from "../helpers/timed.ts";
import assert from "node:assert/strict";
import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { connect } from "../../client.ts";
import type { ClientItem } from "../../client.ts";
import { record } from "../helpers/connection.ts";
import { SSE } from "../helpers/recording_server.ts";
import { serve } from "../helpers/server.ts";

type Item = ClientItem<Record<string, string>>;

describe("client against other servers", () => {
  it("connect follows a Hono streamSSE endpoint, honours its retry and resumes it with Last-Event-ID", async () => {
    const resumedFrom: (string | undefined)[] = [];
    const app = new Hono();
    // Three events per response, then the handler returns (the stream ends); resumes after Last-Event-ID.
    app.get("/sse", (c) =>
      streamSSE(c, async (stream) => {
        const last = c.req.header("last-event-id");
        resumedFrom.push(last);
        const start = last === undefined ? 0 : Number(last) + 1;
        for (let n = start; n < start + 3; n++) {
          await stream.writeSSE({ event: "count", id: String(n), data: `n=${n}\nline 2`, retry: 10 });
        }
      }));
    const server = serve(app.fetch);
    const delays: (number | undefined)[] = [];
    const connection = connect(`${server.url}/sse`, { onFailure: ({ delay }) => void delays.push(delay) });
    try {
      const items = await record(connection).count(9);
      assert.deepEqual(delays.slice(0, 2), [10, 10]); // the stream's `retry: 10`, not the 1 s backoff
      assert.deepEqual(
        items.slice(0, 9).map((item) => item.type === "event" && [item.event, item.id, item.data]),
        Array.from({ length: 9 }, (_, n) => ["count", String(n), `n=${n}\nline 2`]),
      );
      assert.deepEqual(resumedFrom.slice(0, 3), [undefined, "2", "5"]);
    } finally {
      connection.close();
      await server.close();
    }
  });

  // https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation (the examples)
  const vectors: {
    name: string;
    stream: string;
    expected: [string, string, string][];
    resumeWith: string | null;
  }[] = [
    {
      name: "multi-line data",
      stream: "data: YHOO\ndata: +2\ndata: 10\n\n",
      expected: [["message", "YHOO\n+2\n10", ""]],
      resumeWith: null,
    },
    {
      name: "comment, ids, an id reset and a leading space",
      stream: ": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n\n",
      expected: [["message", "first event", "1"], ["message", "second event", ""], [
        "message",
        " third event",
        "",
      ]],
      resumeWith: null, // the empty id means: no Last-Event-ID on reconnect
    },
    {
      name: "empty data lines, and a last block without its blank line",
      stream: "data\n\ndata\ndata\n\ndata:",
      expected: [["message", "", ""], ["message", "\n", ""]],
      resumeWith: null,
    },
    {
      name: "a space after the colon is optional",
      stream: "data:test\n\ndata: test\n\n",
      expected: [["message", "test", ""], ["message", "test", ""]],
      resumeWith: null,
    },
    {
      name: "an id that carries over, CRLF and CR line ends, a BOM",
      stream: "\uFEFFid: 7\r\nevent: a\r\ndata: x\r\n\r\ndata: y\r\rretry: 5\n\n",
      expected: [["a", "x", "7"], ["message", "y", "7"]],
      resumeWith: "7",
    },
  ];

  for (const vector of vectors) {
    it(`connect dispatches the WHATWG example "${vector.name}" as EventSource does, and resumes from its last id`, async () => {
      const requests: (string | null)[] = [];
      const server = serve((request) => {
        requests.push(request.headers.get("last-event-id"));
        return requests.length === 1
          ? new Response(new TextEncoder().encode(vector.stream), { headers: SSE })
          : new Response(null, { status: 204 });
      });
      const connection = connect(server.url, { backoff: { initial: 5 } });
      const recording = record(connection);
      await recording.end();
      assert.deepEqual(
        recording.items.map((item: Item) => item.type === "event" && [item.event, item.data, item.id]),
        vector.expected,
      );
      assert.deepEqual(requests, [null, vector.resumeWith]);
      await server.close();
    });
  }
});
