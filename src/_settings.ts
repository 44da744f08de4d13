// A hub's settings: every `HubOptions` field checked when the hub is built (a bad value fails
// there, with a message naming the option, instead of as a 1 ms timer or as every response
// rejecting later), and every default filled in, in this one place.
import { encodeEvent } from "./encode.ts";
import { assertLineField, assertRetry } from "./event.ts";
import type { HubOptions } from "./hub_options.ts";
import { DEFAULT_TOPIC_PATTERN } from "./_topics.ts";

/** The options with their defaults; `options` keeps the callbacks as given. */
export interface HubSettings {
  readonly options: HubOptions;
  readonly pattern: RegExp;
  readonly overflow: "close" | "drop";
  readonly keepAlive: number | false;
  readonly keepAlivePerConnection: boolean;
  readonly bufferBytes: number;
  /** `HubOptions.linger`, in ms (0: off). */
  readonly linger: number;
  readonly maxSubscribers: number;
  readonly maxTopics: number;
  readonly maxLastEventIdLength: number;
  readonly closedStatus: 204 | 503;
  /** The `Retry-After` header of a 503, in seconds. */
  readonly retryAfter: string;
  readonly resetEvent: string;
  /** What every stream starts with: a comment, or the `retry:` hint. */
  readonly opening: Uint8Array;
}

const OPENING = new TextEncoder().encode(":\n\n");

/** Checks `options` and fills in the defaults. */
export function settingsOf(options: HubOptions): HubSettings {
  checkHubOptions(options);
  return {
    options,
    pattern: options.topicPattern ?? DEFAULT_TOPIC_PATTERN,
    overflow: options.overflow ?? "close",
    keepAlive: options.keepAlive ?? 4000,
    keepAlivePerConnection: options.keepAliveTimer === "per-connection",
    bufferBytes: options.bufferBytes ?? 256 * 1024,
    linger: options.linger ?? 0,
    maxSubscribers: options.maxSubscribers ?? Infinity,
    maxTopics: options.maxTopicsPerSubscriber ?? 32,
    maxLastEventIdLength: options.maxLastEventIdLength ?? 128,
    closedStatus: options.closedStatus ?? 204,
    retryAfter: String(options.retryAfter ?? 5),
    resetEvent: options.resetEvent ?? "sse-hub:reset",
    opening: options.retry === undefined ? OPENING : encodeEvent({ retry: options.retry }),
  };
}

/** The longest delay `setInterval` takes; a larger one (or 0, -1, Infinity) fires every 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Throws `TypeError` or `RangeError` (or `EventFieldError` for `retry`/`resetEvent`) on a bad option. */
function checkHubOptions(options: HubOptions): void {
  if (typeof options !== "object" || options === null) throw new TypeError("`HubOptions` must be an object");
  const o = options as Record<keyof HubOptions, unknown>;
  functionOrUndefined("serialize", o.serialize);
  functionOrUndefined("deserialize", o.deserialize);
  functionOrUndefined("authorize", o.authorize);
  functionOrUndefined("onBridgeEvent", o.onBridgeEvent);
  functionOrUndefined("onJoin", o.onJoin);
  functionOrUndefined("onLeave", o.onLeave);
  if (
    o.keepAliveTimer !== undefined && o.keepAliveTimer !== "shared" && o.keepAliveTimer !== "per-connection"
  ) {
    throw new TypeError(
      `\`HubOptions.keepAliveTimer\` must be "shared" or "per-connection", got ${shown(o.keepAliveTimer)}`,
    );
  }
  if (o.history !== undefined && o.history !== false && !hasMethods(o.history, "append", "since")) {
    throw new TypeError("`HubOptions.history` must be false or a HistoryStore (with `append` and `since`)");
  }
  if (o.bridge !== undefined && !hasMethods(o.bridge, "start", "publish", "close")) {
    throw new TypeError("`HubOptions.bridge` must be a Bridge (with `start`, `publish` and `close`)");
  }
  if (o.overflow !== undefined && o.overflow !== "close" && o.overflow !== "drop") {
    throw new TypeError(`\`HubOptions.overflow\` must be "close" or "drop", got ${shown(o.overflow)}`);
  }
  if (o.closedStatus !== undefined && o.closedStatus !== 204 && o.closedStatus !== 503) {
    throw new RangeError(`\`HubOptions.closedStatus\` must be 204 or 503, got ${shown(o.closedStatus)}`);
  }
  if (o.keepAlive !== undefined && o.keepAlive !== false) {
    integer("keepAlive", o.keepAlive, 1, MAX_TIMER_MS, "false or milliseconds");
  }
  if (o.linger !== undefined) integer("linger", o.linger, 0, 1000, "milliseconds");
  if (o.bufferBytes !== undefined) integer("bufferBytes", o.bufferBytes, 1, Number.MAX_SAFE_INTEGER);
  if (o.maxSubscribers !== undefined && o.maxSubscribers !== Infinity) {
    integer("maxSubscribers", o.maxSubscribers, 0, Number.MAX_SAFE_INTEGER, "Infinity or a count");
  }
  if (o.maxTopicsPerSubscriber !== undefined) {
    integer("maxTopicsPerSubscriber", o.maxTopicsPerSubscriber, 1, 1024);
  }
  if (o.retryAfter !== undefined) integer("retryAfter", o.retryAfter, 0, Number.MAX_SAFE_INTEGER, "seconds");
  if (o.maxLastEventIdLength !== undefined) integer("maxLastEventIdLength", o.maxLastEventIdLength, 1, 65536);
  if (o.retry !== undefined) assertRetry(o.retry);
  if (o.resetEvent !== undefined) {
    assertLineField("event", o.resetEvent);
    if (o.resetEvent === "") throw new RangeError("`HubOptions.resetEvent` must not be empty");
  }
  if (o.topicPattern !== undefined) {
    if (!(o.topicPattern instanceof RegExp)) {
      throw new TypeError("`HubOptions.topicPattern` must be a RegExp");
    }
    // `test` on a global or sticky RegExp starts at `lastIndex`: the same topic would pass, then fail.
    if (o.topicPattern.global || o.topicPattern.sticky) {
      throw new RangeError(
        "`HubOptions.topicPattern` must not have the g or y flag (its `test` keeps state)",
      );
    }
  }
}

function integer(name: string, value: unknown, min: number, max: number, what = "a whole number"): void {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`\`HubOptions.${name}\` must be ${what} from ${min} to ${max}, got ${shown(value)}`);
  }
}

function functionOrUndefined(name: string, value: unknown): void {
  if (value !== undefined && typeof value !== "function") {
    throw new TypeError(`\`HubOptions.${name}\` must be a function, got ${shown(value)}`);
  }
}

function hasMethods(value: unknown, ...names: string[]): boolean {
  return typeof value === "object" && value !== null &&
    names.every((name) => typeof (value as Record<string, unknown>)[name] === "function");
}

function shown(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value.slice(0, 32)) : String(value);
}
