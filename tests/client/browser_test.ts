// The client in a real headless Chromium (/usr/bin/chromium, never downloaded) driven by
// playwright-core, against the demo as a subprocess of this test's runtime: the demo page
// (which runs on the client) and the client module imported into a page directly.
import { after, before, describe, it } from "../helpers/timed.ts";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { chromium } from "playwright-core";
import type { Browser, Page } from "playwright-core";
import { startDemo } from "../helpers/demo_process.ts";
import type { DemoProcess } from "../helpers/demo_process.ts";
import { delay, runtime, withDeadline } from "../helpers/server.ts";

const CHROMIUM = "/usr/bin/chromium";

// The functions passed to page.evaluate run in the page; these declarations let Deno check them.
declare const document: {
  querySelector(selector: string): { textContent: string | null } | null;
  querySelectorAll(selector: string): { length: number };
  dispatchEvent(event: unknown): boolean;
};
declare const Event: new (type: string) => unknown;

let demo: DemoProcess;
let browser: Browser;

async function publish(topic: string, msg: string): Promise<string> {
  const response = await fetch(`${demo.url}/publish`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ topic, msg }),
  });
  assert.equal(response.status, 200);
  return ((await response.json()) as { id: string }).id;
}

const subscribers = async () =>
  ((await (await fetch(`${demo.url}/stats`)).json()) as { subscribers: number }).subscribers;

const waitForText = (page: Page, selector: string, expected: RegExp) =>
  page.waitForFunction(
    ([selector, source]) => new RegExp(source!).test(document.querySelector(selector!)?.textContent ?? ""),
    [selector, expected.source],
    { timeout: 15_000 },
  );

/** Sets `document.visibilityState` in the page and fires `visibilitychange`, as switching tabs does. */
const setVisibility = (page: Page, state: "hidden" | "visible") =>
  page.evaluate((state) => {
    Object.defineProperty(document, "visibilityState", { value: state, configurable: true });
    document.dispatchEvent(new Event("visibilitychange"));
  }, state);

describe(`client in Chromium against the demo (${runtime})`, () => {
  before(async () => {
    assert.ok(
      existsSync(CHROMIUM),
      `Chromium is required at ${CHROMIUM} (apt-get install chromium); it is never downloaded`,
    );
    demo = await startDemo({ TICK_MS: "0", DEMO_DEBUG: "1" });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
    });
  });
  after(async () => {
    await withDeadline(browser?.close() ?? Promise.resolve(), 15_000, "closing Chromium");
    await demo?.stop();
  });

  it("demo page follows a private stream with a fresh ticket per connect, pauses while hidden, and shows the reset", async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    const streams: Promise<Record<string, string>>[] = [];
    page.on("request", (request) => {
      if (new URL(request.url()).pathname.startsWith("/private/events/")) streams.push(request.allHeaders());
    });
    try {
      await page.goto(`${demo.url}/#secret;private`);
      await waitForText(page, "#state", /^open$/);
      assert.equal(await page.isChecked("#private"), true);
      const first = await publish("secret", "for ticket holders");
      await waitForText(page, "#log li pre", /^for ticket holders$/);

      // The server drops the stream: the client reconnects with a new ticket and its Last-Event-ID.
      await fetch(`${demo.url}/debug/drop`, { method: "POST" });
      await waitForText(page, "#reconnects", /^1$/);
      await waitForText(page, "#state", /^open$/);
      const headers = await Promise.all(streams);
      assert.equal(headers.length, 2);
      assert.match(headers[0]!.authorization ?? "", /^Bearer [0-9a-f-]{36}$/);
      assert.match(headers[1]!.authorization ?? "", /^Bearer [0-9a-f-]{36}$/);
      assert.notEqual(headers[0]!.authorization, headers[1]!.authorization);
      assert.equal(headers[1]!["last-event-id"], first);

      // Hidden: the client disconnects. 1001 events later the history no longer covers its id.
      await setVisibility(page, "hidden");
      await withDeadline(
        (async () => {
          while ((await subscribers()) !== 0) await delay(20);
        })(),
        10_000,
        "the hidden page to disconnect",
      );
      for (let i = 0; i < 1001; i += 50) {
        await Promise.all(
          Array.from(
            { length: Math.min(50, 1001 - i) },
            (_, j) => publish("secret", `while hidden ${i + j}`),
          ),
        );
      }
      await setVisibility(page, "visible");
      await waitForText(page, "#state", /^open$/);
      await page.waitForSelector("#log li.reset", { timeout: 15_000 });
      assert.match(await page.locator("#log li.reset pre").textContent() ?? "", /history-exceeded/);
      await page.waitForFunction(() => document.querySelectorAll("#log li").length >= 1 + 1 + 1000, null, {
        timeout: 15_000,
      });
      assert.equal(streams.length, 3, "one more connect, with its own ticket");
      assert.deepEqual(problems, []);
    } finally {
      await page.close();
    }
  });

  it("connect, imported into a page, POSTs a body, stops on 204 and 401, and waits out a 503's Retry-After", async () => {
    const page = await browser.newPage();
    try {
      await page.goto(`${demo.url}/stats`); // any page of the demo's origin
      const result = await page.evaluate(async () => {
        const path = "/client.js";
        const { connect } = await import(path);
        const post = (url: string, body: unknown) =>
          fetch(url, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify(body),
          });
        const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
        const posted = connect("/subscribe", {
          method: "POST",
          body: JSON.stringify({ topics: ["in-page"] }),
        });
        const data: string[] = [];
        posted.on("message", (text: string) => data.push(text));
        while (posted.state !== "open") await wait(10);
        await post("/publish", { topic: "in-page", msg: "posted é" });
        while (data.length === 0) await wait(10);
        posted.close();

        await post("/debug/refuse", { status: 204 });
        const noContent = connect("/events/in-page");
        await noContent.closed;
        const unauthorized = connect("/private/events/in-page");
        await unauthorized.closed;

        await post("/debug/refuse", { status: 503, retryAfter: 1 });
        const delays: number[] = [];
        const started = Date.now();
        const busy = connect("/events/in-page", {
          onFailure: ({ delay }: { delay: number }) => void delays.push(delay),
        });
        while (busy.state !== "open") await wait(10);
        const waited = Date.now() - started;
        busy.close();
        return {
          data,
          noContent: [noContent.state, noContent.error === undefined],
          unauthorized: [unauthorized.error?.name, unauthorized.error?.status],
          delays,
          waited,
        };
      });
      assert.deepEqual(result.data, ["posted é"]);
      assert.deepEqual(result.noContent, ["closed", true]);
      assert.deepEqual(result.unauthorized, ["ClientError", 401]);
      assert.deepEqual(result.delays, [1000]);
      assert.ok(result.waited >= 1000, `opened ${result.waited} ms after the 503`);
    } finally {
      await page.close();
    }
  });
});
