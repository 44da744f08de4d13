/**
 * Internal: the page's visibility, guarded so that it is simply "visible" outside browsers.
 *
 * @module
 */

interface VisibilityDocument {
  visibilityState: string;
  addEventListener(type: "visibilitychange", listener: () => void): void;
  removeEventListener(type: "visibilitychange", listener: () => void): void;
}

const page = (globalThis as { document?: Partial<VisibilityDocument> }).document;
const doc = page?.visibilityState && page.addEventListener ? page as VisibilityDocument : undefined;

/** Whether the page is hidden now (never outside a browser). */
export const isHidden = (): boolean => doc?.visibilityState === "hidden";

/**
 * Calls `onChange` on every visibility change; returns the function that stops it.
 *
 * @param onChange Called with `true` when the page became hidden, `false` when it became visible.
 */
export function watchVisibility(onChange: (hidden: boolean) => void): () => void {
  if (!doc) return () => {};
  const listener = () => onChange(isHidden());
  doc.addEventListener("visibilitychange", listener);
  return () => doc.removeEventListener("visibilitychange", listener);
}
