// A list query whose WHERE clause depends on which filters a request names. Each combination gets
// its own prepared statement, made on first use: one statement with "(@x IS NULL OR x = @x)" for
// every filter would serve them all, but it hides the indexes from the planner.
import type { Database, Statement } from 'better-sqlite3';

export interface ShapedQuery<R> {
  /** The statement for these filters; `filters` must come in one fixed order per call site. */
  statement(filters: readonly string[]): Statement<Record<string, unknown>, R>;
}

/** `raw`: rows come as arrays of the selected columns (R is then a tuple type). */
export function shapedQuery<R>(
  db: Database,
  sqlFor: (filters: readonly string[]) => string,
  options: { raw?: boolean } = {},
): ShapedQuery<R> {
  const statements = new Map<string, Statement<Record<string, unknown>, R>>();
  return {
    statement(filters) {
      const key = filters.join(' ');
      let stmt = statements.get(key);
      if (stmt === undefined) {
        stmt = db.prepare<Record<string, unknown>, R>(sqlFor(filters));
        if (options.raw === true) stmt.raw(true);
        statements.set(key, stmt);
      }
      return stmt;
    },
  };
}
