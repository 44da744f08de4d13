// The client entry as a browser downloads it: one bundle with no server code, its size, and
// the copy the demo serves (examples/demo/client_js.ts) kept equal to a fresh build.
import { describe, it } from "../helpers/timed.ts";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CLIENT_JS } from "../../examples/demo/client_js.ts";
import { buildClientBundle } from "../helpers/client_bundle.ts";

describe("client bundle", () => {
  it("client.ts bundles without server code, under 3.3 KB min+gzip, and the demo serves the current build", () => {
    const dir = mkdtempSync(join(tmpdir(), "sse-hub-client-bundle-"));
    const { report, code } = buildClientBundle(dir);
    rmSync(dir, { recursive: true, force: true });
    const [, min, gzip] = /(\d+) bytes min, (\d+) bytes min\+gzip/.exec(report)!.map(Number);
    console.log(report);
    assert.ok(
      gzip! < 3300,
      `${gzip} bytes min+gzip (docs/client.md reports the number; update it with the code)`,
    );
    assert.ok(min! < 8000, `${min} bytes min`);
    for (
      const server of ["HubError", "EventFieldError", "too-many-subscribers", "publishAsync", "MemoryHistory"]
    ) {
      assert.ok(!code.includes(server), `the client bundle contains server code: ${server}`);
    }
    assert.equal(
      CLIENT_JS,
      code,
      "examples/demo/client_js.ts is stale: run `node scripts/client_size.mjs --demo`",
    );
  });
});
