// Baseline (b): better-sse channels on Node's node:http (the library's documented
// fan-out: createSession + channel.register + channel.broadcast), default session
// options (retry hint, per-session keep-alive timer, per-session serialization).
import { createServer } from "node:http";
import { createChannel, createSession } from "better-sse";
import { collectGarbage, listening, profile, startPublisher } from "./_protocol.mjs";

const channel = createChannel();
let lastId = 0;

const publish = (data) => channel.broadcast(data, "message", { eventId: String(++lastId) });

const server = createServer(async (req, res) => {
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  if (url.pathname === "/events") {
    const session = await createSession(req, res);
    channel.register(session);
    return;
  }
  if (url.pathname === "/publish") {
    res.writeHead(startPublisher(url.searchParams, publish) ? 202 : 400).end();
    return;
  }
  if (url.pathname.startsWith("/profile/")) {
    res.writeHead(await profile(url.pathname, url.searchParams)).end();
    return;
  }
  if (url.pathname === "/gc") {
    collectGarbage();
    res.writeHead(204).end();
    return;
  }
  res.writeHead(404).end();
});
server.listen(0, "127.0.0.1", () => listening(server.address().port));
