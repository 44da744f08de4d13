/**
 * Internal: what `DurableObjectHistory` keeps under one storage key, and the ids its keys may
 * carry; apart from the store so that the layout it reads back after an eviction is in one place.
 *
 * @module
 */
import type { HistoryEntry } from "./history.ts";

/** What one key holds. `message` is there when the hub gave one (filters need it on replay). */
export interface StoredEvent {
  topic: string;
  bytes: Uint8Array;
  message?: NonNullable<HistoryEntry["message"]>;
}

/** Hub ids: increasing integers (µs since the epoch), 16 digits until the year 2286. */
export const NUMERIC_ID = /^[1-9]\d{0,15}$/;

/** Whether a value read back from storage has the shape of a {@linkcode StoredEvent}. */
export function isStoredEvent(value: unknown): value is StoredEvent {
  const event = value as StoredEvent | null;
  return typeof event === "object" && event !== null && typeof event.topic === "string" &&
    event.bytes instanceof Uint8Array;
}
