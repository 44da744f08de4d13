/**
 * The header type of sse-hub's public options.
 *
 * @module
 */

/**
 * Extra response headers, in any of the shapes `new Headers()` takes: a
 * `Headers`, a record, or a list of name/value pairs. The same members as the
 * DOM's `HeadersInit`, declared here so that the published `.d.ts` files need
 * no DOM lib: a Node or Bun project type-checks them with only `@types/node`
 * or `bun-types`.
 *
 * @example
 * ```ts
 * import { sseHeaders, type HeadersLike } from "@sse-hub/sse-hub";
 *
 * const cors: HeadersLike = [["access-control-allow-origin", "*"]];
 * if (sseHeaders(cors).get("access-control-allow-origin") !== "*") throw new Error("header lost");
 * ```
 */
export type HeadersLike = Headers | Record<string, string> | [string, string][];
