// Reading an untrusted JSON request body within bounds: media type and charset checked
// before any byte is read, the body read chunk by chunk under a byte limit and a deadline
// (cancelled the moment either is passed), UTF-8 decoded strictly, nesting checked before
// parsing. Every way it can fail is a status and a one-line reason. Then the default
// reading of what to publish from it (named fields).
import { positive } from "./_positive.ts";

/** The bounds a body is read within. */
export interface BodyLimits {
  /** The largest body accepted, in bytes. */
  maxBytes: number;
  /** Milliseconds allowed for the whole body. */
  readTimeout: number;
  /** The deepest nesting of arrays and objects accepted. */
  maxDepth: number;
}

/** A body that was not accepted: the status to answer and why. */
export interface BodyRefusal {
  status: 400 | 408 | 413 | 415;
  error: string;
}

/**
 * The limits of `options` with their defaults (64 KiB, 10 s, depth 32).
 * @throws {RangeError} When one is not a positive integer.
 */
export function bodyLimits(options: Partial<BodyLimits>): BodyLimits {
  return {
    maxBytes: positive("maxBytes", options.maxBytes ?? 64 * 1024),
    readTimeout: positive("readTimeout", options.readTimeout ?? 10_000),
    maxDepth: positive("maxDepth", options.maxDepth ?? 32),
  };
}

const JSON_TYPE = /^application\/(?:[a-z0-9!#$&^_.-]+\+)?json$/;
const CHARSET = /;\s*charset\s*=\s*"?([^";\s]*)"?/i;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The parsed JSON body of `request` (`{ json }`), or why it was refused. */
export async function readJsonBody(
  request: Request,
  limits: BodyLimits,
): Promise<{ json: unknown } | BodyRefusal> {
  const { maxBytes, readTimeout, maxDepth } = limits;
  const type = request.headers.get("content-type") ?? "";
  const mediaType = type.split(";", 1)[0]!.trim().toLowerCase();
  const charset = CHARSET.exec(type)?.[1]?.toLowerCase();
  if (!JSON_TYPE.test(mediaType) || (charset !== undefined && charset !== "utf-8" && charset !== "utf8")) {
    discard(request);
    return { status: 415, error: "`Content-Type` must be application/json (UTF-8)" };
  }
  const tooLarge: BodyRefusal = { status: 413, error: `the body is larger than ${maxBytes} bytes` };
  const length = request.headers.get("content-length");
  if (length !== null && /^\d+$/.test(length) && Number(length) > maxBytes) {
    discard(request);
    return tooLarge;
  }
  const read = await readBody(request.body, maxBytes, readTimeout);
  if (read === 413) return tooLarge;
  if (read === 408) return { status: 408, error: `the body was not received within ${readTimeout} ms` };
  if (read === 400) return { status: 400, error: "the body could not be read" };
  let text: string;
  try {
    text = utf8.decode(read);
  } catch {
    return { status: 400, error: "the body is not valid UTF-8" };
  }
  if (nestedDeeperThan(text, maxDepth)) {
    return { status: 400, error: `the JSON is nested deeper than ${maxDepth} levels` };
  }
  try {
    return { json: JSON.parse(text) };
  } catch {
    return { status: 400, error: "the body is not valid JSON" };
  }
}

/** The field names {@linkcode fieldReader} reads (`false`: no event field). */
export interface FieldNames {
  topicField?: string;
  dataField?: string;
  eventField?: string | false;
}

/**
 * The publish endpoint's default reading of a body: `{ [topicField]: string, [dataField]:
 * string, [eventField]?: string }`, own properties only, all non-empty; else why not (422).
 */
export function fieldReader(
  names: FieldNames,
): (body: unknown) => { topic: string; data: string; event?: string } | string {
  const topicField = names.topicField ?? "topic";
  const dataField = names.dataField ?? "msg";
  const eventField = names.eventField ?? "event";
  return (body) => {
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      return "the body must be a JSON object";
    }
    const record = body as Record<string, unknown>;
    const topic = Object.hasOwn(record, topicField) ? record[topicField] : undefined;
    const data = Object.hasOwn(record, dataField) ? record[dataField] : undefined;
    if (typeof topic !== "string" || topic === "") return `\`${topicField}\` must be a non-empty string`;
    if (typeof data !== "string" || data === "") return `\`${dataField}\` must be a non-empty string`;
    if (eventField === false || !Object.hasOwn(record, eventField)) return { topic, data };
    const event = record[eventField];
    if (typeof event !== "string" || event === "") {
      return `\`${eventField}\` must be a non-empty string when given`;
    }
    return { topic, data, event };
  };
}

/** A refused request's body is never read: release it (not awaited, errors ignored). */
export function discard(request: Request): void {
  if (request.body !== null && !request.bodyUsed) request.body.cancel().catch(() => {});
}

// Reads a body chunk by chunk: the bytes, or the status that ends the read (413 past
// `maxBytes`, 408 past `timeout`, 400 when the stream fails or is already taken).
async function readBody(
  body: ReadableStream<Uint8Array> | null,
  maxBytes: number,
  timeout: number,
): Promise<Uint8Array | 400 | 408 | 413> {
  if (body === null) return new Uint8Array(0);
  let reader: ReadableStreamDefaultReader<Uint8Array>;
  try {
    reader = body.getReader();
  } catch {
    return 400; // already read or locked by someone else
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<"expired">((resolve) => {
    timer = setTimeout(() => resolve("expired"), timeout);
  });
  const chunks: Uint8Array[] = [];
  let size = 0;
  let outcome: 400 | 408 | 413 | undefined;
  try {
    for (;;) {
      const result = await Promise.race([reader.read(), expired]);
      if (result === "expired") {
        outcome = 408;
        break;
      }
      if (result.done) break;
      if (!(result.value instanceof Uint8Array)) {
        outcome = 400;
        break;
      }
      size += result.value.byteLength;
      if (size > maxBytes) {
        outcome = 413;
        break;
      }
      chunks.push(result.value);
    }
  } catch {
    outcome = 400;
  } finally {
    clearTimeout(timer);
  }
  if (outcome !== undefined) {
    // Not awaited: a peer that stopped sending must not hold the answer back.
    reader.cancel().catch(() => {});
    return outcome;
  }
  if (chunks.length === 1) return chunks[0]!;
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

// Whether arrays/objects nest deeper than `max` (one pass; strings and escapes skipped).
function nestedDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}
