// The Redis side of RedisBridge and RedisHistory: the structural client types, one command
// helper for both client libraries, the two Lua scripts, and Redis Stream id order.
// Private: nothing here is re-exported from mod.ts except the client types (via redis.ts).

/**
 * A Redis connection that runs commands. Both Bun's built-in `RedisClient`
 * (`send(command, args)`) and a node-redis client (`sendCommand(args)`) fit as they are.
 */
export type RedisCommandClient =
  | { sendCommand(args: string[]): Promise<unknown> }
  | { send(command: string, args: string[]): Promise<unknown> };

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

// KEYS[1] stream; ARGV: maxLen, topic, body, channel. One atomic step: the stream entry and the
// pub/sub message get the same id, and pub/sub order is stream order.
export const PUBLISH_SCRIPT =
  `local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 't', ARGV[2], 'm', ARGV[3])
redis.call('PUBLISH', ARGV[4], id .. ' ' .. ARGV[3])
return id`;

// KEYS[1] stream; ARGV: after (an existing-format id), limit (0: all), topics... (none: all).
// Scans newest to oldest down to (after, keeping the newest \`limit\` matches. Returns
// { newest id or '', '1' if \`after\` is in the stream, '1' if matches were left out, id, body, ... }
// with the matches oldest first.
export const READ_SCRIPT = `local key, after, limit = KEYS[1], ARGV[1], tonumber(ARGV[2])
local newest = redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)[1]
if not newest then return { '', '0', '0' } end
local known = #redis.call('XRANGE', key, after, after) == 1 and '1' or '0'
local any, topics = #ARGV < 3, {}
for i = 3, #ARGV do topics[ARGV[i]] = true end
local found, more, from = {}, '0', '+'
while true do
  local page = redis.call('XREVRANGE', key, from, '(' .. after, 'COUNT', 256)
  for _, entry in ipairs(page) do
    local fields, t, m = entry[2], nil, nil
    for i = 1, #fields, 2 do
      if fields[i] == 't' then t = fields[i + 1] elseif fields[i] == 'm' then m = fields[i + 1] end
    end
    if m and (any or topics[t]) then
      if limit > 0 and #found >= 2 * limit then more = '1' break end
      found[#found + 1] = m
      found[#found + 1] = entry[1]
    end
  end
  if more == '1' or #page < 256 then break end
  from = '(' .. page[#page][1]
end
local result = { newest[1], known, more }
for i = #found, 1, -1 do result[#result + 1] = found[i] end
return result`;

/** What {@linkcode readAfter} found. */
export interface StreamRead {
  /** The newest id in the stream; undefined when the stream is empty or missing. */
  newest: string | undefined;
  /** Whether `after` itself is still in the stream (so nothing after it was trimmed). */
  known: boolean;
  /** Whether older matches were left out to respect the limit. */
  more: boolean;
  /** `[id, body]` pairs, oldest first. */
  entries: [string, string][];
}

/** Runs READ_SCRIPT (EVALSHA, falling back to EVAL when Redis does not have it cached). */
export async function readAfter(
  client: RedisCommandClient,
  key: string,
  after: string,
  limit: number,
  topics: readonly string[],
  timeout: number,
): Promise<StreamRead> {
  const reply = await evalScript(client, READ_SCRIPT, [key], [after, String(limit), ...topics], timeout);
  if (!Array.isArray(reply) || reply.length < 3 || reply.length % 2 === 0) {
    throw new TypeError("unexpected reply from the Redis read script");
  }
  const [newest, known, more] = reply as unknown[];
  const entries: [string, string][] = [];
  for (let i = 3; i < reply.length; i += 2) entries.push([String(reply[i]), String(reply[i + 1])]);
  return {
    newest: newest === "" ? undefined : String(newest),
    known: known === "1",
    more: more === "1",
    entries,
  };
}

/** The newest id in the stream, or undefined when it is empty or missing. */
export async function newestId(
  client: RedisCommandClient,
  key: string,
  timeout: number,
): Promise<string | undefined> {
  const reply = await redisCommand(client, ["XREVRANGE", key, "+", "-", "COUNT", "1"], timeout);
  if (!Array.isArray(reply)) throw new TypeError("unexpected reply to XREVRANGE");
  const first: unknown = reply[0];
  if (first === undefined) return undefined;
  const id: unknown = Array.isArray(first) ? first[0] : undefined;
  if (typeof id !== "string" || !STREAM_ID.test(id)) throw new TypeError("unexpected reply to XREVRANGE");
  return id;
}

const shas = new Map<string, Promise<string>>();

/** EVALSHA with the script's SHA-1 (computed locally), EVAL on NOSCRIPT (e.g. after a Redis restart). */
export async function evalScript(
  client: RedisCommandClient,
  script: string,
  keys: readonly string[],
  args: readonly string[],
  timeout: number,
): Promise<unknown> {
  let sha = shas.get(script);
  if (sha === undefined) shas.set(script, sha = sha1(script));
  const rest = [String(keys.length), ...keys, ...args];
  try {
    return await redisCommand(client, ["EVALSHA", await sha, ...rest], timeout);
  } catch (error) {
    if (!/NOSCRIPT/.test(String((error as Error)?.message ?? error))) throw error;
    return await redisCommand(client, ["EVAL", script, ...rest], timeout);
  }
}

async function sha1(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-1", new TextEncoder().encode(text)));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
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
