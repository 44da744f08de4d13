// The demo app as a real subprocess of the runtime running the test: examples/deno/main.ts
// under `deno test`, examples/bun/main.ts under `bun test`, on 127.0.0.1 with PORT=0.
import { startListening } from "./listening_process.ts";
import type { ListeningProcess } from "./listening_process.ts";
import { runtime } from "./server.ts";

export type DemoProcess = ListeningProcess;

export function startDemo(env: Record<string, string> = {}): Promise<DemoProcess> {
  const [command, args] = runtime === "deno"
    ? ["deno", ["run", "--allow-net", "--allow-env", "examples/deno/main.ts"]]
    : ["bun", ["run", "examples/bun/main.ts"]];
  return startListening(command, args, {
    listening: /sse-hub demo listening on (http:\/\/127\.0\.0\.1:\d+)\n/,
    env: { PORT: "0", HOST: "127.0.0.1", ...env },
  });
}
