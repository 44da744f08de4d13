// The demo page in a real headless Chromium (/usr/bin/chromium, never downloaded), driven by
// playwright-core, which works under both Deno and Bun. The demo is a real subprocess of the
// runtime running the test (Deno under `deno test`, Bun under `bun test`).
import { describe, it } from "../helpers/timed.ts";
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import type { Page } from "playwright-core";
import { startDemo } from "../helpers/demo_process.ts";
import { runtime, withDeadline } from "../helpers/server.ts";

const CHROMIUM = "/usr/bin/chromium";
const ARTIFACTS = fileURLToPath(new URL("../../test-artifacts/", import.meta.url));

// The functions passed to page.evaluate run in the page; these types let Deno check them without the DOM lib.
interface PageElement {
  textContent: string | null;
  dataset: Record<string, string | undefined>;
  querySelector(selector: string): PageElement | null;
}
declare const document: {
  querySelectorAll(selector: string): ArrayLike<PageElement> & Iterable<PageElement>;
  querySelector(selector: string): PageElement | null;
  getElementById(id: string): PageElement | null;
};

interface Entry {
  event: string;
  id: string;
  data: string;
}

/** The page's event log, oldest first, as the DOM shows it. */
function entries(page: Page): Promise<Entry[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll("#log li")].reverse().map((li) => ({
      event: li.dataset.event ?? "",
      id: li.dataset.id ?? "",
      data: li.querySelector("pre")?.textContent ?? "",
    }))
  );
}

async function waitForEntries(page: Page, n: number): Promise<Entry[]> {
  await page.waitForFunction((n) => document.querySelectorAll("#log li").length >= n, n, { timeout: 15_000 });
  return entries(page);
}

const text = (page: Page, selector: string) => page.locator(selector).textContent({ timeout: 15_000 });
const waitForText = (page: Page, selector: string, expected: string) =>
  page.waitForFunction(
    ([selector, expected]) => document.querySelector(selector!)?.textContent === expected,
    [selector, expected],
    { timeout: 15_000 },
  );

describe(`demo page in Chromium (${runtime})`, () => {
  it("demo page shows published events live, resumes with Last-Event-ID after a server drop exactly once, and renders", async () => {
    assert.ok(
      existsSync(CHROMIUM),
      `Chromium is required at ${CHROMIUM} for this test (Debian/Ubuntu: apt-get install chromium); it is never downloaded`,
    );
    const demo = await startDemo({ TICK_MS: "500", DEMO_DEBUG: "1" });
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 760 } });
      const problems: string[] = [];
      page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
      page.on("console", (message) => {
        if (message.type() === "error") problems.push(`console error: ${message.text()}`);
      });
      const streams: Promise<Record<string, string>>[] = [];
      page.on("request", (request) => {
        if (new URL(request.url()).pathname.startsWith("/events/")) streams.push(request.allHeaders());
      });
      const publish = async (msg: string) => {
        const response = await fetch(`${demo.url}/publish`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ topic: "browser", msg }),
        });
        assert.equal(response.status, 200);
        return await response.json() as { delivered: number; id: string };
      };

      await page.goto(`${demo.url}/#browser`);
      await waitForText(page, "#state", "open");
      assert.equal(await page.inputValue("#topic"), "browser");

      // A person publishes with the form; a server-side publisher with POST /publish.
      const typed = "from the page\nline 2: é ☃ 😀";
      await page.fill("#pub-msg", typed);
      await page.click("#send");
      await page.waitForFunction(
        () => /delivered to 1/.test(document.getElementById("result")?.textContent ?? ""),
        null,
        {
          timeout: 15_000,
        },
      );
      const second = await publish("from a server\r\nwith CRLF");
      assert.equal(second.delivered, 1);
      const live = await waitForEntries(page, 2);
      assert.deepEqual(live.map((e) => [e.event, e.data]), [["message", typed], [
        "message",
        "from a server\nwith CRLF",
      ]]);
      assert.equal(live[1]!.id, second.id);
      await waitForText(page, "#subscribers", "1");

      // The server ends the stream (the hub stays up); what is published meanwhile must arrive once.
      const replayedBefore =
        (await (await fetch(`${demo.url}/stats`)).json() as { replayed: number }).replayed;
      const drop = await fetch(`${demo.url}/debug/drop`, { method: "POST" });
      assert.deepEqual(await drop.json(), { dropped: 1 });
      const missed = [];
      for (const msg of ["missed 1", "missed 2\nsecond line", "missed 3 😀"]) {
        const result = await publish(msg);
        assert.equal(result.delivered, 0, "published while the browser is disconnected");
        missed.push(result);
      }
      await waitForText(page, "#reconnects", "1");
      await waitForText(page, "#state", "open");
      const after = await publish("live again");
      assert.equal(after.delivered, 1);
      // "live again" is a fence: a duplicate of a replayed event would have come before it.
      const all = await waitForEntries(page, 6);
      assert.deepEqual(all.map((e) => e.data), [
        typed,
        "from a server\nwith CRLF",
        "missed 1",
        "missed 2\nsecond line",
        "missed 3 😀",
        "live again",
      ]);
      assert.deepEqual(all.slice(2).map((e) => e.id), [...missed.map((m) => m.id), after.id]);
      const replayed = (await (await fetch(`${demo.url}/stats`)).json() as { replayed: number }).replayed;
      assert.ok(replayed - replayedBefore >= 3, `the hub replayed ${replayed - replayedBefore} events`);

      // The reconnect carried the last id the page had seen (a message or a tick), from before the drop.
      const headers = await Promise.all(streams);
      assert.equal(headers.length, 2);
      assert.equal(headers[0]!["last-event-id"], undefined);
      const resumedFrom = BigInt(headers[1]!["last-event-id"] ?? "0");
      assert.ok(
        resumedFrom >= BigInt(second.id) && resumedFrom < BigInt(missed[0]!.id),
        `Last-Event-ID ${resumedFrom}`,
      );

      await page.waitForFunction(() => /\d/.test(document.getElementById("tick")?.textContent ?? ""), null, {
        timeout: 15_000,
      });
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: `${ARTIFACTS}demo-${runtime}.png` });

      // Disconnect and connect again with the button: the state and the hub follow.
      await page.click("#toggle");
      assert.equal(await text(page, "#state"), "closed");
      await waitForText(page, "#subscribers", "0");
      await page.click("#toggle");
      await waitForText(page, "#state", "open");
      await waitForText(page, "#subscribers", "1");
      assert.deepEqual(problems, []);
    } finally {
      await withDeadline(browser.close(), 15_000, "closing Chromium");
      await demo.stop();
    }
  });
});
