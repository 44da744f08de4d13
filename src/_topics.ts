// Topic names come from URLs: validate them before they become map keys or log lines.
import { HubError } from "./errors.ts";

// 1 to 128 of `A-Z a-z 0-9 _ . : -`, not starting with `.`, `:` or `-`, never `..` (so a topic
// used in a path or key cannot climb out of it). README and SECURITY.md quote this rule.
export const DEFAULT_TOPIC_PATTERN: RegExp = /^(?!.*\.\.)[A-Za-z0-9_][A-Za-z0-9_.:-]{0,127}$/;

/** Normalises `topics` to a de-duplicated array, or throws `HubError("invalid-topic")`. */
export function toTopicList(topics: string | readonly string[], pattern: RegExp, max: number): string[] {
  const list = typeof topics === "string" ? [topics] : topics;
  if (!Array.isArray(list) || list.length === 0) {
    throw new HubError("invalid-topic", "`topics` must be a topic name or a non-empty array of them");
  }
  if (list.length > max) {
    throw new HubError("invalid-topic", `\`topics\` has ${list.length} topics; at most ${max} are allowed`);
  }
  for (const topic of list) assertTopic(topic, pattern);
  return [...new Set(list)];
}

export function assertTopic(topic: unknown, pattern: RegExp): asserts topic is string {
  if (typeof topic !== "string" || !pattern.test(topic)) {
    const shown = typeof topic === "string" ? quote(topic.slice(0, 64)) : typeof topic;
    throw new HubError("invalid-topic", `\`topic\` ${shown} does not match ${pattern}`);
  }
}

// Quotes what a client sent for an error message: anything but printable ASCII becomes
// \uXXXX, so no control, bidi-override or line-separator character is echoed.
function quote(text: string): string {
  return `"${
    text.replace(/[^\x20-\x7E]|["\\]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)
  }"`;
}
