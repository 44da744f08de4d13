// Keep-alive comments, for the Hub (one timer for all its subscribers) and for
// createEventStream (one per stream). Each setting is proven on a short interval (20 ms), so
// a comment must come within 2 s, half the 4 s default: a hub or stream that ignored the
// number would fail. `keepAlive: false` is proven two ways: no comment while a 20 ms control
// beside it gets three (waiting for an absence, bounded by the control's clock), and no timer
// at all (the hub's stats; for a stream, a process holding one open still exits on its own).
import { describe, it } from "./helpers/timed.ts";
import assert from "node:assert/strict";
import { createEventStream, Hub } from "../mod.ts";
import { SseClient } from "./helpers/client.ts";
import { MOD, runScript } from "./helpers/script.ts";

const INTERVAL = 20;
const WITHIN = 2000;

/** Keep-alive comments in a body's text: every `:` line but the opening comment's. */
const pings = (text: string): number => text.split("\n").filter((line) => line === ":").length - 1;

async function hubStream(hub: Hub<string>): Promise<SseClient> {
  return SseClient.of(await hub.response(new Request("http://x/"), { topics: "t" }));
}

describe("Hub keepAlive", () => {
  it("Hub sends an idle subscriber a keep-alive comment every `keepAlive` ms", async () => {
    const hub = new Hub<string>({ keepAlive: INTERVAL });
    const client = await hubStream(hub);
    await client.textUntil((text) => pings(text) >= 3, WITHIN);
    assert.match(client.text, /^:\n\n(:\n){3,}$/);
    assert.equal(hub.stats().timers, 1);
    await client.close();
    assert.equal(hub.stats().timers, 0);
    hub.close();
  });

  it("Hub with keepAlive: false runs no timer and sends nothing while a 20 ms hub's subscriber gets three comments", async () => {
    const quiet = new Hub<string>({ keepAlive: false });
    const control = new Hub<string>({ keepAlive: INTERVAL });
    const silent = await hubStream(quiet);
    const pinged = await hubStream(control);
    assert.equal(quiet.stats().timers, 0);
    assert.equal(quiet.stats().subscribers, 1);
    await pinged.textUntil((text) => pings(text) >= 3, WITHIN);
    assert.equal(silent.text, ":\n\n");
    assert.equal(quiet.stats().timers, 0);
    quiet.publish("t", "still delivered");
    assert.equal((await silent.next(WITHIN)).data, "still delivered");
    await Promise.all([silent.close(), pinged.close()]);
    quiet.close();
    control.close();
  });

  it("Hub sends a subscriber of several topics one comment per tick, and one closing event, like a one-topic one", async () => {
    const hub = new Hub<string>({ keepAlive: INTERVAL });
    const several = SseClient.of(await hub.response(new Request("http://x/"), { topics: ["a", "b", "t"] }));
    const one = await hubStream(hub);
    await several.textUntil((text) => pings(text) >= 3, WITHIN);
    hub.close({ event: { data: "bye" } });
    const [severalEvents, oneEvents] = await Promise.all([several.end(WITHIN), one.end(WITHIN)]);
    assert.deepEqual(severalEvents.map((e) => e.data), ["bye"]);
    assert.deepEqual(oneEvents.map((e) => e.data), ["bye"]);
    // Both were visited by the same ticks: the same count, not one per topic.
    assert.equal(pings(several.text), pings(one.text));
  });
});

describe('Hub keepAlive with keepAliveTimer: "per-connection"', () => {
  it("Hub runs one timer per HTTP stream and sends each idle stream a comment every `keepAlive` ms", async () => {
    const hub = new Hub<string>({ keepAlive: INTERVAL, keepAliveTimer: "per-connection" });
    const clients = [await hubStream(hub), await hubStream(hub)];
    const inProcess = hub.subscribe("t"); // carries messages, not bytes: no timer of its own
    assert.equal(hub.stats().timers, 2);
    for (const client of clients) await client.textUntil((text) => pings(text) >= 3, WITHIN);
    await clients[0]!.close();
    assert.equal(hub.stats().timers, 1);
    await clients[1]!.close();
    assert.equal(hub.stats().timers, 0);
    await inProcess.cancel();
    hub.close();
  });

  it("Hub with keepAlive: false runs no per-connection timer and sends nothing while a 20 ms hub's stream gets three comments", async () => {
    const quiet = new Hub<string>({ keepAlive: false, keepAliveTimer: "per-connection" });
    const control = new Hub<string>({ keepAlive: INTERVAL, keepAliveTimer: "per-connection" });
    const silent = await hubStream(quiet);
    const pinged = await hubStream(control);
    assert.equal(quiet.stats().timers, 0);
    await pinged.textUntil((text) => pings(text) >= 3, WITHIN);
    assert.equal(silent.text, ":\n\n");
    assert.equal(quiet.stats().timers, 0);
    await Promise.all([silent.close(), pinged.close()]);
    quiet.close();
    control.close();
  });
});

describe("createEventStream keepAlive", () => {
  it("createEventStream sends an idle stream a keep-alive comment every `keepAlive` ms", async () => {
    const stream = createEventStream({ keepAlive: INTERVAL });
    const client = SseClient.of(stream.response);
    await client.textUntil((text) => pings(text) >= 3, WITHIN);
    assert.match(client.text, /^:\n\n(:\n){3,}$/);
    stream.close();
  });

  it("createEventStream with keepAlive: false sends nothing while a 20 ms stream beside it gets three comments", async () => {
    const quiet = createEventStream({ keepAlive: false });
    const control = createEventStream({ keepAlive: INTERVAL });
    const silent = SseClient.of(quiet.response);
    const pinged = SseClient.of(control.response);
    await pinged.textUntil((text) => pings(text) >= 3, WITHIN);
    assert.equal(silent.text, ":\n\n");
    quiet.close("end");
    control.close();
    await silent.end(WITHIN);
    assert.equal(silent.text, ":\n\ndata: end\n\n");
  });

  it("createEventStream with keepAlive: false holds no timer: a process with the stream still open exits on its own", async () => {
    // Any interval timer (the 4 s default too) would keep this process alive past the deadline.
    const { code, output } = await runScript(
      `import { createEventStream } from ${MOD};
const open = createEventStream({ keepAlive: false });
const reader = open.response.body!.getReader();
const { value } = await reader.read();
console.log(JSON.stringify(new TextDecoder().decode(value)), open.open);
`,
      10_000,
    );
    assert.equal(output.trim(), '":\\n\\n" true');
    assert.equal(code, 0);
  });
});
