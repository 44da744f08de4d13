/**
 * sse-hub: Server-Sent Events for any fetch-style runtime (Deno.serve,
 * Bun.serve, Cloudflare Workers, …). A {@linkcode Hub} fans events out to SSE
 * `Response`s built on WHATWG streams; the encoder and decoder are exact to the
 * WHATWG HTML "Server-sent events" rules.
 *
 * @example A hub behind any `(Request) => Response` server
 * ```ts
 * import { Hub } from "@sse-hub/sse-hub";
 *
 * const hub = new Hub<string>();
 * const fetch = (request: Request): Promise<Response> =>
 *   hub.response(request, { topics: "news" });
 * hub.publish("news", "hello\nworld"); // every subscriber of "news" gets it
 * hub.close();
 * ```
 *
 * @module
 */
export type { SseEvent } from "./src/event.ts";
export { encodeEvent, EventEncoderStream, formatComment, formatEvent } from "./src/encode.ts";
export type { EncodeOptions, Serializer } from "./src/encode.ts";
export { EventDecoderStream, parseEventStream } from "./src/decode.ts";
export type { DecodedEvent, DecoderOptions } from "./src/decode.ts";
export { EventFieldError, HubError, ParseError } from "./src/errors.ts";
export type { EventField, EventFieldErrorType, HubErrorType, ParseErrorType } from "./src/errors.ts";
export { Hub } from "./src/hub.ts";
export type {
  HubCloseOptions,
  HubOptions,
  HubResponseOptions,
  HubSubscribeOptions,
} from "./src/hub_options.ts";
export type { HubMessage, HubStats, PublishResult, SubscriberInfo } from "./src/message.ts";
export { MemoryHistory } from "./src/memory_history.ts";
export type { HistoryEntry, HistoryStore, Replay } from "./src/history.ts";
export type { MemoryHistoryOptions } from "./src/memory_history.ts";
export type { Bridge, BridgeMessage, BridgeSink } from "./src/bridge/bridge.ts";
export { BroadcastChannelBridge } from "./src/bridge/broadcast_channel.ts";
export type { BroadcastChannelBridgeOptions } from "./src/bridge/broadcast_channel.ts";
export { RedisBridge } from "./src/bridge/redis.ts";
export type { RedisBridgeOptions, RedisCommandClient, RedisSubscriberClient } from "./src/bridge/redis.ts";
export { RedisHistory } from "./src/bridge/redis_history.ts";
export type { RedisHistoryOptions } from "./src/bridge/redis_history.ts";
export { getLastEventId, sseHeaders, textResponse } from "./src/response.ts";
export type { HeadersLike } from "./src/headers.ts";
export { createEventStream, eventStreamResponse } from "./src/stream.ts";
export type {
  EventStream,
  EventStreamOptions,
  EventStreamResponseOptions,
  StreamEvent,
} from "./src/stream_options.ts";
export { publishHandler } from "./src/publish.ts";
export type {
  PublishHandler,
  PublishHandlerOptions,
  PublishInput,
  PublishTarget,
  PublishValidator,
} from "./src/publish_options.ts";
export { formatMetrics, metricsResponse } from "./src/metrics.ts";
export type { MetricsOptions } from "./src/metrics.ts";
export { typed } from "./src/typed_events.ts";
export type { EventMap, TypedHub } from "./src/typed_events.ts";
export { DurableObjectHistory } from "./src/durable_object_history.ts";
export type { DurableObjectHistoryOptions, DurableObjectStorageLike } from "./src/durable_object_history.ts";
