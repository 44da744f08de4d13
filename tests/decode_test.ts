import { describe, it } from "./helpers/timed.ts";
import assert from "node:assert/strict";
import fc from "fast-check";
import { EventDecoderStream, parseEventStream } from "../src/decode.ts";
import { decodeChunks as decode, splitAt } from "./helpers/chunks.ts";
import type { DecodedEvent } from "../src/decode.ts";
import { encodeEvent } from "../src/encode.ts";
import { ParseError } from "../src/errors.ts";
import type { ParseErrorType } from "../src/errors.ts";

const utf8 = new TextEncoder();

function concat(parts: Uint8Array[]): Uint8Array {
  const bytes = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.length;
  }
  return bytes;
}

const isParseError = (type: ParseErrorType, option: string) => (error: unknown): boolean => {
  assert.ok(error instanceof ParseError);
  assert.ok(error instanceof RangeError);
  assert.equal(error.name, "ParseError");
  assert.equal(error.type, type);
  assert.match(error.message, new RegExp(`\`${option}\``));
  return true;
};

const msg = (data: string, id = "", event = "message"): DecodedEvent => ({ event, data, id });

// A BOM, CRLF, CR and LF line ends, a comment, and 2-, 3- and 4-byte UTF-8 characters.
const FIXTURE = "\uFEFFevent: café\r\nid: ☃1\r\ndata: 😀 first\r\ndata: é\r\n\r\n: note ☃\r" +
  "data: second\r\rretry: 250\ndata: 😀\n\ndata: lost 😀";
const FIXTURE_EVENTS: DecodedEvent[] = [
  msg("😀 first\né", "☃1", "café"),
  msg("second", "☃1"),
  { ...msg("😀", "☃1"), retry: 250 },
];

