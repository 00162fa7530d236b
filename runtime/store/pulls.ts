// Model pulls: one row per pull job, written when it starts, at the throttled pace of its progress
// events and when it ends. The row of a running pull is what a crash leaves behind; the next start
// marks it failed (interrupted), so no pull stays `running` with nobody pulling.
import type { Database } from 'better-sqlite3';
import type { ErrorCode } from '../errors.js';
import type { PullRecord } from '../protocol/index.js';

/** Finished pulls kept (newest first); older ones are forgotten as new ones finish. */
export const MAX_KEPT_PULLS = 1000;

const INTERRUPTED: ErrorCode = 'interrupted';

export interface PullRepository {
  /** Writes the whole record (insert or replace): pulls are few and their writes throttled. */
  save(record: PullRecord): void;
  get(id: string): PullRecord | undefined;
  /** Marks every running pull failed with `reason` and error_code `interrupted`; returns how many. */
  failOrphans(reason: string, at: string): number;
}

const COLUMNS =
  'pull_id, name, provider, status, completed_bytes, total_bytes, percent, detail, error, error_code, started_at, finished_at';

export function createPullRepository(db: Database, maxKept: number = MAX_KEPT_PULLS): PullRepository {
  const save = db.prepare<PullRecord>(
    `INSERT INTO model_pulls (${COLUMNS})
     VALUES (@pull_id, @name, @provider, @status, @completed_bytes, @total_bytes, @percent, @detail, @error, @error_code,
             @started_at, @finished_at)
     ON CONFLICT (pull_id) DO UPDATE SET
       status = excluded.status, completed_bytes = excluded.completed_bytes, total_bytes = excluded.total_bytes,
       percent = excluded.percent, detail = excluded.detail, error = excluded.error, error_code = excluded.error_code,
       finished_at = excluded.finished_at`,
  );
  const get = db.prepare<[string], PullRecord>(`SELECT ${COLUMNS} FROM model_pulls WHERE pull_id = ?`);
  // Pull ids are time-ordered (UUIDv7), so the newest rows are the greatest ids.
  const prune = db.prepare<[number]>(
    `DELETE FROM model_pulls WHERE status != 'running'
       AND pull_id < (SELECT pull_id FROM model_pulls WHERE status != 'running' ORDER BY pull_id DESC LIMIT 1 OFFSET ?)`,
  );
  const failOrphans = db.prepare<{ reason: string; code: string; at: string }>(
    `UPDATE model_pulls SET status = 'failed', error = @reason, error_code = @code, finished_at = @at WHERE status = 'running'`,
  );

  return {
    save(record) {
      save.run({ ...record });
      if (record.status !== 'running') prune.run(maxKept - 1);
    },
    get: (id) => get.get(id),
    failOrphans: (reason, at) => failOrphans.run({ reason, code: INTERRUPTED, at }).changes,
  };
}
