// Baseline (a): the raw ceiling on the same runtime, no library: a Set of stream
// controllers; each event is encoded once and the same bytes enqueued to all.
// No budget, no history, no ids beyond a counter, no keep-alive.
import { control } from "./_protocol.mjs";
import { serve } from "./_serve.ts";

type Data = { r: number; i: number; t: number; p: string };

const encoder = new TextEncoder();
const OPENING = encoder.encode(":\n\n");
const controllers = new Set<ReadableStreamDefaultController<Uint8Array>>();
const headers = { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" };
let lastId = 0;

function publish(data: Data): void {
  const bytes = encoder.encode(`id: ${++lastId}\ndata: ${JSON.stringify(data)}\n\n`);
  for (const controller of controllers) controller.enqueue(bytes);
}

// With RAW_READS_LAST_EVENT_ID=1 (the `raw-deno-resume` server), it reads the header a resuming
// server needs, and nothing more.
declare const Deno: { env: { get(name: string): string | undefined } } | undefined;
declare const process: { env: Record<string, string | undefined> };
const readsLastEventId =
  (typeof Deno !== "undefined"
    ? Deno.env.get("RAW_READS_LAST_EVENT_ID")
    : process.env.RAW_READS_LAST_EVENT_ID) ===
    "1";

// With RAW_PULL=1 (the `raw-deno-pull` server), each stream has the shape sse-hub's streams have
// (a `pull`, high-water mark 0), and still enqueues every event: what that shape costs on its own.
const pullDriven = (typeof Deno !== "undefined" ? Deno.env.get("RAW_PULL") : process.env.RAW_PULL) === "1";

serve((request) => {
  if (new URL(request.url).pathname === "/events") {
    if (readsLastEventId) void request.headers.get("last-event-id");
    let mine: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        mine = controller;
        controllers.add(controller);
        controller.enqueue(OPENING);
      },
      cancel() {
        controllers.delete(mine);
      },
      ...(pullDriven ? { pull() {} } : {}), // sse-hub's also notes that the runtime reads: one field
    }, { highWaterMark: pullDriven ? 0 : 1 });
    return new Response(body, { headers });
  }
  return control(request, publish) ?? new Response("not found", { status: 404 });
});