describe("parseEventStream", () => {
  it("parseEventStream reads `data:test` and `data: test` alike (spec example)", () => {
    assert.deepEqual(parseEventStream("data:test\n\ndata: test\n\n"), [msg("test"), msg("test")]);
  });

  it("parseEventStream dispatches empty data and a lone LF, and discards the unterminated last event (spec example)", () => {
    assert.deepEqual(parseEventStream("data\n\ndata\ndata\n\ndata:"), [msg(""), msg("\n")]);
  });

  it("parseEventStream joins data lines with LF (spec stock-ticker example)", () => {
    assert.deepEqual(parseEventStream("data: YHOO\ndata: +2\ndata: 10\n\n"), [msg("YHOO\n+2\n10")]);
  });

  it("parseEventStream carries ids over, resets them with an empty id, and keeps a second space (spec example)", () => {
    const text =
      ": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n\n";
    assert.deepEqual(parseEventStream(text), [
      msg("first event", "1"),
      msg("second event"),
      msg(" third event"),
    ]);
  });

  it("parseEventStream sets the event type per block (spec add/remove example)", () => {
    const text = "event: add\ndata: 73857293\n\nevent: remove\ndata: 2153\n\nevent: add\ndata: 113411\n\n";
    assert.deepEqual(parseEventStream(text), [
      msg("73857293", "", "add"),
      msg("2153", "", "remove"),
      msg("113411", "", "add"),
    ]);
  });

  it("parseEventStream defaults the event type to `message` when it is absent or empty", () => {
    assert.deepEqual(parseEventStream("event: x\nevent:\ndata: a\n\n"), [msg("a")]);
  });

  it("parseEventStream resets the event type after a dispatch and after a block without data", () => {
    assert.deepEqual(parseEventStream("event: a\ndata: 1\n\ndata: 2\n\nevent: b\n\ndata: 3\n\n"), [
      msg("1", "", "a"),
      msg("2"),
      msg("3"),
    ]);
  });

  it("parseEventStream discards a block whose data buffer is empty", () => {
    assert.deepEqual(parseEventStream("event: x\nid: 1\nretry: 5\n\n\n\n: c\n\n"), []);
  });

  it("parseEventStream keeps the last event id across blocks, even blocks without data", () => {
    const text = "id: 1\ndata: a\n\ndata: b\n\nid: 2\n\ndata: c\n\nid:\ndata: d\n\n";
    assert.deepEqual(parseEventStream(text), [msg("a", "1"), msg("b", "1"), msg("c", "2"), msg("d")]);
  });

  it("parseEventStream ignores an id containing NUL", () => {
    assert.deepEqual(parseEventStream("id: 1\n\nid: 2\0x\ndata: a\n\n"), [msg("a", "1")]);
  });

  it("parseEventStream starts from `lastEventId` when given", () => {
    assert.deepEqual(parseEventStream("data: a\n\nid: 9\ndata: b\n\n", { lastEventId: "7" }), [
      msg("a", "7"),
      msg("b", "9"),
    ]);
  });

  it("parseEventStream reports a valid retry on its own block only, and to onRetry always", () => {
    const retries: number[] = [];
    const text = "retry: 10\n\nretry: 20\nretry:0030\ndata: a\n\ndata: b\n\nretry: 40\n";
    const events = parseEventStream(text, { onRetry: (ms) => retries.push(ms) });
    assert.deepEqual(events, [{ ...msg("a"), retry: 30 }, msg("b")]);
    assert.deepEqual(retries, [10, 20, 30, 40]);
  });

  it("parseEventStream accepts a retry up to the largest safe integer", () => {
    const events = parseEventStream(`retry: ${Number.MAX_SAFE_INTEGER}\ndata: a\n\n`);
    assert.deepEqual(events, [{ ...msg("a"), retry: Number.MAX_SAFE_INTEGER }]);
  });

  // Too large to hold exactly (a 400-digit one would be Infinity): browsers ignore such a value.
  const overflowing = ["9007199254740992", "1".repeat(17), "9".repeat(400)];
  for (const bad of ["", "1.5", "-1", "+1", "  1", "1 ", "1e3", "0x10", "١", "５", ...overflowing]) {
    const shown = bad.length > 20 ? `${bad.length} digits` : JSON.stringify(bad);
    it(`parseEventStream ignores retry when its value is ${shown}`, () => {
      const retries: number[] = [];
      const events = parseEventStream(`retry:${bad}\ndata: a\n\n`, { onRetry: (ms) => retries.push(ms) });
      assert.deepEqual(events, [msg("a")]);
      assert.deepEqual(retries, []);
    });
  }

  it("parseEventStream splits lines on LF, CR and CRLF alike", () => {
    const expected = [msg("a\nb", "1", "e")];
    for (const eol of ["\n", "\r", "\r\n"]) {
      assert.deepEqual(
        parseEventStream(["event: e", "id: 1", "data: a", "data: b", "", ""].join(eol)),
        expected,
      );
    }
    assert.deepEqual(parseEventStream("event: e\rid: 1\r\ndata: a\ndata: b\r\r\n"), expected);
  });

  it("parseEventStream reads CRLF as one line end but LF CR as two", () => {
    assert.deepEqual(parseEventStream("data: a\r\n\r\n"), [msg("a")]);
    assert.deepEqual(parseEventStream("data: a\n\rdata: b\n\n"), [msg("a"), msg("b")]);
    assert.deepEqual(parseEventStream("data: a\r\r\n"), [msg("a")]);
  });

  it("parseEventStream reads a line without a colon as a field with an empty value", () => {
    assert.deepEqual(parseEventStream("data\ndata\n\nevent\ndata:\n\n"), [msg("\n"), msg("")]);
  });

  it("parseEventStream splits at the first colon and removes exactly one leading space", () => {
    assert.deepEqual(parseEventStream("data:a:b\ndata::\ndata:  two\ndata:\tt\n\n"), [
      msg("a:b\n:\n two\n\tt"),
    ]);
  });

  it("parseEventStream matches field names case-sensitively and ignores unknown fields", () => {
    const text = "Data: x\nDATA: y\nEvent: e\nID: 1\nRetry: 5\nfoo: bar\ndata : z\n data: w\ndata: ok\n\n";
    assert.deepEqual(parseEventStream(text), [msg("ok")]);
  });

  it("parseEventStream passes comments to onComment with one leading space removed", () => {
    const comments: string[] = [];
    const text = ": hello\n:\n:  two\n::x\n:data: y\ndata: a\n\n";
    assert.deepEqual(parseEventStream(text, { onComment: (c) => comments.push(c) }), [msg("a")]);
    assert.deepEqual(comments, ["hello", "", " two", ":x", "data: y"]);
  });

  it("parseEventStream discards the incomplete last event when the text ends without a blank line", () => {
    assert.deepEqual(parseEventStream("data: a\n\ndata: b\n"), [msg("a")]);
    assert.deepEqual(parseEventStream("data: a\n\ndata: b"), [msg("a")]);
    assert.deepEqual(parseEventStream("data: a\n\ndata: b\r"), [msg("a")]);
  });

  it("parseEventStream strips one BOM at the start only", () => {
    assert.deepEqual(parseEventStream("\uFEFFdata: a\n\n"), [msg("a")]);
    // A second BOM belongs to the first line's field name, which is then unknown.
    assert.deepEqual(parseEventStream("\uFEFF\uFEFFdata: a\n\ndata: b\n\n"), [msg("b")]);
    assert.deepEqual(parseEventStream("data: \uFEFFa\n\n\uFEFFdata: b\n\n"), [msg("\uFEFFa")]);
  });

  it("parseEventStream keeps NUL, U+FFFD and astral characters in data", () => {
    assert.deepEqual(parseEventStream("data: \0\uFFFD😀\n\n"), [msg("\0\uFFFD😀")]);
  });

  it("parseEventStream throws ParseError `line-too-long` when a line passes maxLineLength", () => {
    assert.deepEqual(parseEventStream("data: 1234\n\n", { maxLineLength: 10 }), [msg("1234")]);
    assert.throws(
      () => parseEventStream("data: 12345\n\n", { maxLineLength: 10 }),
      isParseError("line-too-long", "maxLineLength"),
    );
    assert.throws(
      () => parseEventStream("data: 12345", { maxLineLength: 10 }),
      isParseError("line-too-long", "maxLineLength"),
    );
  });

  it("parseEventStream throws ParseError `event-too-large` when the data buffer passes maxEventSize", () => {
    // The data buffer holds each line plus its LF: "ab\ncd\n" is 6.
    assert.deepEqual(parseEventStream("data: ab\ndata: cd\n\n", { maxEventSize: 6 }), [msg("ab\ncd")]);
    assert.throws(
      () => parseEventStream("data: ab\ndata: cde\n\n", { maxEventSize: 6 }),
      isParseError("event-too-large", "maxEventSize"),
    );
  });

  it("parseEventStream counts maxEventSize per event, not per stream", () => {
    assert.equal(parseEventStream("data: abcd\n\n".repeat(100), { maxEventSize: 5 }).length, 100);
  });

  it("parseEventStream throws RangeError when a cap is negative or not a number", () => {
    for (const bad of [-1, Number.NaN]) {
      assert.throws(() => parseEventStream("", { maxLineLength: bad }), RangeError);
      assert.throws(() => parseEventStream("", { maxEventSize: bad }), RangeError);
    }
    assert.deepEqual(parseEventStream("data: a\n\n", { maxLineLength: Infinity, maxEventSize: Infinity }), [
      msg("a"),
    ]);
  });
});

