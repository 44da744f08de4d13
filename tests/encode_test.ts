import { describe, it } from "./helpers/timed.ts";
import assert from "node:assert/strict";
import fc from "fast-check";
import type { SseEvent } from "../mod.ts";
import { encodeEvent, EventEncoderStream, EventFieldError, formatComment, formatEvent } from "../mod.ts";

describe("formatEvent", () => {
  it("formatEvent writes fields in order with LF endings and a blank line", () => {
    assert.equal(
      formatEvent({ comment: "c", event: "e", id: "1", retry: 5, data: "d" }),
      ": c\nevent: e\nid: 1\nretry: 5\ndata: d\n\n",
    );
  });

  it("formatEvent splits data on CRLF, CR and LF into one data line each", () => {
    assert.equal(formatEvent({ data: "a\r\nb\rc\nd" }), "data: a\ndata: b\ndata: c\ndata: d\n\n");
    assert.equal(formatEvent({ data: "\n" }), "data: \ndata: \n\n");
    assert.equal(formatEvent({ data: "end\r" }), "data: end\ndata: \n\n");
  });

  it("formatEvent keeps empty data as one empty data line", () => {
    assert.equal(formatEvent({ data: "" }), "data: \n\n");
  });

  it("formatEvent allows an empty id and retry 0", () => {
    assert.equal(formatEvent({ id: "" }), "id: \n\n");
    assert.equal(formatEvent({ retry: 0 }), "retry: 0\n\n");
  });

  it("formatEvent serializes non-string data as JSON by default", () => {
    assert.equal(formatEvent({ data: { a: [1, "x"] } }), 'data: {"a":[1,"x"]}\n\n');
    assert.equal(formatEvent({ data: null }), "data: null\n\n");
    assert.equal(formatEvent({ data: 0 }), "data: 0\n\n");
  });

  it("formatEvent uses a custom serializer and splits its lines", () => {
    const text = formatEvent({ data: { a: 1 } }, { serialize: (v) => JSON.stringify(v, null, 1) });
    assert.equal(text, 'data: {\ndata:  "a": 1\ndata: }\n\n');
  });

  it("formatEvent splits comments into one comment line each", () => {
    assert.equal(formatEvent({ comment: "a\nb" }), ": a\n: b\n\n");
  });

  for (const field of ["event", "id"] as const) {
    for (
      const [bad, type] of [["a\nb", "line-break"], ["a\rb", "line-break"], ["a\r\nb", "line-break"], [
        "a\0b",
        "nul",
      ]] as const
    ) {
      it(`formatEvent throws EventFieldError when \`${field}\` contains ${JSON.stringify(bad)}`, () => {
        assert.throws(() => formatEvent({ [field]: bad, data: "x" }), (error: unknown) => {
          assert.ok(error instanceof EventFieldError);
          assert.ok(error instanceof TypeError);
          assert.equal(error.name, "EventFieldError");
          assert.equal(error.field, field);
          assert.equal(error.type, type);
          assert.match(error.message, new RegExp(`\`${field}\``));
          return true;
        });
      });
    }
  }

  for (const bad of [-1, 1.5, NaN, Infinity, Number.MAX_SAFE_INTEGER + 1, "5"]) {
    it(`formatEvent throws EventFieldError when retry is ${String(bad)}`, () => {
      assert.throws(() => formatEvent({ retry: bad as number }), (e: unknown) => {
        return e instanceof EventFieldError && e.field === "retry" && e.type === "retry";
      });
    });
  }

  it("formatEvent throws EventFieldError with a cause when data cannot be serialized", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    assert.throws(() => formatEvent({ data: cyclic }), (e: unknown) => {
      return e instanceof EventFieldError && e.field === "data" && e.type === "serialize" &&
        e.cause instanceof TypeError;
    });
    assert.throws(() => formatEvent({ data: 10n }), EventFieldError);
    assert.throws(() => formatEvent({ data: () => 1 }), (e: unknown) => {
      return e instanceof EventFieldError && e.type === "serialize";
    });
  });

  it("formatEvent throws EventFieldError when a string has a lone surrogate", () => {
    for (const field of ["data", "event", "id", "comment"] as const) {
      assert.throws(() => formatEvent({ [field]: "a\uD800b" }), (e: unknown) => {
        return e instanceof EventFieldError && e.field === field && e.type === "lone-surrogate";
      });
    }
  });

  it("formatEvent throws TypeError when the event has no field or is not an object", () => {
    assert.throws(() => formatEvent({}), TypeError);
    assert.throws(() => formatEvent(null as never), TypeError);
  });

  it("formatEvent never emits a line that is not a known field, whatever the input", () => {
    fc.assert(
      fc.property(
        fc.record({
          data: fc.string({ unit: "binary" }),
          event: fc.string({ unit: "binary" }),
          id: fc.string({ unit: "binary" }),
          comment: fc.string({ unit: "binary" }),
        }, { requiredKeys: [] }),
        (event) => {
          let text: string;
          try {
            text = formatEvent(event);
          } catch (error) {
            return error instanceof EventFieldError || error instanceof TypeError;
          }
          const lines = text.split("\n");
          assert.equal(lines.pop(), "");
          assert.equal(lines.pop(), "");
          for (const line of lines) {
            assert.match(line, /^(: |event: |id: |retry: |data: )[^\r\n]*$/);
          }
          assert.equal(
            lines.filter((l) => l.startsWith("event: ")).length,
            event.event === undefined ? 0 : 1,
          );
          assert.equal(lines.filter((l) => l.startsWith("id: ")).length, event.id === undefined ? 0 : 1);
          return true;
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("encodeEvent", () => {
  it("encodeEvent returns the UTF-8 bytes of formatEvent", () => {
    const bytes = encodeEvent({ data: "snow ☃ 😀" });
    assert.ok(bytes instanceof Uint8Array);
    assert.equal(new TextDecoder().decode(bytes), "data: snow ☃ 😀\n\n");
  });
});

describe("formatComment", () => {
  it("formatComment writes one comment line per line with no blank line", () => {
    assert.equal(formatComment("ping"), ": ping\n");
    assert.equal(formatComment("a\r\nb"), ": a\n: b\n");
  });
});

describe("EventEncoderStream", () => {
  it("EventEncoderStream encodes each event into a response body", async () => {
    const body = streamOf([{ data: "one" }, { event: "x", data: { n: 2 } }])
      .pipeThrough(new EventEncoderStream());
    assert.equal(await new Response(body).text(), 'data: one\n\nevent: x\ndata: {"n":2}\n\n');
  });

  it("EventEncoderStream errors the stream on an invalid event instead of writing it", async () => {
    const body = streamOf([{ data: "ok" }, { id: "a\nb" }]).pipeThrough(new EventEncoderStream());
    const reader = body.getReader();
    const first = await reader.read();
    assert.equal(new TextDecoder().decode(first.value), "data: ok\n\n");
    await assert.rejects(reader.read(), EventFieldError);
  });
});

function streamOf(events: SseEvent[]): ReadableStream<SseEvent> {
  return new ReadableStream({
    start(controller) {
      for (const event of events) controller.enqueue(event);
      controller.close();
    },
  });
}
