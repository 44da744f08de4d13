// The server under test: sse-hub's Hub on Deno.serve or Bun.serve, default options
// (in-memory history, 256 KiB per-subscriber budget, one keep-alive timer); with env
// SSE_HUB_LINGER=<ms>, `new Hub({ linger })` (the linger variants of bench/_targets.mjs).
import { Hub, type HubOptions } from "../../mod.ts";
import { control } from "./_protocol.mjs";
import { serve } from "./_serve.ts";

type Data = { r: number; i: number; t: number; p: string };
declare const Deno: { env: { get(name: string): string | undefined } } | undefined;
declare const process: { env: Record<string, string | undefined> };

const lingerEnv = typeof Deno !== "undefined" ? Deno.env.get("SSE_HUB_LINGER") : process.env.SSE_HUB_LINGER;
// `linger` may not be in this checkout's HubOptions yet: then the Hub ignores it.
const options = (lingerEnv ? { linger: Number(lingerEnv) } : {}) as HubOptions;
const hub = new Hub<Data>(options);
// With a linger, also a hub without one at /events?linger=0: the paired latency run holds half
// the connections on each, so both halves live through the same moments of one process.
const plain = lingerEnv ? new Hub<Data>() : undefined;
let published = 0;
const publish = (data: Data): void => {
  if (plain === undefined || plain.count("bench") === 0) return void hub.publish("bench", data);
  // Each hub goes first every other event: neither half always waits for the other's writes.
  const [first, second] = published++ % 2 === 0 ? [hub, plain] : [plain, hub];
  first.publish("bench", data);
  second.publish("bench", data);
};

serve((request) => {
  const url = new URL(request.url);
  if (url.pathname === "/events") {
    const target = plain !== undefined && url.searchParams.get("linger") === "0" ? plain : hub;
    return target.response(request, { topics: "bench" });
  }
  return control(request, publish) ?? new Response("not found", { status: 404 });
});