describe("EventDecoderStream", () => {
  it("EventDecoderStream decodes the fixture in one chunk", async () => {
    assert.deepEqual(await decode([utf8.encode(FIXTURE)]), FIXTURE_EVENTS);
    assert.deepEqual(parseEventStream(FIXTURE), FIXTURE_EVENTS);
  });

  it("EventDecoderStream decodes the same events when the bytes are split at every position", async () => {
    const bytes = utf8.encode(FIXTURE);
    for (let i = 0; i <= bytes.length; i++) {
      const events = await decode([bytes.subarray(0, i), bytes.subarray(i)]);
      assert.deepEqual(events, FIXTURE_EVENTS, `split at byte ${i}`);
    }
  });

  it("EventDecoderStream decodes the same events when fed one byte at a time", async () => {
    const bytes = utf8.encode(FIXTURE);
    const chunks = Array.from(bytes, (_, i) => bytes.subarray(i, i + 1));
    assert.deepEqual(await decode(chunks), FIXTURE_EVENTS);
  });

  it("EventDecoderStream decodes the same events when fed one UTF-16 code unit at a time as strings", async () => {
    assert.deepEqual(await decode(FIXTURE.split("")), FIXTURE_EVENTS);
  });

  it("EventDecoderStream reads a CRLF split across chunks as one line end", async () => {
    assert.deepEqual(await decode(["data: a\r", "\ndata: b\r", "\n\r", "\n"]), [msg("a\nb")]);
    assert.deepEqual(await decode(["data: a\r", "", "\n", "\r", "", "\n"]), [msg("a")]);
    const bytes = (text: string) => utf8.encode(text);
    assert.deepEqual(await decode([bytes("data: a\r"), bytes("\ndata: b\r"), bytes("\n\r"), bytes("\n")]), [
      msg("a\nb"),
    ]);
  });

  it("EventDecoderStream reads a CR at the end of a chunk followed by CR or text as its own line end", async () => {
    assert.deepEqual(await decode(["data: a\r", "\r"]), [msg("a")]);
    assert.deepEqual(await decode(["data: a\r", "data: b\r", "\r"]), [msg("a\nb")]);
  });

  it("EventDecoderStream replaces invalid UTF-8 with U+FFFD without erroring", async () => {
    const bytes = new Uint8Array([
      ...utf8.encode("data: "),
      0xff,
      0xc3,
      0x28,
      0xe2,
      0x98,
      ...utf8.encode("\n\n"),
    ]);
    assert.deepEqual(await decode([bytes]), [msg("\uFFFD\uFFFD(\uFFFD")]);
    assert.deepEqual(await decode(splitAt(bytes, [7, 9, 11])), [msg("\uFFFD\uFFFD(\uFFFD")]);
  });

  it("EventDecoderStream ends quietly when the stream stops inside a multi-byte character", async () => {
    const bytes = utf8.encode("data: a\n\ndata: 😀");
    assert.deepEqual(await decode([bytes.subarray(0, bytes.length - 2)]), [msg("a")]);
  });

  it("EventDecoderStream strips a BOM split across chunks", async () => {
    const bytes = utf8.encode("\uFEFFdata: a\n\n");
    assert.deepEqual(await decode(splitAt(bytes, [1, 2])), [msg("a")]);
    assert.deepEqual(await decode([new Uint8Array(), bytes.subarray(0, 1), bytes.subarray(1)]), [msg("a")]);
  });

  it("EventDecoderStream strips the BOM once only when a second one follows in the next chunk", async () => {
    assert.deepEqual(await decode(["\uFEFF", "\uFEFFdata: a\n\ndata: b\n\n"]), [msg("b")]);
    assert.deepEqual(await decode(["", "\uFEFF", "data: a\n\n"]), [msg("a")]);
    assert.deepEqual(await decode(["data: a\n\n", "\uFEFFdata: b\n\n"]), [msg("a")]);
  });

  it("EventDecoderStream accepts string and byte chunks mixed", async () => {
    const snowman = utf8.encode("☃");
    const chunks = ["data: a", utf8.encode("b\r"), "\ndata: ", snowman, "\n\n"];
    assert.deepEqual(await decode(chunks), [msg("ab\n☃")]);
    // A character cut short by a string chunk becomes U+FFFD, as at the end of the stream.
    assert.deepEqual(await decode(["data: ", snowman.subarray(0, 2), "x\n\n"]), [msg("\uFFFDx")]);
  });

  it("EventDecoderStream passes options through: lastEventId, onRetry and onComment", async () => {
    const retries: number[] = [];
    const comments: string[] = [];
    const events = await decode(["retry: 5\n: hi\n", "data: a\n\n"], {
      lastEventId: "3",
      onRetry: (ms) => retries.push(ms),
      onComment: (text) => comments.push(text),
    });
    assert.deepEqual(events, [{ ...msg("a", "3"), retry: 5 }]);
    assert.deepEqual(retries, [5]);
    assert.deepEqual(comments, ["hi"]);
  });

  it("EventDecoderStream decodes a long line fed in many small chunks", async () => {
    const chunks = ["data: ", ...("x".repeat(20_000).match(/.{1,3}/g) ?? []), "\n\n"];
    const events = await decode(chunks);
    assert.equal(events.length, 1);
    assert.equal(events[0]?.data, "x".repeat(20_000));
  });

  it("EventDecoderStream errors the stream with ParseError `line-too-long` instead of throwing from write", async () => {
    const stream = new EventDecoderStream({ maxLineLength: 8 });
    const writer = stream.writable.getWriter();
    const reader = stream.readable.getReader();
    let write: Promise<void> | undefined;
    assert.doesNotThrow(() => {
      write = writer.write("data: 1234");
    });
    await assert.rejects(reader.read(), isParseError("line-too-long", "maxLineLength"));
    await assert.rejects(write ?? Promise.resolve(), isParseError("line-too-long", "maxLineLength"));
  });

  it("EventDecoderStream errors with ParseError `line-too-long` when a pending line grows past the cap over chunks", async () => {
    assert.deepEqual(await decode(["data: ", "12", "34", "\n\n"], { maxLineLength: 10 }), [msg("1234")]);
    await assert.rejects(
      decode(["data: ", "12", "34", "5"], { maxLineLength: 10 }),
      isParseError("line-too-long", "maxLineLength"),
    );
  });

  it("EventDecoderStream errors with ParseError `event-too-large` when data lines over chunks pass maxEventSize", async () => {
    const chunks = ["data: 12\n", "data: 34\n", "data: 56\n", "\n"];
    assert.deepEqual(await decode(chunks, { maxEventSize: 9 }), [msg("12\n34\n56")]);
    await assert.rejects(
      decode(chunks, { maxEventSize: 8 }),
      isParseError("event-too-large", "maxEventSize"),
    );
  });

  it("EventDecoderStream throws RangeError from the constructor when a cap is invalid", () => {
    assert.throws(() => new EventDecoderStream({ maxLineLength: -1 }), RangeError);
  });
});

