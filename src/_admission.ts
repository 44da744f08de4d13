// Who may subscribe: the checks an SSE request passes before anything is subscribed (topics,
// the app's `authorize`, `maxSubscribers`, a closed hub), each refusal a plain response.
import type { HubSettings } from "./_settings.ts";
import { HubError } from "./errors.ts";
import { textResponse } from "./response.ts";
import { toTopicList } from "./_topics.ts";

/** What admission reads of its hub's state. */
export interface AdmissionState {
  readonly closed: boolean;
  readonly size: number;
}

/** The request's topics, or the response refusing it. */
export async function admit(
  request: Request,
  topics: string | readonly string[],
  settings: HubSettings,
  hub: AdmissionState,
): Promise<string[] | Response> {
  if (hub.closed) return refuseClosed(settings);
  let list: string[];
  try {
    list = toTopicList(topics, settings.pattern, settings.maxTopics);
  } catch (error) {
    return textResponse(400, (error as Error).message);
  }
  const { authorize } = settings.options;
  if (authorize) {
    const verdict = await authorize(request, list);
    if (verdict !== true) return verdict === false ? textResponse(403, "forbidden") : verdict;
    if (hub.closed) return refuseClosed(settings); // closed while the app decided
  }
  if (hub.size >= settings.maxSubscribers) {
    return textResponse(503, "too many subscribers", { "retry-after": settings.retryAfter });
  }
  return list;
}

// 204 tells `EventSource` to stop reconnecting; 503 (with `Retry-After`) says "try elsewhere".
function refuseClosed(settings: HubSettings): Response {
  const status = settings.closedStatus;
  const retry = status === 503 ? { "retry-after": settings.retryAfter } : undefined;
  return textResponse(status, "the hub is closed", retry);
}

/**
 * The topics and message budget of an in-process subscription.
 *
 * @throws {HubError} `"closed"`, `"invalid-topic"` or `"too-many-subscribers"`.
 * @throws {RangeError} When `bufferMessages` is not a whole number ≥ 0.
 */
export function admitInProcess(
  topics: string | readonly string[],
  bufferMessages = 1024,
  settings: HubSettings,
  hub: AdmissionState,
): [string[], number] {
  if (hub.closed) throw new HubError("closed", "cannot subscribe: the hub is closed");
  const list = toTopicList(topics, settings.pattern, settings.maxTopics);
  if (hub.size >= settings.maxSubscribers) {
    throw new HubError("too-many-subscribers", `\`maxSubscribers\` (${settings.maxSubscribers}) reached`);
  }
  if (!Number.isSafeInteger(bufferMessages) || bufferMessages < 0) {
    throw new RangeError(`\`bufferMessages\` must be a whole number ≥ 0, got ${bufferMessages}`);
  }
  return [list, bufferMessages];
}
