// A real HTTP server on 127.0.0.1, port 0, on whichever runtime runs the test:
// Deno.serve under `deno test`, Bun.serve under `bun test`.
declare const Deno: {
  serve(
    options: { hostname: string; port: number; onListen?: () => void },
    handler: (request: Request) => Response | Promise<Response>,
  ): { addr: { port: number }; shutdown(): Promise<void> };
};
declare const Bun: {
  serve(options: {
    hostname: string;
    port: number;
    idleTimeout?: number;
    fetch: (request: Request) => Response | Promise<Response>;
  }): { port: number; stop(force?: boolean): Promise<void> | void };
};

export interface TestServer {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  url: string;
  /** Which runtime serves. */
  runtime: "deno" | "bun";
  /** Stops the server. Close streams (or the hub) first: Deno waits for open responses. */
  close(): Promise<void>;
}

export const runtime: "deno" | "bun" = "Deno" in globalThis ? "deno" : "bun";

export interface ServeOptions {
  /** Bun.serve's idleTimeout in seconds; omit for the runtime default (10 s). */
  idleTimeout?: number;
}

export function serve(
  handler: (request: Request) => Response | Promise<Response>,
  options: ServeOptions = {},
): TestServer {
  if (runtime === "deno") {
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler);
    return {
      url: `http://127.0.0.1:${server.addr.port}`,
      runtime,
      close: () => withDeadline(server.shutdown(), 10_000, "Deno server shutdown (a stream left open?)"),
    };
  }
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: handler,
    ...(options.idleTimeout === undefined ? {} : { idleTimeout: options.idleTimeout }),
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    runtime,
    close: async () => {
      await server.stop(true);
    },
  };
}

/** Rejects when `promise` is not settled within `ms`: a guard against hangs, never a speed assertion. */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `condition` until it holds (deadline-guarded), for state that settles asynchronously; it may
 * be async (a `/stats` request to another process).
 */
export async function until(
  condition: () => boolean | Promise<boolean>,
  what: string,
  ms = 10_000,
): Promise<void> {
  const start = Date.now();
  while (!(await condition())) {
    if (Date.now() - start > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await delay(5);
  }
}
