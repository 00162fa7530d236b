// Lists the dashboard keeps grow only to a bound: a tab left open for a day holds the newest
// `max` items, never more.

/** `list` with `items` appended, keeping only the newest `max` (a new array; `list` is not changed). */
export function appendBounded<T>(list: readonly T[], items: readonly T[], max: number): T[] {
  if (max <= 0) return [];
  if (items.length >= max) return items.slice(items.length - max);
  const keep = Math.max(0, list.length + items.length - max);
  return keep === 0 ? [...list, ...items] : [...list.slice(keep), ...items];
}

/** `items` prepended (newest first), keeping only the first `max`. */
export function prependBounded<T>(list: readonly T[], items: readonly T[], max: number): T[] {
  if (max <= 0) return [];
  const merged = items.length === 0 ? [...list] : [...[...items].reverse(), ...list];
  return merged.length > max ? merged.slice(0, max) : merged;
}
