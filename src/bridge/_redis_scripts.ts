// The Lua scripts of RedisBridge and RedisHistory, and how they are run. Every script does a
// bounded amount of work: at most MAX_BATCH_EVENTS XADDs (see _redis_batch.ts), or one XRANGE/XREVRANGE of at most PAGE entries plus O(log N)
// lookups. Nothing walks the stream inside one call, so no request can stall Redis for the others
// (Redis runs one script at a time). Walking is done by the caller, one page per call.
import { redisCommand, STREAM_ID } from "./_redis.ts";
import type { RedisCommandClient } from "./_redis.ts";

/** Entries one page script reads at most. */
export const PAGE = 100;

// KEYS[1] stream; ARGV: maxLen, channel, then topic, body for each event (at most
// MAX_BATCH_EVENTS of them). Appends and publishes them in argument order, one atomic step: each
// stream entry and its pub/sub message get the same id, and pub/sub order is stream order.
// Returns their ids, in argument order.
export const PUBLISH_SCRIPT = `local ids = {}
for i = 3, #ARGV, 2 do
  local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 't', ARGV[i], 'm', ARGV[i + 1])
  redis.call('PUBLISH', ARGV[2], id .. ' ' .. ARGV[i + 1])
  ids[#ids + 1] = id
end
return ids`;

// KEYS[1] stream; ARGV[1] an id or ''. Three O(log N) lookups:
// { first id or '', last id or '', '1' if ARGV[1] is an entry }.
export const PROBE_SCRIPT = `local key, id = KEYS[1], ARGV[1]
local first = redis.call('XRANGE', key, '-', '+', 'COUNT', 1)[1]
local last = redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)[1]
local known = id ~= '' and first ~= nil and #redis.call('XRANGE', key, id, id) == 1
return { first and first[1] or '', last and last[1] or '', known and '1' or '0' }`;

// KEYS[1] stream; ARGV: 'asc' | 'desc', anchor id, cursor, count, topics... (none: all).
// 'asc' reads the entries after the anchor, oldest first; 'desc' reads from the cursor ('+' or
// '(<id>') down to just after the anchor, newest first. Either way at most \`count\` entries.
// Returns { continuous, scanned, last scanned id or '', id, body, ... } with the entries of the
// asked topics in reading order. \`continuous\` is '1' when an entry at or before the anchor still
// exists: trimming only removes the oldest entries, so then nothing after the anchor was trimmed.
export const PAGE_SCRIPT =
  `local key, dir, anchor, cursor, count = KEYS[1], ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local continuous = (anchor == '0-0' or #redis.call('XRANGE', key, '-', anchor, 'COUNT', 1) == 1) and '1' or '0'
local page
if dir == 'asc' then page = redis.call('XRANGE', key, '(' .. anchor, '+', 'COUNT', count)
else page = redis.call('XREVRANGE', key, cursor, '(' .. anchor, 'COUNT', count) end
local any, topics = #ARGV < 5, {}
for i = 5, #ARGV do topics[ARGV[i]] = true end
local result = { continuous, tostring(#page), page[#page] and page[#page][1] or '' }
for _, entry in ipairs(page) do
  local fields, t, m = entry[2], nil, nil
  for i = 1, #fields, 2 do
    if fields[i] == 't' then t = fields[i + 1] elseif fields[i] == 'm' then m = fields[i + 1] end
  end
  if m and (any or topics[t]) then
    result[#result + 1] = entry[1]
    result[#result + 1] = m
  end
end
return result`;

/** What {@linkcode probe} found. */
export interface StreamBounds {
  /** The oldest id in the stream; undefined when it is empty or missing. */
  first: string | undefined;
  /** The newest id in the stream; undefined when it is empty or missing. */
  last: string | undefined;
  /** Whether the probed id is an entry of the stream. */
  known: boolean;
}

/** The stream's first and last ids, and whether `id` is one of its entries: one bounded call. */
export async function probe(
  client: RedisCommandClient,
  key: string,
  id: string,
  timeout: number,
): Promise<StreamBounds> {
  const reply = await evalScript(client, PROBE_SCRIPT, [key], [id], timeout);
  if (!Array.isArray(reply) || reply.length !== 3) {
    throw new TypeError("unexpected reply from the probe script");
  }
  const [first, last, known] = reply.map(String) as [string, string, string];
  return { first: streamId(first), last: streamId(last), known: known === "1" };
}

/** One page of the stream (see PAGE_SCRIPT). */
export interface StreamPage {
  /** Whether nothing after the anchor was trimmed (an entry at or before it still exists). */
  continuous: boolean;
  /** Entries read (of every topic): fewer than asked means the page reached the end. */
  scanned: number;
  /** The last id read, to continue from; undefined when nothing was read. */
  cursor: string | undefined;
  /** `[id, body]` of the asked topics, in reading order. */
  entries: [string, string][];
}

/**
 * Reads one page: `"asc"` the entries after `anchor` (oldest first), `"desc"` the entries from
 * `cursor` (`"+"` or `"(<id>"`) down to just after `anchor` (newest first).
 */
export async function readPage(
  client: RedisCommandClient,
  key: string,
  direction: "asc" | "desc",
  anchor: string,
  cursor: string,
  topics: readonly string[],
  timeout: number,
): Promise<StreamPage> {
  const reply = await evalScript(
    client,
    PAGE_SCRIPT,
    [key],
    [direction, anchor, cursor, String(PAGE), ...topics],
    timeout,
  );
  if (!Array.isArray(reply) || reply.length < 3 || reply.length % 2 === 0) {
    throw new TypeError("unexpected reply from the Redis page script");
  }
  const entries: [string, string][] = [];
  for (let i = 3; i < reply.length; i += 2) entries.push([String(reply[i]), String(reply[i + 1])]);
  return {
    continuous: reply[0] === "1",
    scanned: Number(reply[1]),
    cursor: streamId(String(reply[2])),
    entries,
  };
}

function streamId(text: string): string | undefined {
  if (text === "") return undefined;
  if (!STREAM_ID.test(text)) throw new TypeError(`unexpected stream id from Redis: ${text.slice(0, 40)}`);
  return text;
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
