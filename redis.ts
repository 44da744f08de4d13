/**
 * The Redis bridge on its own entry point (`@sse-hub/sse-hub/redis`, npm
 * `sse-hub/redis`), for code that loads the bridge without the rest of the
 * package: {@linkcode RedisBridge} fans a hub's events out to every instance
 * through one Redis, {@linkcode RedisHistory} replays from its stream. The main
 * entry point exports the same classes, so either import gives the same
 * `instanceof`.
 *
 * @example One class, two entry points
 * ```ts
 * import { RedisBridge, RedisHistory } from "@sse-hub/sse-hub/redis";
 * import * as main from "@sse-hub/sse-hub";
 *
 * if (RedisBridge !== main.RedisBridge || RedisHistory !== main.RedisHistory) {
 *   throw new Error("the entry points disagree");
 * }
 * ```
 *
 * @module
 */
export { RedisBridge } from "./src/bridge/redis.ts";
export type { RedisBridgeOptions, RedisCommandClient, RedisSubscriberClient } from "./src/bridge/redis.ts";
export { RedisHistory } from "./src/bridge/redis_history.ts";
export type { RedisHistoryOptions } from "./src/bridge/redis_history.ts";
