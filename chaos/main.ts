// One chaos scenario, run by Deno or Bun (the runtime of the demo processes is an argument):
//   deno run -A chaos/main.ts <scenario> <deno|bun> <node-redis|bun> [seconds] [rate] [clients]
// Prints the result as one JSON line starting with "CHAOS_RESULT ". chaos/run.mjs drives it.
import { runScenario } from "./scenarios.ts";
import type { Library, Runtime } from "./cluster.ts";

const [name = "", runtime = "deno", library = "node-redis", seconds = "60", rate = "1000", clients = "20"] =
  process.argv.slice(2);
const result = await runScenario(name, {
  runtime: runtime as Runtime,
  library: library as Library,
  seconds: Number(seconds),
  rate: Number(rate),
  clients: Number(clients),
});
console.log(`CHAOS_RESULT ${JSON.stringify(result)}`);
process.exit(0); // node-redis and eventsource timers would keep the process alive
