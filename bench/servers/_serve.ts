// Serves a fetch handler on 127.0.0.1, port 0, with Deno.serve or Bun.serve
// (whichever runs this), and prints "listening <port>".
import { listening } from "./_protocol.mjs";

declare const Deno: {
  serve(
    options: { hostname: string; port: number; onListen?: (addr: { port: number }) => void },
    handler: (request: Request) => Response | Promise<Response>,
  ): unknown;
};
declare const Bun: {
  serve(options: {
    hostname: string;
    port: number;
    idleTimeout?: number;
    fetch: (request: Request) => Response | Promise<Response>;
  }): { port: number };
};

export function serve(handler: (request: Request) => Response | Promise<Response>): void {
  if ("Deno" in globalThis) {
    Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: ({ port }) => listening(port) }, handler);
    return;
  }
  // idleTimeout 0: Bun would otherwise close a connection idle for 10 s (the raw server sends no keep-alives).
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, idleTimeout: 0, fetch: handler });
  listening(server.port);
}
