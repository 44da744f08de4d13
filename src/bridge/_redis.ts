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
  const ms = BigInt(a.slice(0, dashA)) - BigInt(b.slice(0, dashB));
  if (ms !== 0n) return ms < 0n ? -1 : 1;
  const seq = BigInt(a.slice(dashA + 1)) - BigInt(b.slice(dashB + 1));
  return seq === 0n ? 0 : seq < 0n ? -1 : 1;
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
