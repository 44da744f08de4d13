/**
 * A ready JSON publish endpoint: `POST {"topic": "…", "msg": "…"}` → the event
 * goes to every subscriber of the topic. Every refusal has its own status and a
 * JSON body `{"error": "…"}`; the body is read chunk by chunk under a byte limit
 * and a deadline, so no request can make it buffer without bound or wait forever.
 *
 * @module
 */
import { EventFieldError, HubError } from "./errors.ts";
import type { Hub } from "./hub.ts";

/** What the endpoint publishes: a topic, the payload, and an optional event type. */
export interface PublishInput<T> {
  /** The topic (checked against the hub's topic rule). */
  topic: string;
  /** The payload. */
  data: T;
  /** The event type (`event:` field), when one was given. */
  event?: string;
}

/** The part of a {@linkcode Hub} the endpoint uses. */
export type PublishTarget<T> = Pick<Hub<T>, "publishAsync" | "closed">;

/**
 * Turns a parsed JSON body into what to publish: return a {@linkcode PublishInput}
 * to publish it, a string saying why to refuse it with 422, or a `Response` to
 * answer yourself.
 */
export type PublishValidator<T> = (
  body: unknown,
  request: Request,
) => PublishInput<T> | string | Response | Promise<PublishInput<T> | string | Response>;

/** A request handler: `(request) => Promise<Response>`. */
export type PublishHandler = (request: Request) => Promise<Response>;

/** Options for {@linkcode publishHandler}. Every field is optional. */
export interface PublishHandlerOptions<T> {
  /**
   * The largest body accepted, in bytes. Enforced while reading: the body is
   * cancelled and 413 sent as soon as it is passed (or at once when
   * `Content-Length` announces more).
   * @default {65536}
   */
  maxBytes?: number;
  /**
   * Milliseconds allowed to receive the whole body; a slower one is cancelled with 408.
   * @default {10000}
   */
  readTimeout?: number;
  /**
   * The deepest nesting of arrays and objects accepted (the top-level object is
   * depth 1); deeper JSON is refused with 400 before it is parsed.
   * @default {32}
   */
  maxDepth?: number;
  /**
   * The field holding the topic (without `validate`).
   * @default {"topic"}
   */
  topicField?: string;
  /**
   * The field holding the message, a non-empty string (without `validate`).
   * @default {"msg"}
   */
  dataField?: string;
  /**
   * The optional field holding the event type; `false` ignores it (without `validate`).
   * @default {"event"}
   */
  eventField?: string | false;
  /**
   * Your own check and mapping of the parsed body, instead of the field names
   * above. Return what to publish, a string (refused with 422 and that message) or a `Response`.
   * @default {undefined}
   */
  validate?: PublishValidator<T>;
  /**
   * Decides whether the request may publish, before its body is read: `true`
   * allows, `false` answers 403, a `Response` is sent as it is (e.g. a 401).
   * @default {undefined}
   */
  authorize?: (request: Request) => boolean | Response | Promise<boolean | Response>;
  /**
   * Extra headers on every response the handler makes (e.g. CORS); not added to
   * a `Response` returned by `authorize` or `validate`.
   * @default {undefined}
   */
  headers?: HeadersInit;
  /**
   * Told about unexpected failures: a throwing `validate`, a bridge that refused
   * the event. The client gets a 500 or 503 without the details.
   * @default {undefined}
   */
  onError?: (error: unknown, request: Request) => void;
}

