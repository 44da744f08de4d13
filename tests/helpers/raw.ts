// A raw HTTP/1.1 client over node:net (both Deno and Bun implement it): for clients
// that stop reading (TCP backpressure), abrupt resets, and bytes fetch refuses to send.
import net from "node:net";
import { until } from "./server.ts";

export interface RawClient {
  socket: net.Socket;
  /** Everything received so far. */
  received(): string;
}

/** Sends `head` (request line + headers, CRLF line ends, no final blank line needed) as is. */
export function rawRequest(url: string, head: string, options: { pause?: boolean } = {}): Promise<RawClient> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.createConnection({ host: hostname, port: Number(port) }, () => {
      socket.write(head.endsWith("\r\n\r\n") ? head : head + "\r\n\r\n");
      resolve({ socket, received: () => text });
    });
    let text = "";
    socket.on("data", (chunk: Uint8Array) => {
      text += new TextDecoder().decode(chunk);
      if (options.pause) socket.pause();
    });
    socket.on("error", () => {}); // resets are expected in these tests
    socket.once("error", reject);
  });
}

/**
 * The response head (status line and header lines, as the server wrote them) of one request
 * sent raw, with `Connection: close`; deadline-guarded. For assertions fetch's `Headers` would
 * hide (e.g. repeated `Set-Cookie` lines).
 */
export async function rawResponseHead(url: string, head: string, ms = 10_000): Promise<string[]> {
  const client = await rawRequest(url, head.replace(/(\r\n)*$/, "\r\nConnection: close"));
  try {
    await until(() => client.received().includes("\r\n\r\n"), "the response head", ms);
    return client.received().split("\r\n\r\n", 1)[0]!.split("\r\n");
  } finally {
    client.socket.destroy();
  }
}
