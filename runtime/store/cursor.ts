// Opaque cursors for keyset pagination: the sort key of the last row a page held, so the next page
// starts after it however many rows were added or removed meanwhile (no OFFSET drift, no scan of
// skipped rows). A cursor that does not decode is the client's mistake: 400, never a defect.
//
// Each cursor names the list it belongs to, so one list's cursor handed to another (a threads
// cursor to the agents list, both keyed by a time and a name) is refused instead of quietly
// positioning the other list somewhere arbitrary.
import { AuroraError } from '../errors.js';
import { LIMITS } from '../protocol/index.js';

export type CursorList = 'agents' | 'tasks' | 'threads' | 'events' | 'runs' | 'workflows';

export function encodeCursor(list: CursorList, key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify([list, ...key]), 'utf8').toString('base64url');
}

/** The key a cursor of `list` carries, checked against the shape `kinds` ('s' string, 'n' integer). */
export function decodeCursor(list: CursorList, cursor: string, kinds: readonly ('s' | 'n')[]): (string | number)[] {
  let decoded: unknown;
  if (cursor.length <= LIMITS.cursorMaxLength) {
    try {
      decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    } catch {
      decoded = undefined;
    }
  }
  const fits =
    Array.isArray(decoded) &&
    decoded.length === kinds.length + 1 &&
    decoded[0] === list &&
    decoded.slice(1).every((v: unknown, i) => (kinds[i] === 's' ? typeof v === 'string' : Number.isSafeInteger(v)));
  if (!fits) throw new AuroraError('invalid_request', 'cursor: not a cursor of this list; pass the next_cursor of the previous page');
  return (decoded as unknown[]).slice(1) as (string | number)[];
}
