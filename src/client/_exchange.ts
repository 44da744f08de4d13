/**
 * Internal: one attempt's request, and one decoded event turned into the item a connection yields.
 *
 * @module
 */
import type { DecodedEvent } from "../decode.ts";
import { ClientError } from "./errors.ts";
import { parseRetryAfter } from "./retry.ts";
import type { ClientItem, ConnectOptions, Issue, StandardResult } from "./types.ts";

const location = (globalThis as { location?: { href: string } }).location;

/**
 * Sends one attempt's request: the headers (a function is called now), `Accept`, and the last
 * event id as `Last-Event-ID` or as the `lastEventId` query parameter.
 */
export async function request<E>(
  target: string | URL,
  options: ConnectOptions<E>,
  lastEventId: string,
  signal: AbortSignal,
): Promise<Response> {
  const headers = new Headers(
    typeof options.headers === "function" ? await options.headers() : options.headers,
  );
  headers.set("accept", "text/event-stream");
  const url = new URL(target, location?.href);
  if (lastEventId !== "") {
    if (options.lastEventIdIn === "query") url.searchParams.set("lastEventId", lastEventId);
    else headers.set("last-event-id", lastEventId);
  }
  const init: RequestInit = { method: options.method ?? "GET", headers, signal };
  if (options.body !== undefined) init.body = options.body as BodyInit;
  if (options.credentials) init.credentials = options.credentials;
  const fetchFn = options.fetch ?? fetch; // called unbound: `window.fetch` refuses another `this`
  return await fetchFn(url.href, init);
}

/** Why a response is not an event stream to read (a status, or its content type), or `undefined`. */
export function refusal(response: Response): ClientError | undefined {
  const status = response.status;
  const type = response.headers.get("content-type") ?? "";
  if (status !== 200) {
    const retryAfter = status === 429 || status === 503
      ? parseRetryAfter(response.headers.get("retry-after"))
      : undefined;
    return new ClientError("status", `the server answered ${status}`, { status, retryAfter });
  }
  if (!/^text\/event-stream\b/i.test(type) || !response.body) {
    return new ClientError("content-type", `expected text/event-stream, got "${type}"`, { status });
  }
  return undefined;
}

/**
 * The item for one decoded event: the server's reset, or an application event (parsed and
 * validated as the options say), or an invalid item when parsing or validation fails.
 */
export async function toItem<E>(
  { event, data, id }: DecodedEvent,
  options: ConnectOptions<E>,
): Promise<ClientItem<E>> {
  if (event === (options.resetEvent ?? "sse-hub:reset")) {
    let reason = "unknown";
    try {
      reason = String(JSON.parse(data).reason ?? reason);
    } catch {
      // Unreadable: still a reset, of unknown reason.
    }
    return { type: "reset", reason, id };
  }
  const { parse, schemas } = options;
  const invalid = (issues: readonly Issue[]): ClientItem<E> => ({ type: "invalid", event, data, id, issues });
  let value: unknown = data;
  if (parse === "json") {
    try {
      value = JSON.parse(data);
    } catch (error) {
      return invalid([{ message: `the data is not JSON: ${error}` }]);
    }
  }
  if (schemas) {
    // Own properties only: an event named "toString" must not find Object.prototype.toString.
    const schema = Object.hasOwn(schemas, event) ? schemas[event as keyof E] : undefined;
    if (!schema) return invalid([{ message: `no schema for the event "${event}"` }]);
    let result: StandardResult<unknown>;
    try {
      result = await schema["~standard"].validate(value);
    } catch (error) {
      return invalid([{ message: `the validator threw: ${error}` }]); // not a broken stream: no reconnect loop
    }
    if (result.issues) return invalid(result.issues);
    value = result.value;
  }
  return { type: "event", event, data: value, id } as ClientItem<E>;
}