describe("EventDecoderStream (properties)", () => {
  const lineField = fc.string({ unit: "binary", maxLength: 12 }).filter((s) => !/[\r\n\0]/.test(s));
  const dataUnit = fc.oneof(
    fc.constantFrom("\r", "\n", "\r\n", " ", ":"),
    fc.string({ unit: "grapheme", minLength: 1, maxLength: 1 }),
    fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
  );
  const event = fc
    .record(
      {
        data: fc.string({ unit: dataUnit, maxLength: 20 }),
        event: lineField,
        id: lineField,
        retry: fc.nat(),
      },
      { requiredKeys: [] },
    )
    .filter((e) => Object.keys(e).length > 0);
  const splits = fc.array(fc.nat({ max: 300 }), { maxLength: 12 });

  it("EventDecoderStream round-trips encodeEvent output split at arbitrary positions", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(event, { maxLength: 6 }), splits, async (events, points) => {
        const bytes = concat(events.map((e) => encodeEvent(e)));
        const expected: DecodedEvent[] = [];
        let lastId = "";
        for (const e of events) {
          if (e.id !== undefined) lastId = e.id;
          if (e.data === undefined) continue;
          const decoded = msg(e.data.replace(/\r\n|\r|\n/g, "\n"), lastId, e.event || "message");
          expected.push(e.retry === undefined ? decoded : { ...decoded, retry: e.retry });
        }
        assert.deepEqual(await decode(splitAt(bytes, points)), expected);
      }),
      { numRuns: 150 },
    );
  });

  const token = fc.oneof(
    fc.constantFrom(
      "data",
      "event",
      "id",
      "retry",
      "Data",
      ":",
      " ",
      "\r",
      "\n",
      "\r\n",
      "\uFEFF",
      "é",
      "😀",
      "\0",
      "12",
    ),
    fc.string({ unit: "binary", maxLength: 3 }),
  );

  it("EventDecoderStream matches a naive reference parser on arbitrary text split at arbitrary byte positions and into single bytes", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(token, { maxLength: 40 }), splits, async (tokens, points) => {
        const text = tokens.join("");
        const expected = referenceParse(text);
        assert.deepEqual(parseEventStream(text), expected);
        const bytes = utf8.encode(text);
        assert.deepEqual(await decode(splitAt(bytes, points)), expected);
        assert.deepEqual(await decode(Array.from(bytes, (_, i) => bytes.subarray(i, i + 1))), expected);
      }),
      { numRuns: 150 },
    );
  });

  it("EventDecoderStream never errors on arbitrary bytes and gives the same events for any split", async () => {
    const interesting = fc.constantFrom(
      0x0a,
      0x0d,
      0x3a,
      0x20,
      0x64,
      0xef,
      0xbb,
      0xbf,
      0xc3,
      0xa9,
      0xf0,
      0x9f,
    );
    const byteArrays = fc.array(fc.oneof(fc.integer({ min: 0, max: 255 }), interesting), { maxLength: 80 });
    await fc.assert(
      fc.asyncProperty(byteArrays, splits, async (array, points) => {
        const bytes = new Uint8Array(array);
        const whole = await decode([bytes]);
        assert.deepEqual(await decode(splitAt(bytes, points)), whole);
        assert.deepEqual(await decode(Array.from(bytes, (_, i) => bytes.subarray(i, i + 1))), whole);
        assert.deepEqual(
          parseEventStream(new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes)),
          whole,
        );
      }),
      { numRuns: 150 },
    );
  });
});

