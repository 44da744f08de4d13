// Fuzzing the wire format: what tests/encode_test.ts and tests/decode_test.ts do not already
// cover. Every field of an event gets arbitrary Unicode, control characters and lone
// surrogates; values get huge; the decoder gets arbitrary bytes under tight caps and
// multi-megabyte streams that never break a line. The encoder either throws its typed error
// or writes what decodes to exactly the input; the decoder never throws anything but its
// typed cap error and never buffers past its caps.
import { describe, it } from "../helpers/timed.ts";
import assert from "node:assert/strict";
import process from "node:process";
import fc from "fast-check";
import {
  encodeEvent,
  EventDecoderStream,
  EventFieldError,
  formatEvent,
  Hub,
  ParseError,
  parseEventStream,
} from "../../mod.ts";
import type { DecodedEvent, DecoderOptions, SseEvent } from "../../mod.ts";
import { decodeChunks, splitAt } from "../helpers/chunks.ts";
import { SseClient } from "../helpers/client.ts";
import { serve, until, withDeadline } from "../helpers/server.ts";
import { watchUnhandled } from "../helpers/unhandled.ts";

// Every run prints its seed; `FUZZ_SEED=<n> npm test` (or the same variable on a direct
// `deno test`/`bun test` run) replays exactly that run's inputs.
const FUZZ_SEED = fuzzSeed(process.env.FUZZ_SEED);
console.log(`FUZZ_SEED=${FUZZ_SEED}`);
fc.configureGlobal({ seed: FUZZ_SEED });

function fuzzSeed(text: string | undefined): number {
  if (text === undefined || text === "") return Math.floor(Math.random() * 2 ** 31);
  const seed = Number(text);
  if (!Number.isSafeInteger(seed)) {
    throw new Error(`FUZZ_SEED must be an integer, not ${JSON.stringify(text)}`);
  }
  return seed;
}

const LINE_BREAK = /\r\n|\r|\n/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

// One "character" of hostile text: line breaks of every kind, NUL and the other C0 and C1
// controls, DEL, Unicode line/paragraph separators, BOM and non-characters, lone surrogates
// of both halves, astral characters, the field syntax itself, and anything else.
const hostileUnit = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      "\r",
      "\n",
      "\r\n",
      "\n\r",
      "\0",
      ":",
      " ",
      "data:",
      "id: ",
      "event:",
      "retry:",
    ),
  },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)) },
  { weight: 1, arbitrary: fc.integer({ min: 0x7f, max: 0x9f }).map((c) => String.fromCharCode(c)) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "\u2028",
      "\u2029",
      "\uFEFF",
      "\uFFFE",
      "\uFFFF",
      "\uFFFD",
      "😀",
      "\u{10FFFF}",
    ),
  },
  { weight: 1, arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)) },
  { weight: 4, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 1 }) },
);
const hostileText = fc.string({ unit: hostileUnit, maxLength: 40, size: "medium" });
const hostileRetry = fc.oneof(
  fc.nat(),
  fc.integer({ min: -1000, max: -1 }),
  fc.double(),
  fc.constantFrom(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 1, Infinity, NaN, -0),
);
const hostileEvent = fc.record(
  { comment: hostileText, event: hostileText, id: hostileText, retry: hostileRetry, data: hostileText },
  { requiredKeys: [] },
);

/** The error formatEvent must throw for `event`, by the documented rules, or undefined. */
function expectedError(event: SseEvent<string>): [field: string, type: string] | undefined {
  if (Object.keys(event).length === 0) return ["", "no-field"];
  if (event.comment !== undefined && LONE_SURROGATE.test(event.comment)) return ["comment", "lone-surrogate"];
  for (const field of ["event", "id"] as const) {
    const value = event[field];
    if (value === undefined) continue;
    const bad = /[\r\n\0]/.exec(value);
    if (bad) return [field, bad[0] === "\0" ? "nul" : "line-break"];
    if (LONE_SURROGATE.test(value)) return [field, "lone-surrogate"];
  }
  if (event.retry !== undefined && !(Number.isSafeInteger(event.retry) && event.retry >= 0)) {
    return ["retry", "retry"];
  }
  if (event.data !== undefined && LONE_SURROGATE.test(event.data)) return ["data", "lone-surrogate"];
  return undefined;
}

