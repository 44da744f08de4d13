// A raw HTTP/1.1 client over node:net (both Deno and Bun implement it): for clients
// that stop reading (TCP backpressure), abrupt resets, and bytes fetch refuses to send.
import net from "node:net";

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
