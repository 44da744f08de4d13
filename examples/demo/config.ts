// The demo's settings from the environment, the same for every runtime.

/** What the entry points read from the environment. */
export interface DemoConfig {
  /** PORT, default 8000; 0 picks a free port. */
  port: number;
  /** HOST, default 127.0.0.1. */
  hostname: string;
  /** TICK_MS, default 5000; 0 sends no ticks. */
  tickMs: number;
  /** DEMO_DEBUG=1 enables POST /debug/drop. */
  debug: boolean;
}

export function readConfig(env: Record<string, string | undefined>): DemoConfig {
  return {
    port: integer("PORT", env.PORT, 8000, 65535),
    hostname: env.HOST || "127.0.0.1",
    tickMs: integer("TICK_MS", env.TICK_MS, 5000, 2 ** 31 - 1),
    debug: env.DEMO_DEBUG === "1",
  };
}

function integer(name: string, value: string | undefined, fallback: number, max: number): number {
  if (value === undefined || value === "") return fallback;
  const number = Number(value);
  if (!/^\d+$/.test(value) || number > max) {
    throw new RangeError(`${name} must be an integer from 0 to ${max}, got ${value}`);
  }
  return number;
}
