import { describe, it } from "./helpers/timed.ts";
import assert from "node:assert/strict";
import { createEventStream, Hub, sseHeaders } from "../mod.ts";
import { serve } from "./helpers/server.ts";
import { rawResponseHead } from "./helpers/raw.ts";

const cookies = [["set-cookie", "session=abc; HttpOnly"], ["set-cookie", "theme=dark"]] as [string, string][];
const setCookieLines = (head: string[]) =>
  head.filter((line) => /^set-cookie:/i.test(line)).map((line) => line.slice(12));

describe("sseHeaders", () => {
  it("sseHeaders keeps every Set-Cookie it is given", () => {
    assert.deepEqual(sseHeaders(cookies).getSetCookie(), ["session=abc; HttpOnly", "theme=dark"]);
    assert.deepEqual(sseHeaders(new Headers(cookies)).getSetCookie(), [
      "session=abc; HttpOnly",
      "theme=dark",
    ]);
  });

  it("sseHeaders lets extra headers override its own, and keeps them single", () => {
    const headers = sseHeaders({ "cache-control": "no-store", "x-custom": "1" });
    assert.equal(headers.get("cache-control"), "no-store");
    assert.equal(headers.get("x-custom"), "1");
    assert.equal(headers.get("content-type"), "text/event-stream; charset=utf-8");
  });

  it("sseHeaders sends every Set-Cookie as its own header line over a real server", async () => {
    const hub = new Hub<string>();
    const server = serve((request) => {
      const path = new URL(request.url).pathname;
      if (path === "/hub") return hub.response(request, { topics: "t", headers: cookies });
      const stream = createEventStream({ headers: cookies });
      stream.close();
      return stream.response;
    });
    try {
      for (const path of ["/hub", "/stream"]) {
        const head = await rawResponseHead(server.url, `GET ${path} HTTP/1.1\r\nHost: x`);
        assert.match(head[0]!, /^HTTP\/1\.1 200/, path);
        assert.deepEqual(setCookieLines(head), ["session=abc; HttpOnly", "theme=dark"], path);
      }
    } finally {
      hub.close();
      await server.close();
    }
  });
});