/** What a browser would see for one valid event: its dispatch (if it has data), comments and retry. */
function expectedDecoding(event: SseEvent<string>) {
  const events: DecodedEvent[] = [];
  if (event.data !== undefined) {
    const decoded: DecodedEvent = {
      event: event.event || "message",
      data: event.data.split(LINE_BREAK).join("\n"),
      id: event.id ?? "",
    };
    if (event.retry !== undefined) decoded.retry = event.retry + 0; // -0 is written as 0
    events.push(decoded);
  }
  const comments = event.comment === undefined ? [] : event.comment.split(LINE_BREAK);
  return { events, comments, retries: event.retry === undefined ? [] : [event.retry + 0] };
}

describe("formatEvent against hostile fields", () => {
  it("formatEvent throws the documented EventFieldError or writes what decodes to exactly the input, for controls, separators and lone surrogates in every field", async () => {
    await fc.assert(
      fc.asyncProperty(
        hostileEvent,
        fc.array(fc.nat({ max: 400 }), { maxLength: 8 }),
        async (event, points) => {
          const expected = expectedError(event);
          let text: string;
          try {
            text = formatEvent(event);
          } catch (error) {
            assert.ok(expected, `formatEvent threw ${String(error)} for a valid event`);
            if (expected[1] === "no-field") {
              assert.ok(error instanceof TypeError);
              return;
            }
            assert.ok(error instanceof EventFieldError, `not an EventFieldError: ${String(error)}`);
            assert.deepEqual([error.field, error.type], expected);
            return;
          }
          assert.equal(expected, undefined, `formatEvent accepted an event it must refuse (${expected})`);
          const want = expectedDecoding(event);
          const comments: string[] = [];
          const retries: number[] = [];
          const events = parseEventStream(text, {
            onComment: (c) => comments.push(c),
            onRetry: (r) => retries.push(r),
          });
          assert.deepEqual(events, want.events);
          assert.deepEqual(comments, want.comments);
          assert.deepEqual(retries, want.retries);
          // The same through the byte decoder, split anywhere (inside multi-byte characters too).
          assert.deepEqual(await decodeChunks(splitAt(encodeEvent(event), points)), want.events);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("formatEvent throws EventFieldError serialize, or round-trips the JSON, for arbitrary non-string data", () => {
    fc.assert(
      fc.property(
        fc.anything({
          withBigInt: true,
          withMap: true,
          withSet: true,
          withTypedArray: true,
          withSparseArray: true,
        }),
        (value) => {
          fc.pre(value !== undefined && typeof value !== "string");
          let text: string;
          try {
            text = formatEvent({ data: value });
          } catch (error) {
            assert.ok(error instanceof EventFieldError, String(error));
            assert.equal(error.field, "data");
            assert.equal(error.type, "serialize");
            return;
          }
          assert.deepEqual(parseEventStream(text).map((e) => e.data), [JSON.stringify(value)]);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("formatEvent turns a serializer's hostile output into data lines or EventFieldError, never a forged field", () => {
    fc.assert(
      fc.property(hostileText, (output) => {
        let text: string;
        try {
          text = formatEvent({ id: "1", data: { any: "thing" } }, { serialize: () => output });
        } catch (error) {
          assert.ok(error instanceof EventFieldError);
          assert.deepEqual([error.field, error.type], ["data", "lone-surrogate"]);
          assert.ok(LONE_SURROGATE.test(output));
          return;
        }
        assert.deepEqual(parseEventStream(text), [{
          event: "message",
          id: "1",
          data: output.split(LINE_BREAK).join("\n"),
        }]);
      }),
      { numRuns: 500 },
    );
  });

  it("formatEvent throws EventFieldError serialize with the cause when the serializer throws anything, even a non-Error", () => {
    for (const thrown of [new Error("boom"), "a string", undefined, null, 42, { toString: () => "object" }]) {
      assert.throws(() =>
        formatEvent({ data: 1 }, {
          serialize: () => {
            throw thrown;
          },
        }), (error: unknown) => {
        return error instanceof EventFieldError && error.type === "serialize" && error.cause === thrown;
      });
    }
  });

  it("formatEvent round-trips huge values: 4 MB of data with a million line breaks, a 2 MB line, a 1 MB event name and id", () => {
    const lines = Array.from({ length: 1_000_000 }, (_, i) => (i % 3 === 0 ? "é" : i % 3 === 1 ? "" : "😀"));
    const manyLines = lines.join(["\n", "\r\n", "\r"][lines.length % 3]!);
    const longLine = "x".repeat(2 * 1024 * 1024);
    const name = "n".repeat(1024 * 1024);
    const id = "9".repeat(1024 * 1024);
    const text = formatEvent({ event: name, id, data: manyLines }) + formatEvent({ data: longLine });
    const events = parseEventStream(text, { maxLineLength: Infinity, maxEventSize: Infinity });
    assert.equal(events.length, 2);
    assert.equal(events[0]!.event, name);
    assert.equal(events[0]!.id, id);
    assert.equal(events[0]!.data, lines.join("\n"));
    assert.equal(events[1]!.data, longLine);
    assert.equal(events[1]!.id, id);
    // Under the default caps the same stream is refused with the typed error, not decoded partially.
    assert.throws(
      () => parseEventStream(text),
      (error: unknown) => error instanceof ParseError && error.type === "line-too-long",
    );
  });

  it("formatEvent throws EventFieldError lone-surrogate for a 4 MB value whose only lone surrogate is its last code unit", () => {
    const value = "a".repeat(4 * 1024 * 1024) + "\uD800";
    for (const field of ["data", "event", "id", "comment"] as const) {
      assert.throws(() => encodeEvent({ [field]: value }), (error: unknown) => {
        return error instanceof EventFieldError && error.field === field && error.type === "lone-surrogate";
      });
    }
  });
});

describe("EventDecoderStream against hostile bytes", () => {
  const bytes = fc.oneof(
    fc.uint8Array({ maxLength: 4096, size: "max" }),
    // Mostly syntax: line ends, colons, field names, BOM and UTF-8 lead/continuation bytes.
    fc.array(
      fc.oneof(
        fc.constantFrom(...[
          0x0a,
          0x0d,
          0x3a,
          0x20,
          0x00,
          0xef,
          0xbb,
          0xbf,
          0xc3,
          0xa9,
          0xf0,
          0x9f,
          0x98,
          0x80,
          0xff,
        ]),
        fc.constantFrom(..."data:event:id:retry:123".split("").map((c) => c.charCodeAt(0))),
      ),
      { maxLength: 4096, size: "max" },
    ).map((array) => new Uint8Array(array)),
  );
  const caps = fc.record({ maxLineLength: fc.nat({ max: 64 }), maxEventSize: fc.nat({ max: 128 }) });
  const splits = fc.array(fc.nat({ max: 5000 }), { maxLength: 40, size: "max" });

  /** Decodes, and returns either the events or the ParseError type; anything else fails. */
  async function outcome(chunks: Uint8Array[], options: DecoderOptions): Promise<DecodedEvent[] | string> {
    try {
      return await decodeChunks(chunks, options);
    } catch (error) {
      assert.ok(error instanceof ParseError, `not a ParseError: ${String(error)}`);
      return error.type;
    }
  }

  it("EventDecoderStream never throws on up to 4 KB of arbitrary bytes split anywhere, and under tight caps errors only with ParseError, the same for every split", async () => {
    await fc.assert(
      fc.asyncProperty(bytes, caps, splits, async (input, limits, points) => {
        const whole = await decodeChunks([input]); // default caps: never an error on 4 KB
        assert.deepEqual(await decodeChunks(splitAt(input, points)), whole);
        const capped = await outcome([input], limits);
        const cappedSplit = await outcome(splitAt(input, points), limits);
        if (typeof capped === "string" || typeof cappedSplit === "string") {
          // An error discards what was queued behind it, so only its type must agree.
          assert.equal(
            typeof cappedSplit === "string" ? cappedSplit : "events",
            typeof capped === "string" ? capped : "events",
          );
        } else {
          assert.deepEqual(cappedSplit, capped);
        }
      }),
      { numRuns: 300 },
    );
  });

  /**
   * Writes `chunk` over and over (the reader reading concurrently) until the stream errors or
   * `limit` bytes were written; returns how many bytes it took and the error.
   */
  async function flood(chunk: Uint8Array, limit: number, options: DecoderOptions = {}) {
    const stream = new EventDecoderStream(options);
    const writer = stream.writable.getWriter();
    const reading = stream.readable.pipeTo(new WritableStream()).then(
      () => undefined,
      (error: unknown) => error,
    );
    let written = 0;
    let error: unknown;
    while (written < limit) {
      try {
        await writer.write(chunk);
      } catch (caught) {
        error = caught;
        break;
      }
      written += chunk.byteLength;
    }
    if (error === undefined) await writer.close().catch((caught: unknown) => (error = caught));
    const readError = await reading;
    return { written, error: error ?? readError };
  }

  it("EventDecoderStream errors with ParseError line-too-long within one chunk of its cap on a 64 MB stream without a line break", async () => {
    const chunk = new TextEncoder().encode("a".repeat(64 * 1024));
    const { written, error } = await flood(chunk, 64 * 1024 * 1024);
    assert.ok(error instanceof ParseError && error.type === "line-too-long", String(error));
    assert.ok(written <= 1024 * 1024, `it took ${written} bytes before refusing`);
    console.log(`refused a line without a break after ${written} bytes (maxLineLength 1048576)`);
  });

  it("EventDecoderStream errors with ParseError event-too-large within one chunk of its cap on data lines that never dispatch", async () => {
    const chunk = new TextEncoder().encode(`data: ${"d".repeat(64 * 1024 - 7)}\n`);
    const { written, error } = await flood(chunk, 64 * 1024 * 1024);
    assert.ok(error instanceof ParseError && error.type === "event-too-large", String(error));
    assert.ok(written <= 16 * 1024 * 1024, `it took ${written} bytes before refusing`);
    console.log(`refused an event that never ends after ${written} bytes (maxEventSize 16777216)`);
  });

  it("EventDecoderStream errors with ParseError line-too-long when the line arrives one byte per chunk", async () => {
    const { written, error } = await flood(new Uint8Array([0x62]), 1024 * 1024, { maxLineLength: 64 * 1024 });
    assert.ok(error instanceof ParseError && error.type === "line-too-long", String(error));
    assert.equal(written, 64 * 1024);
  });

  it("EventDecoderStream holds nothing for 16 MB of blank lines, comments and unknown fields", async () => {
    const chunk = new TextEncoder().encode(
      "\n\r\n\r: comment\nunknown: field\nevent: e\nid: 1\n\n".repeat(1024),
    );
    let dispatched = 0;
    const stream = new EventDecoderStream();
    const reading = stream.readable.pipeTo(new WritableStream({ write: () => void dispatched++ }));
    const writer = stream.writable.getWriter();
    for (let written = 0; written < 16 * 1024 * 1024; written += chunk.byteLength) await writer.write(chunk);
    await writer.close();
    await reading;
    assert.equal(dispatched, 0);
  });
});

describe("Hub.publish against hostile payloads over HTTP", () => {
  it("Hub.publish sends each hostile string to a real client as exactly one event, or throws EventFieldError and sends nothing", async () => {
    const watch = watchUnhandled();
    const hub = new Hub<string>({ keepAlive: false });
    const server = serve((request) => hub.response(request, { topics: "t" }));
    const client = await SseClient.connect(`${server.url}/`);
    await until(() => hub.size === 1, "a subscriber");
    try {
      await fc.assert(
        fc.asyncProperty(hostileText, fc.option(hostileText, { nil: undefined }), async (data, event) => {
          let id: string;
          try {
            id = hub.publish("t", data, event === undefined ? undefined : { event }).id;
          } catch (error) {
            const expected = expectedError(event === undefined ? { data } : { event, data });
            assert.ok(expected && error instanceof EventFieldError, String(error));
            assert.deepEqual([error.field, error.type], expected);
            return;
          }
          const received = await withDeadline(client.next(), 10_000, "the published event");
          assert.deepEqual(received, {
            event: event || "message",
            id,
            data: data.split(LINE_BREAK).join("\n"),
          });
        }),
        { numRuns: 300 },
      );
      // Nothing extra arrived: the next event is the sentinel.
      hub.publish("t", "sentinel");
      assert.equal((await client.next()).data, "sentinel");
      assert.equal(client.buffered.length, 0);
    } finally {
      await client.close();
      hub.close();
      await server.close();
    }
    await watch.assertNone();
  });
});
