// A consumer of the packed npm tarball, as a new user would write it. scripts/check_package.mjs
// type-checks it with only @types/node and with only bun-types (skipLibCheck: false, no DOM lib),
// then runs it on Node and on Bun. It throws (exit code 1) when the package misbehaves.
import { createEventStream, EventDecoderStream, type HeadersLike, Hub, publishHandler } from "sse-hub";
import * as main from "sse-hub";
import { RedisBridge, type RedisBridgeOptions, RedisHistory } from "sse-hub/redis";
import { connect } from "sse-hub/client";

function expect(condition: boolean, what: string): void {
  if (!condition) throw new Error(`packed sse-hub: ${what}`);
}

const cors: HeadersLike = { "access-control-allow-origin": "*" };
const hub = new Hub<string>();
const response = await hub.response(new Request("http://localhost/events"), {
  topics: "chat",
  headers: cors,
});
expect(response.headers.get("content-type") === "text/event-stream; charset=utf-8", "SSE content type");
expect(response.headers.get("access-control-allow-origin") === "*", "extra header kept");

const publish = publishHandler(hub);
const reply = await publish(
  new Request("http://localhost/publish", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ topic: "chat", msg: "hello\nworld" }),
  }),
);
expect(reply.status === 200, `publish answered ${reply.status}`);
const { delivered } = (await reply.json()) as { delivered: number };
expect(delivered === 1, `delivered to ${delivered} subscribers`);

const events = response.body!.pipeThrough(new EventDecoderStream()).getReader();
const first = await events.read();
expect(first.value?.data === "hello\nworld", `stream read ${JSON.stringify(first.value)}`);
hub.close();

const stream = createEventStream({ headers: [["x-job", "42"]] });
stream.send({ event: "progress", data: { done: 100 } });
stream.close();
expect(stream.response.headers.get("x-job") === "42", "createEventStream headers");
const text = await stream.response.text();
expect(
  text.endsWith('event: progress\ndata: {"done":100}\n\n'),
  `createEventStream wrote ${JSON.stringify(text)}`,
);

const options: Partial<RedisBridgeOptions> = { key: "sse-hub" };
expect(RedisBridge === main.RedisBridge && RedisHistory === main.RedisHistory, "one class per entry point");
expect(options.key === "sse-hub", "RedisBridgeOptions type");
// The client against a hub, through a fetch that hands the request to the hub (no network).
const clientHub = new Hub<string>();
const connection = connect("http://localhost/events", {
  fetch: (url, init) => clientHub.response(new Request(url, init), { topics: "news" }),
});
const received = (async () => {
  for await (const item of connection) if (item.type === "event") return item.data;
})();
await new Promise((resolve) => setTimeout(resolve, 50));
clientHub.publish("news", "to the client");
expect((await received) === "to the client", "the client read what the hub published");
connection.close();
clientHub.close();
console.log("packed sse-hub works");
