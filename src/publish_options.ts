/**
 * The types of the JSON publish endpoint ({@linkcode publishHandler}): what it publishes,
 * the part of a hub it uses, the validator and the options.
 *
 * @module
 */
import type { Hub } from "./hub.ts";
import type { HeadersLike } from "./headers.ts";

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
  headers?: HeadersLike;
  /**
   * Told about unexpected failures: a throwing `validate`, a bridge that refused
   * the event. The client gets a 500 or 503 without the details.
   * @default {undefined}
   */
  onError?: (error: unknown, request: Request) => void;
}
