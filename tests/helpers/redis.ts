// A real redis-server (Debian's /usr/bin/redis-server) on a free 127.0.0.1 port, in its own
// temp dir, by default with an fsync-always AOF so a killed server restarts with its streams
// intact (`{ persistence: false }`: no AOF, a restarted server comes back empty).
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { withDeadline } from "./server.ts";
import type { RedisCommandClient, RedisSubscriberClient } from "../../mod.ts";

const REDIS_SERVER = "/usr/bin/redis-server";

export interface TestRedis {
  /** `redis://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** Kills the server abruptly (SIGKILL): clients see their connections drop. */
  kill(): Promise<void>;
  /**
   * Starts it again on the same port and data dir: with the AOF (the data comes back) unless
   * `persistence` is false (then it restarts empty, and a stale AOF is ignored).
   */
  restart(options?: RedisOptions): Promise<void>;
  /** Runs one command on a fresh raw connection (any client library's view aside). */
  command(...args: string[]): Promise<RespReply>;
  /** `CLIENT KILL TYPE pubsub`: drops every subscriber connection; answers how many. */
  killPubSub(): Promise<number>;
  /** Stops it and removes its data dir. */
  stop(): Promise<void>;
}

/** A port that was free a moment ago (bind 127.0.0.1:0, read it, release it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface RedisOptions {
  /** An fsync-always AOF (`--appendonly yes`). @default {true} */
  persistence?: boolean;
}

export async function startRedis(options: RedisOptions = {}): Promise<TestRedis> {
  if (!existsSync(REDIS_SERVER)) {
    throw new Error(
      `${REDIS_SERVER} is required (Debian/Ubuntu: apt-get install redis-server); it is never downloaded`,
    );
  }
  const dir = mkdtempSync(join(tmpdir(), "sse-hub-redis-"));
  const port = await freePort();
  let child: ChildProcess | undefined;

  const launch = async ({ persistence = options.persistence ?? true }: RedisOptions = {}): Promise<void> => {
    const proc = spawn(REDIS_SERVER, [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--dir",
      dir,
      "--appendonly",
      persistence ? "yes" : "no",
      "--appendfsync",
      "always",
      "--save",
      "",
      "--daemonize",
      "no",
      "--protected-mode",
      "no",
      "--loglevel",
      "warning",
    ], { stdio: ["ignore", "pipe", "pipe"] });
    child = proc;
    let output = "";
    proc.stdout?.on("data", (chunk) => (output += chunk));
    proc.stderr?.on("data", (chunk) => (output += chunk));
    const exited = new Promise<never>((_, reject) =>
      proc.once("exit", (code) => reject(new Error(`redis-server exited (${code}): ${output}`)))
    );
    exited.catch(() => {});
    // Ready once it accepts connections and answers PING.
    await withDeadline(Promise.race([exited, ping(port)]), 10_000, `redis-server on port ${port}`);
  };

  const kill = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((resolve) => proc.once("exit", resolve));
    proc.kill("SIGKILL");
    await withDeadline(exited, 10_000, "redis-server to exit");
  };

  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill,
    restart: launch,
    command: (...args) => respCommand(port, args),
    killPubSub: async () => Number(await respCommand(port, ["CLIENT", "KILL", "TYPE", "pubsub"])),
    stop: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A RESP reply: a simple string, bulk string, integer, null, error or array of them. */
export type RespReply = string | number | null | Error | RespReply[];

/** One command over a fresh socket to `port`, its RESP2 reply parsed; rejects on an error reply. */
export async function respCommand(port: number, args: readonly string[]): Promise<RespReply> {
  const { connect } = await import("node:net");
  const encoder = new TextEncoder();
  const parts = args.map((arg) => encoder.encode(arg));
  const head = `*${parts.length}\r\n`;
  const reply = await withDeadline(
    new Promise<Uint8Array>((resolve, reject) => {
      const socket = connect(port, "127.0.0.1");
      const chunks: Uint8Array[] = [];
      socket.on("connect", () => {
        socket.write(head);
        for (const part of parts) {
          socket.write(`$${part.byteLength}\r\n`), socket.write(part), socket.write("\r\n");
        }
      });
      socket.on("data", (chunk: Uint8Array) => {
        chunks.push(chunk);
        const all = concat(chunks);
        if (parseResp(all, 0) !== undefined) {
          socket.destroy();
          resolve(all);
        }
      });
      socket.on("error", reject);
    }),
    10_000,
    `redis ${args[0]}`,
  );
  const [value] = parseResp(reply, 0)!;
  if (value instanceof Error) throw value;
  return value;
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const chunk of chunks) out.set(chunk, at), at += chunk.byteLength;
  return out;
}

// Parses one RESP2 value at `at`: [value, next offset], or undefined while incomplete.
function parseResp(bytes: Uint8Array, at: number): [RespReply, number] | undefined {
  const end = bytes.indexOf(13, at);
  if (end === -1 || end + 1 >= bytes.length) return undefined;
  const line = new TextDecoder().decode(bytes.subarray(at + 1, end));
  const next = end + 2;
  switch (bytes[at]) {
    case 43: // +
      return [line, next];
    case 45: // -
      return [new Error(line), next];
    case 58: // :
      return [Number(line), next];
    case 36: { // $
      const length = Number(line);
      if (length < 0) return [null, next];
      if (next + length + 2 > bytes.length) return undefined;
      return [new TextDecoder().decode(bytes.subarray(next, next + length)), next + length + 2];
    }
    case 42: { // *
      const count = Number(line);
      if (count < 0) return [null, next];
      const items: RespReply[] = [];
      let cursor = next;
      for (let i = 0; i < count; i++) {
        const item = parseResp(bytes, cursor);
        if (item === undefined) return undefined;
        items.push(item[0]);
        cursor = item[1];
      }
      return [items, cursor];
    }
    default:
      throw new Error(`not a RESP reply: ${line.slice(0, 80)}`);
  }
}

