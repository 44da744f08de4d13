// The Redis side of RedisBridge and RedisHistory: the structural client types, one command
// helper for both client libraries, Redis Stream id order and the bus message body. The Lua
// scripts are in _redis_scripts.ts.
// Private: nothing here is re-exported from mod.ts except the client types (via redis.ts).

/**
 * A Redis connection that runs commands. Both Bun's built-in `RedisClient`
 * (`send(command, args)`) and a node-redis client (`sendCommand(args)`) fit as they are.
 */
export type RedisCommandClient =
  | { sendCommand(args: string[]): Promise<unknown> }
  | { send(command: string, args: string[]): Promise<unknown> };

/**
 * A dedicated Redis connection for pub/sub. Bun's `RedisClient` and a
 * node-redis client fit as they are. The bridge notices drops and reconnects by
 * itself: node-redis's `"error"`, `"reconnecting"` and `"end"` (the drop) and
 * `"ready"` (back), or Bun's `onconnect` and `onclose` (chained to any handler
 * you set). Connection errors are reported through the hub's `onBridgeEvent`.
 */
export interface RedisSubscriberClient {
  /** Subscribes `listener` to `channel`. */
  subscribe(channel: string, listener: (message: string, channel: string) => void): Promise<unknown>;
  /** Unsubscribes from `channel`. */
  unsubscribe(channel: string): Promise<unknown>;
}

/** Runs one command on either client shape; rejects after `timeout` ms without an answer. */
export function redisCommand(client: RedisCommandClient, args: string[], timeout: number): Promise<unknown> {
  let reply: Promise<unknown>;
  try {
    reply = "sendCommand" in client ? client.sendCommand(args) : client.send(args[0]!, args.slice(1));
  } catch (error) {
    return Promise.reject(error);
  }
  return timed(reply, timeout, `\`${args[0]}\``);
}

/** `promise`, or a rejection when it has not settled within `timeout` ms. */
export function timed<T>(promise: Promise<T>, timeout: number, what: string): Promise<T> {
  if (!(timeout < Infinity)) return promise;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer ${what} within ${timeout} ms`)), timeout);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** A Redis Stream id as Last-Event-ID: `<ms>-<seq>`, length-capped before it reaches Redis. */
export const STREAM_ID = /^\d{1,20}-\d{1,20}$/;
const MAX_U64 = (1n << 64n) - 1n;

/** Whether `id` is a stream id Redis accepts: two unsigned 64-bit integers. */
export function isStreamId(id: string): boolean {
  if (!STREAM_ID.test(id)) return false;
  const dash = id.indexOf("-");
  return BigInt(id.slice(0, dash)) <= MAX_U64 && BigInt(id.slice(dash + 1)) <= MAX_U64;
}

/** Orders two stream ids (`<ms>-<seq>`): negative, zero or positive. */
export function compareStreamIds(a: string, b: string): number {
  const dashA = a.indexOf("-");
  const dashB = b.indexOf("-");
  return compareDigits(a, 0, dashA, b, 0, dashB) ||
    compareDigits(a, dashA + 1, a.length, b, dashB + 1, b.length);
}

// Two runs of decimal digits, as numbers of any size: leading zeros skipped, then the longer one
// is larger, then the first digit that differs decides. No BigInt: this runs for every bus message.
function compareDigits(a: string, i: number, endA: number, b: string, j: number, endB: number): number {
  while (i < endA - 1 && a.charCodeAt(i) === 48) i++;
  while (j < endB - 1 && b.charCodeAt(j) === 48) j++;
  const lengths = (endA - i) - (endB - j);
  if (lengths !== 0) return lengths < 0 ? -1 : 1;
  for (; i < endA; i++, j++) {
    const difference = a.charCodeAt(i) - b.charCodeAt(j);
    if (difference !== 0) return difference < 0 ? -1 : 1;
  }
  return 0;
}

/** One bus message body as stored in the stream and sent on pub/sub: `[topic, event, data, json, origin]`. */
export type Body = [topic: string, event: string | null, data: string, json: 0 | 1, origin: string];

/** Parses a stored or published body; throws TypeError when it is not one. */
export function parseBody(text: string): Body {
  const body: unknown = JSON.parse(text);
  if (
    !Array.isArray(body) || body.length !== 5 || typeof body[0] !== "string" ||
    (body[1] !== null && typeof body[1] !== "string") || typeof body[2] !== "string" ||
    (body[3] !== 0 && body[3] !== 1) || typeof body[4] !== "string"
  ) throw new TypeError(`not an sse-hub bridge message: ${text.slice(0, 80)}`);
  return body as Body;
}
