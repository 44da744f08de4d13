// The one check for a count option (a budget, a bound, a length): a whole number of at least 1.

/** `value`, or a `RangeError` that names the option when it is not a safe integer of at least 1. */
export function positive(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`\`${name}\` must be a positive integer, got ${value}`);
  }
  return value;
}
