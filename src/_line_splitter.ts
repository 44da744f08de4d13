/**
 * Internal: UTF-8 bytes or text → lines, as the event-stream grammar splits them.
 * Not re-exported.
 *
 * @module
 */
import { ParseError } from "./errors.ts";

const LF = 10;
const BOM = 0xfeff;

/**
 * Splits a chunked event stream into lines ending in CRLF, LF or CR, in one
 * forward pass (O(n) for any chunking). Decodes bytes with a streaming
 * `TextDecoder` (invalid bytes become U+FFFD), strips one BOM at the very
 * start, treats a CR at the end of one chunk and an LF at the start of the
 * next as one line end, and keeps an unterminated line pending.
 */
export class LineSplitter {
  readonly #onLine: (line: string) => void;
  readonly #maxLineLength: number;
  #decoder: TextDecoder | undefined;
  #started = false;
  #afterCR = false;
  #parts: string[] = [];
  #pendingLength = 0;

  /**
   * @param maxLineLength The longest line (in UTF-16 code units) to accept or keep pending.
   * @param onLine Called with each complete line, without its line end.
   */
  constructor(maxLineLength: number, onLine: (line: string) => void) {
    this.#maxLineLength = maxLineLength;
    this.#onLine = onLine;
  }

  /**
   * Feeds one chunk; calls `onLine` for every line it completes.
   *
   * @param chunk Text, or UTF-8 bytes (a multi-byte character may span chunks).
   * @throws {ParseError} With type `"line-too-long"`, or whatever `onLine` throws.
   */
  push(chunk: string | Uint8Array): void {
    if (typeof chunk === "string") {
      if (this.#decoder !== undefined) this.#text(this.#decoder.decode()); // flush a split character
      this.#text(chunk);
    } else {
      this.#decoder ??= new TextDecoder("utf-8", { ignoreBOM: true });
      this.#text(this.#decoder.decode(chunk, { stream: true }));
    }
  }

  /** Ends the stream: an unterminated last line (and any partial character) is discarded. */
  end(): void {
    this.#decoder = undefined;
    this.#parts = [];
    this.#pendingLength = 0;
  }

  #text(text: string): void {
    const n = text.length;
    if (n === 0) return;
    let start = 0;
    if (!this.#started) {
      this.#started = true;
      if (text.charCodeAt(0) === BOM) start = 1;
    }
    if (this.#afterCR) {
      this.#afterCR = false;
      if (text.charCodeAt(start) === LF) start++; // the second half of a CRLF split across chunks
    }
    // Two cursors, each only moving forward: every character is scanned once per cursor.
    let cr = text.indexOf("\r", start);
    let lf = text.indexOf("\n", start);
    while (cr !== -1 || lf !== -1) {
      const lineStart = start;
      let end: number;
      if (lf === -1 || (cr !== -1 && cr < lf)) {
        end = cr;
        if (cr + 1 === n) this.#afterCR = true;
        start = lf === cr + 1 ? cr + 2 : cr + 1;
      } else {
        end = lf;
        start = lf + 1;
      }
      let line = text.slice(lineStart, end);
      if (this.#parts.length > 0) {
        this.#checkLength(this.#pendingLength + line.length);
        this.#parts.push(line);
        line = this.#parts.join("");
        this.#parts = [];
        this.#pendingLength = 0;
      } else {
        this.#checkLength(line.length);
      }
      this.#onLine(line);
      if (cr !== -1 && cr < start) cr = text.indexOf("\r", start);
      if (lf !== -1 && lf < start) lf = text.indexOf("\n", start);
    }
    if (start < n) {
      this.#pendingLength += n - start;
      this.#checkLength(this.#pendingLength);
      this.#parts.push(text.slice(start));
    }
  }

  #checkLength(length: number): void {
    if (length > this.#maxLineLength) {
      throw new ParseError(
        "line-too-long",
        `a line is longer than \`maxLineLength\` (${this.#maxLineLength} characters)`,
      );
    }
  }
}
