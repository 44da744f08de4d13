/**
 * A ready JSON publish endpoint: `POST {"topic": "…", "msg": "…"}` → the event
 * goes to every subscriber of the topic. Every refusal has its own status and a
 * JSON body `{"error": "…"}`; the body is read chunk by chunk under a byte limit
 * and a deadline, so no request can make it buffer without bound or wait forever.
 *
 * @module
 */
import { EventFieldError, HubError, type HubErrorType } from "./errors.ts";
import { mergeHeaders } from "./response.ts";
import type { HeadersLike } from "./headers.ts";
import { bodyLimits, discard, fieldReader, readJsonBody } from "./_body.ts";
import type {
  PublishHandler,
  PublishHandlerOptions,
  PublishInput,
  PublishTarget,
  PublishValidator,
} from "./publish_options.ts";

// What each refusal of the hub answers. A full record: a new `HubErrorType` cannot be added
// without deciding its status here. A 4xx quotes the error; a 5xx (but "closed") goes to `onError`.
const HUB_ERROR_STATUS: Record<HubErrorType, number> = {
  "invalid-topic": 422, // the request named a topic the hub's rule refuses
  "reserved-event": 400, // the event type starts with `sse-hub:`
  "closed": 503,
  "reentrant": 503, // published from inside a hub callback: a retry can succeed
  "too-many-subscribers": 503,
  "slow-subscriber": 503,
  "bridged": 500, // the target was wired wrongly: nothing the client can change
};

/**
 * Makes a JSON publish endpoint for a hub. It answers:
 *
 * - 200 `{"delivered": n, "topic": "…", "id": "…"}` once published (`delivered`
 *   counts this instance's subscribers);
 * - 405 (with `Allow: POST`) to any other method;
 * - 415 unless `Content-Type` is `application/json` (or `…+json`) in UTF-8;
 * - 413 for a body over `maxBytes`, 408 for one slower than `readTimeout`;
 * - 400 for a body that is not UTF-8, not JSON, or nested deeper than `maxDepth`,
 *   and for an event type starting with `sse-hub:` (reserved for the hub);
 * - 422 for JSON that is not an object with a non-empty string topic and message
 *   (and optional string event), for a topic the hub refuses, and for a payload
 *   that cannot be sent unchanged (e.g. a lone surrogate from a `\ud800` escape);
 * - 403 (or your response) when `authorize` refuses; 503 when the hub is closed,
 *   refuses a nested publish or its bridge refused the event; 500 when `validate`
 *   throws or the hub is bridged but was handed over wrongly.
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
 * import assert from "node:assert/strict";
 * import { Hub, publishHandler } from "@sse-hub/sse-hub";
 *
 * const hub = new Hub<string>();
 * const publish = publishHandler(hub, { maxBytes: 16 * 1024 });
 * const post = (body: unknown) =>
 *   publish(
 *     new Request("http://localhost/publish", {
 *       method: "POST",
 *       headers: { "content-type": "application/json" },
 *       body: JSON.stringify(body),
 *     }),
 *   );
 * const ok = await post({ topic: "news", msg: "hello" });
 * assert.equal(ok.status, 200);
 * assert.deepEqual(Object.keys(await ok.json()), ["delivered", "topic", "id"]);
 * const reserved = await post({ topic: "news", msg: "reload!", event: "sse-hub:reset" });
 * assert.equal(reserved.status, 400);
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
 * import assert from "node:assert/strict";
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
 * const headers = { "content-type": "application/json" };
 * const refused = await publish(new Request("http://x/", { method: "POST", headers, body: '{"room":1}' }));
 * assert.equal(refused.status, 422);
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
  const limits = bodyLimits(options);
  const extract = options.validate ?? (fieldReader(options) as unknown as PublishValidator<T>);
  const reply = (status: number, body: unknown, headers?: HeadersLike): Response => {
    const all = new Headers(options.headers);
    mergeHeaders(all, headers);
    all.set("content-type", "application/json; charset=utf-8");
    all.set("cache-control", "no-store");
    return new Response(JSON.stringify(body), { status, headers: all });
  };
  const refuse = (request: Request, status: number, error: string, headers?: HeadersLike): Response => {
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
    const body = await readJsonBody(request, limits);
    if (!("json" in body)) return reply(body.status, { error: body.error });
    let input: PublishInput<T> | string | Response;
    try {
      input = await extract(body.json, request);
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
      if (error instanceof EventFieldError) return reply(422, { error: error.message });
      const status = error instanceof HubError ? HUB_ERROR_STATUS[error.type] ?? 503 : 503;
      if (status < 500) return reply(status, { error: (error as HubError).message }); // the client's mistake
      const closed = error instanceof HubError && error.type === "closed";
      if (!closed) options.onError?.(error, request);
      return reply(status, { error: closed ? "the hub is closed" : "the event could not be published" });
    }
  };
}
