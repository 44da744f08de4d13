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
const publish = (data: Data): void => void hub.publish("bench", data);

serve((request) => {
  if (new URL(request.url).pathname === "/events") return hub.response(request, { topics: "bench" });
  return control(request, publish) ?? new Response("not found", { status: 404 });
});
