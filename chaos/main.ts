// One chaos scenario, run by Deno or Bun (the runtime of the demo processes is an option):
//   deno run -A chaos/main.ts <scenario> '{"runtime":"deno","library":"node-redis","seconds":60,...}'
// (the options of ScenarioOptions in chaos/scenarios.ts). Prints the result as one JSON line
// starting with "CHAOS_RESULT ". `npm run chaos` (chaos/run.mjs) drives it.
import { runScenario } from "./scenarios.ts";
import type { ScenarioOptions } from "./scenarios.ts";

const [name = "", json = "{}"] = process.argv.slice(2);
const options: ScenarioOptions = {
  runtime: "deno",
  library: "node-redis",
  seconds: 60,
  rate: 1000,
  clients: 10,
  ...JSON.parse(json),
};
const result = await runScenario(name, options);
console.log(`CHAOS_RESULT ${JSON.stringify(result)}`);
process.exit(0); // node-redis and eventsource timers would keep the process alive
