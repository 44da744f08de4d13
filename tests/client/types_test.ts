// Typed events end to end: the compile-time checks (`@ts-expect-error` lines fail `deno check`
// and `tsc` if they stop being errors), and the run-time parsing and validation on the client.
import { describe, it } from "../helpers/timed.ts";
import assert from "node:assert/strict";
import { connect } from "../../client.ts";
import type { ClientItem, InvalidItem, StandardSchema } from "../../client.ts";
import { Hub, typed } from "../../mod.ts";
import type { TypedHub } from "../../mod.ts";
import { record } from "../helpers/connection.ts";
import { serve } from "../helpers/server.ts";

interface Order {
  id: string;
  total: number;
}
type Events = { created: Order; deleted: { id: string } };

/** A hand-written Standard Schema validator (what Zod, Valibot and ArkType expose as `~standard`). */
function schema<T>(check: (value: unknown) => value is T, async = false): StandardSchema<T> {
  return {
    "~standard": {
      version: 1,
      vendor: "test",
      validate: (value) => {
        const result = check(value)
          ? { value }
          : { issues: [{ message: `invalid: ${JSON.stringify(value)}` }] };
        return async ? Promise.resolve(result) : result;
      },
    },
  };
}
const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null;
const isOrder = (value: unknown): value is Order =>
  isRecord(value) && typeof value.id === "string" && typeof value.total === "number";
const isDeleted = (value: unknown): value is { id: string } => {
  if (isRecord(value) && value.id === "throw") throw new Error("validator bug");
  return isRecord(value) && typeof value.id === "string";
};

describe("typed events", () => {
  it("typed returns the same hub, and its publish refuses unknown names and wrong payloads at compile time", () => {
    const plain = new Hub();
    const hub: TypedHub<Events> = typed<Events>(plain);
    assert.ok(Object.is(hub, plain));
    try {
      assert.equal(hub.publish("orders", { id: "a", total: 3 }, { event: "created" }).delivered, 0);
      hub.publish("orders", { id: "a" }, { event: "deleted" });
      // @ts-expect-error: an unknown event name
      hub.publish("orders", { id: "a" }, { event: "updated" });
      // @ts-expect-error: the payload of "created" needs a total
      hub.publish("orders", { id: "a" }, { event: "created" });
      // @ts-expect-error: a typed hub's publish names its event
      hub.publish("orders", { id: "a" });
      // @ts-expect-error: the same for publishAsync
      void hub.publishAsync("orders", "text", { event: "deleted" }).catch(() => {});
    } finally {
      hub.close();
    }
    const one = new Hub<string>();
    // @ts-expect-error: Hub<T> for one payload type is unchanged: still checked
    one.publish("t", 42);
    one.close();
  });

  it("connect<E> narrows data by event name, and requires parse for an event map", () => {
    const narrow = (item: ClientItem<Events>): string => {
      if (item.type === "reset") return item.reason;
      if (item.type === "invalid") return item.issues[0]?.message ?? "";
      if (item.event === "created") return item.data.total.toFixed(2);
      // @ts-expect-error: "deleted" has no total
      return item.data.total;
    };
    assert.equal(narrow({ type: "event", event: "created", data: { id: "a", total: 2 }, id: "" }), "2.00");
    const check = () => {
      // @ts-expect-error: typed events need `parse` (text cannot become an Order by itself)
      connect<Events>("http://127.0.0.1:9/", {});
      const untyped = connect("http://127.0.0.1:9/");
      // @ts-expect-error: without a map, listeners get text
      untyped.on("x", (data: number) => data);
      const typedConnection = connect<Events>("http://127.0.0.1:9/", { parse: "json" });
      // @ts-expect-error: not an event of the map
      typedConnection.on("updated", () => {});
      typedConnection.on("created", (data) => data.total);
    };
    assert.equal(typeof check, "function"); // type-checked, never run
  });

  it("connect parses JSON and validates with Standard Schema validators; what fails is an invalid item", async () => {
    const body = [
      'event: created\ndata: {"id":"a","total":3}\n\n',
      'event: created\ndata: {"id":"b"}\n\n', // fails its schema
      "event: deleted\ndata: not json\n\n",
      'event: updated\ndata: {"id":"c"}\n\n', // no schema for it
      'event: deleted\ndata: {"id":"d"}\n\n',
      'event: toString\ndata: {"id":"e"}\n\n', // not an own property of `schemas`
      'event: deleted\ndata: {"id":"throw"}\n\n', // its validator throws
      'event: created\ndata: {"id":"f","total":1}\n\n',
    ].join("");
    // The stream stays open: a body that ended would make the client reconnect, racing the count below.
    const open = () =>
      new ReadableStream<Uint8Array>({ start: (c) => c.enqueue(new TextEncoder().encode(body)) });
    const server = serve(() => new Response(open(), { headers: { "content-type": "text/event-stream" } }));
    const connection = connect<Events>(server.url, {
      parse: "json",
      schemas: { created: schema(isOrder), deleted: schema(isDeleted, true) },
    });
    try {
      const items = await record(connection).count(8);
      assert.deepEqual(
        items.slice(0, 8).map((item) => [item.type, item.type === "reset" ? "" : item.event]),
        [
          ["event", "created"],
          ["invalid", "created"],
          ["invalid", "deleted"],
          ["invalid", "updated"],
          ["event", "deleted"],
          ["invalid", "toString"],
          ["invalid", "deleted"],
          ["event", "created"],
        ],
      );
      assert.match((items[6] as InvalidItem).issues[0]!.message, /the validator threw: Error: validator bug/);
      assert.equal(connection.reconnects, 0, "a throwing validator is not a broken stream");
      assert.deepEqual(items[0], { type: "event", event: "created", data: { id: "a", total: 3 }, id: "" });
      assert.deepEqual(items[1], {
        type: "invalid",
        event: "created",
        data: '{"id":"b"}',
        id: "",
        issues: [{ message: 'invalid: {"id":"b"}' }],
      });
      assert.match((items[2] as InvalidItem).issues[0]!.message, /not JSON/);
      assert.match(
        (items[3] as InvalidItem).issues[0]!.message,
        /no schema for the event "updated"/,
      );
    } finally {
      connection.close();
      await server.close();
    }
  });
});