const DEFAULT_MAX_BYTES = 64 * 1024;
const JSON_TYPE = /^application\/(?:[a-z0-9!#$&^_.-]+\+)?json$/;
const CHARSET = /;\s*charset\s*=\s*"?([^";\s]*)"?/i;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Makes a JSON publish endpoint for a hub. It answers:
 *
 * - 200 `{"delivered": n, "topic": "…", "id": "…"}` once published (`delivered`
 *   counts this instance's subscribers);
 * - 405 (with `Allow: POST`) to any other method;
 * - 415 unless `Content-Type` is `application/json` (or `…+json`) in UTF-8;
 * - 413 for a body over `maxBytes`, 408 for one slower than `readTimeout`;
 * - 400 for a body that is not UTF-8, not JSON, or nested deeper than `maxDepth`;
 * - 422 for JSON that is not an object with a non-empty string topic and message
 *   (and optional string event), for a topic the hub refuses, and for a payload
 *   that cannot be sent unchanged (e.g. a lone surrogate from a `\ud800` escape);
 * - 403 (or your response) when `authorize` refuses; 503 when the hub is closed
 *   or its bridge refused the event; 500 when `validate` throws.
 *
 * Every refusal has a JSON body `{"error": "…"}`; nothing is published, so
 * subscribers never see a bad request. It publishes with `hub.publishAsync`, so
 * it works with bridged hubs too.
 *
 * @param hub The hub to publish to.
 * @param options Limits, field names or a validator, access check and headers.
 * @returns A `(request) => Promise<Response>` handler for your router.
 * @throws {RangeError} When a limit is not a positive integer.
 *
 * @example Serve it next to the event streams
 * ```ts
 * import { Hub, publishHandler } from "@sse-hub/sse-hub";
 *
 * const hub = new Hub<string>();
 * const publish = publishHandler(hub, { maxBytes: 16 * 1024 });
 * const response = await publish(
 *   new Request("http://localhost/publish", {
 *     method: "POST",
 *     headers: { "content-type": "application/json" },
 *     body: JSON.stringify({ topic: "news", msg: "hello" }),
 *   }),
 * );
 * console.log(response.status, await response.json()); // 200 { delivered: 0, topic: "news", id: "…" }
 * hub.close();
 * ```
 */
export function publishHandler(
  hub: PublishTarget<string>,
  options?: PublishHandlerOptions<string>,
): PublishHandler;
/**
 * Makes a JSON publish endpoint for a hub of any payload type, with your own `validate`.
 *
 * @param hub The hub to publish to.
 * @param options Limits, the validator, access check and headers.
 * @returns A `(request) => Promise<Response>` handler for your router.
 * @throws {RangeError} When a limit is not a positive integer.
 *
 * @example Publish JSON objects
 * ```ts
 * import { Hub, publishHandler } from "@sse-hub/sse-hub";
 *
 * const hub = new Hub<{ text: string; from: string }>();
 * const publish = publishHandler(hub, {
 *   validate: (body) => {
 *     const { room, text } = body as { room?: unknown; text?: unknown };
 *     if (typeof room !== "string" || typeof text !== "string") return "`room` and `text` must be strings";
 *     return { topic: `room.${room}`, data: { text, from: "anonymous" } };
 *   },
 * });
 * hub.close();
 * ```
 */
export function publishHandler<T>(
  hub: PublishTarget<T>,
  options: PublishHandlerOptions<T> & { validate: PublishValidator<T> },
): PublishHandler;
export function publishHandler<T>(
  hub: PublishTarget<T>,
  options: PublishHandlerOptions<T> = {},
): PublishHandler {
  const maxBytes = positive("maxBytes", options.maxBytes ?? DEFAULT_MAX_BYTES);
  const readTimeout = positive("readTimeout", options.readTimeout ?? 10_000);
  const maxDepth = positive("maxDepth", options.maxDepth ?? 32);
  const extract = options.validate ?? (fieldExtractor(options) as unknown as PublishValidator<T>);
  const reply = (status: number, body: unknown, headers?: HeadersInit): Response => {
    const all = new Headers(options.headers);
    if (headers) new Headers(headers).forEach((value, name) => all.set(name, value));
    all.set("content-type", "application/json; charset=utf-8");
    all.set("cache-control", "no-store");
    return new Response(JSON.stringify(body), { status, headers: all });
  };
  const refuse = (request: Request, status: number, error: string, headers?: HeadersInit): Response => {
    discard(request);
    return reply(status, { error }, headers);
  };

  return async (request) => {
    if (request.method !== "POST") {
      return refuse(request, 405, `method ${request.method} is not allowed: use POST`, { allow: "POST" });
    }
    if (hub.closed) return refuse(request, 503, "the hub is closed");
    if (options.authorize) {
      const verdict = await options.authorize(request);
      if (verdict !== true) {
        if (verdict === false) return refuse(request, 403, "forbidden");
        discard(request);
        return verdict;
      }
    }
    const type = request.headers.get("content-type") ?? "";
    const mediaType = type.split(";", 1)[0]!.trim().toLowerCase();
    const charset = CHARSET.exec(type)?.[1]?.toLowerCase();
    if (!JSON_TYPE.test(mediaType) || (charset !== undefined && charset !== "utf-8" && charset !== "utf8")) {
      return refuse(request, 415, "`Content-Type` must be application/json (UTF-8)");
    }
    const length = request.headers.get("content-length");
    if (length !== null && /^\d+$/.test(length) && Number(length) > maxBytes) {
      return refuse(request, 413, `the body is larger than ${maxBytes} bytes`);
    }
    const read = await readBody(request.body, maxBytes, readTimeout);
    if (typeof read === "number") {
      if (read === 413) return reply(413, { error: `the body is larger than ${maxBytes} bytes` });
      if (read === 408) return reply(408, { error: `the body was not received within ${readTimeout} ms` });
      return reply(400, { error: "the body could not be read" });
    }
    let text: string;
    try {
      text = utf8.decode(read);
    } catch {
      return reply(400, { error: "the body is not valid UTF-8" });
    }
    if (nestedDeeperThan(text, maxDepth)) {
      return reply(400, { error: `the JSON is nested deeper than ${maxDepth} levels` });
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return reply(400, { error: "the body is not valid JSON" });
    }
    let input: PublishInput<T> | string | Response;
    try {
      input = await extract(body, request);
    } catch (error) {
      options.onError?.(error, request);
      return reply(500, { error: "the request could not be checked" });
    }
    if (typeof input === "string") return reply(422, { error: input });
    if (input instanceof Response) return input;
    try {
      const { topic, data, event } = input;
      const result = await hub.publishAsync(topic, data, event === undefined ? undefined : { event });
      return reply(200, { delivered: result.delivered, topic: result.topic, id: result.id });
    } catch (error) {
      if (error instanceof HubError && error.type === "invalid-topic") {
        return reply(422, { error: error.message });
      }
      if (error instanceof EventFieldError) return reply(422, { error: error.message });
      if (error instanceof HubError && error.type === "closed") {
        return reply(503, { error: "the hub is closed" });
      }
      options.onError?.(error, request);
      return reply(503, { error: "the event could not be published" });
    }
  };
}

// The default extraction: `{ [topicField]: string, [dataField]: string, [eventField]?: string }`.
function fieldExtractor(
  options: Pick<PublishHandlerOptions<unknown>, "topicField" | "dataField" | "eventField">,
): PublishValidator<string> {
  const topicField = options.topicField ?? "topic";
  const dataField = options.dataField ?? "msg";
  const eventField = options.eventField ?? "event";
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

/**
 * Reads a body chunk by chunk: the bytes, or the status that ends the read
 * (413 past `maxBytes`, 408 past `timeout`, 400 when the stream fails).
 */
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

// A refused request's body is never read: release it (not awaited, errors ignored).
function discard(request: Request): void {
  if (request.body !== null && !request.bodyUsed) request.body.cancel().catch(() => {});
}

function positive(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`\`${name}\` must be a positive integer, got ${value}`);
  }
  return value;
}
