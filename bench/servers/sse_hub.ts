// The server under test: sse-hub's Hub on Deno.serve or Bun.serve, default options
// (in-memory history, 256 KiB per-subscriber budget, one keep-alive timer).
import { Hub } from "../../mod.ts";
import { control } from "./_protocol.mjs";
import { serve } from "./_serve.ts";

type Data = { r: number; i: number; t: number; p: string };

const hub = new Hub<Data>();
const publish = (data: Data): void => void hub.publish("bench", data);

serve((request) => {
  if (new URL(request.url).pathname === "/events") return hub.response(request, { topics: "bench" });
  return control(request, publish) ?? new Response("not found", { status: 404 });
});
