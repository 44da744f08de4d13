// docs/runtimes.md shows each framework recipe whole, exactly as examples/frameworks/ has it, so
// the code a user copies is the code the frameworks_*_test.ts files run.
import { describe, it } from "../helpers/timed.ts";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
const docs = readFileSync(`${root}docs/runtimes.md`, "utf8");
const recipes = readdirSync(`${root}examples/frameworks`).filter((name) => /\.(ts|mjs)$/.test(name)).sort();

describe("docs/runtimes.md framework recipes", () => {
  it("examples/frameworks holds the recipes docs/runtimes.md describes", () => {
    assert.deepEqual(recipes, ["elysia.ts", "hono.ts", "hono_node.mjs", "oak.ts"]);
  });

  for (const name of recipes) {
    it(`docs/runtimes.md shows examples/frameworks/${name} whole, as one code block`, () => {
      const source = readFileSync(`${root}examples/frameworks/${name}`, "utf8");
      const fence = name.endsWith(".mjs") ? "js" : "ts";
      assert.ok(
        docs.includes(`\`\`\`${fence}\n${source}\`\`\`\n`),
        `docs/runtimes.md lacks ${name} as it is`,
      );
    });
  }
});
