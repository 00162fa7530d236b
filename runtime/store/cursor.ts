// Opaque cursors for keyset pagination: the sort key of the last row a page held, so the next page
// starts after it however many rows were added or removed meanwhile (no OFFSET drift, no scan of
// skipped rows). A cursor that does not decode is the client's mistake: 400, never a defect.
import { AuroraError } from '../errors.js';

export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/** The key a cursor carries, checked against the shape `kinds` ('s' string, 'n' integer). */
export function decodeCursor(cursor: string, kinds: readonly ('s' | 'n')[]): (string | number)[] {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    key = undefined;
  }
  const fits =
    Array.isArray(key) &&
    key.length === kinds.length &&
    key.every((v, i) => (kinds[i] === 's' ? typeof v === 'string' : Number.isSafeInteger(v)));
  if (!fits || cursor.length > 512) throw new AuroraError('invalid_request', 'cursor: not a cursor this server handed out');
  return key as (string | number)[];
}