// Inline RESP PING over a raw socket, retried until the server answers +PONG.
async function ping(port: number): Promise<void> {
  const { connect } = await import("node:net");
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      let reply = "";
      socket.on("connect", () => socket.write("PING\r\n"));
      socket.on("data", (chunk) => {
        reply += chunk;
        if (reply.includes("\r\n")) {
          socket.destroy();
          resolve(reply.startsWith("+PONG"));
        }
      });
      socket.on("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export interface TcpProxy {
  /** `redis://127.0.0.1:<proxy port>` */
  url: string;
  /** Drops every proxied connection and refuses new ones until `restore`. */
  cut(): void;
  /** Accepts connections again. */
  restore(): void;
  /** Keeps back what the server sends through the proxy (a lagging connection) until `release`. */
  hold(): void;
  /** Sends on what was kept back, in order, and stops keeping back. */
  release(): void;
  close(): Promise<void>;
}

/** A loopback TCP proxy to `port`: cuts one client's connection while Redis itself stays up. */
export async function tcpProxy(port: number): Promise<TcpProxy> {
  const { connect } = await import("node:net");
  const sockets = new Set<import("node:net").Socket>();
  let down = false;
  // While held: what the server sent, per client connection, in order.
  let keptBack: Map<import("node:net").Socket, Uint8Array[]> | undefined;
  const server = createServer((inbound) => {
    if (down) return void inbound.destroy();
    const outbound = connect(port, "127.0.0.1");
    sockets.add(inbound).add(outbound);
    const drop = () => {
      inbound.destroy();
      outbound.destroy();
      sockets.delete(inbound);
      sockets.delete(outbound);
    };
    inbound.on("error", drop).on("close", drop).pipe(outbound);
    outbound.on("error", drop).on("close", drop).on("data", (chunk: Uint8Array) => {
      const kept = keptBack?.get(inbound) ?? keptBack?.set(inbound, []).get(inbound);
      if (kept) kept.push(chunk);
      else inbound.write(chunk);
    });
  });
  const proxyPort = await new Promise<number>((resolve) =>
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      resolve(typeof address === "object" && address !== null ? address.port : 0);
    })
  );
  return {
    url: `redis://127.0.0.1:${proxyPort}`,
    cut: () => {
      down = true;
      for (const socket of sockets) socket.destroy();
      sockets.clear();
    },
    restore: () => (down = false),
    hold: () => (keptBack ??= new Map()),
    release: () => {
      const kept = keptBack;
      keptBack = undefined;
      for (const [inbound, chunks] of kept ?? []) for (const chunk of chunks) inbound.write(chunk);
    },
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A command connection and a subscriber connection from one client library, as the bridge takes them. */
export interface ClientPair {
  client: RedisCommandClient;
  subscriber: RedisSubscriberClient;
  /** Runs a raw command on the command connection (for test setup and assertions). */
  command(...args: string[]): Promise<unknown>;
  close(): Promise<void>;
}

export interface ClientKind {
  name: string;
  /** Connects both; the subscriber may go through another URL (a proxy). */
  connect(url: string, subscriberUrl?: string): Promise<ClientPair>;
}

declare const Bun: {
  RedisClient: new (url: string, options?: { enableOfflineQueue?: boolean; maxRetries?: number }) => {
    send(command: string, args: string[]): Promise<unknown>;
    subscribe(channel: string, listener: (message: string, channel: string) => void): Promise<number>;
    unsubscribe(channel: string): Promise<void>;
    connect(): Promise<void>;
    close(): void;
    onconnect: (() => void) | null;
    onclose: ((error: Error) => void) | null;
  };
};

const nodeRedis: ClientKind = {
  name: "node-redis",
  async connect(url, subscriberUrl = url) {
    const { createClient } = await import("redis");
    // No offline queue: a publish while Redis is down fails at once instead of waiting.
    const socket = { reconnectStrategy: (retries: number) => Math.min(20 * 2 ** retries, 200) };
    const client = createClient({ url, disableOfflineQueue: true, socket });
    const subscriber = createClient({ url: subscriberUrl, socket });
    const errors = (error: unknown) => void error; // the bridge reports them; node-redis needs a listener
    client.on("error", errors);
    subscriber.on("error", errors);
    await client.connect();
    await subscriber.connect();
    return {
      client,
      subscriber,
      command: (...args) => client.sendCommand(args),
      close: () => {
        client.destroy();
        subscriber.destroy();
        return Promise.resolve();
      },
    };
  },
};

const bunRedis: ClientKind = {
  name: "Bun RedisClient",
  async connect(url, subscriberUrl = url) {
    const client = new Bun.RedisClient(url, { enableOfflineQueue: false });
    const subscriber = new Bun.RedisClient(subscriberUrl, { maxRetries: 1000 });
    await client.connect();
    await subscriber.connect();
    return {
      client,
      subscriber,
      command: (command, ...args) => client.send(command!, args),
      close: () => {
        client.close();
        subscriber.close();
        return Promise.resolve();
      },
    };
  },
};

/** node-redis everywhere; Bun's built-in client too when Bun runs the test. */
export const clientKinds: ClientKind[] = "Bun" in globalThis ? [nodeRedis, bunRedis] : [nodeRedis];