/** The WHATWG algorithm written as plainly as possible, for the property tests. */
function referenceParse(input: string): DecodedEvent[] {
  const lines = (input.startsWith("\uFEFF") ? input.slice(1) : input).split(/\r\n|\r|\n/);
  lines.pop(); // the text after the last line end is not a line
  const events: DecodedEvent[] = [];
  let id = "";
  let type = "";
  let data = "";
  let retry: number | undefined;
  for (const line of lines) {
    if (line === "") {
      if (data !== "") {
        const event = msg(data.slice(0, -1), id, type === "" ? "message" : type);
        events.push(retry === undefined ? event : { ...event, retry });
      }
      [type, data, retry] = ["", "", undefined];
      continue;
    }
    if (line.startsWith(":")) continue;
    const match = /^([^:]*)(?::(.*))?$/s.exec(line);
    const name = match?.[1] ?? "";
    const raw = match?.[2] ?? "";
    const value = raw.startsWith(" ") ? raw.slice(1) : raw;
    if (name === "event") type = value;
    if (name === "data") data += `${value}\n`;
    if (name === "id" && !value.includes("\0")) id = value;
    if (name === "retry" && /^[0-9]+$/.test(value) && Number.isSafeInteger(Number(value))) {
      retry = Number(value);
    }
  }
  return events;
}
