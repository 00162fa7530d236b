// Idempotency keys in SQLite (when Aurora runs without Redis): a client's key for a request, the
// fingerprint of what it asked, and, once answered, the answer to replay. Bounded two ways: keys
// expire (IDEMPOTENCY_TTL_MS), and past maxKeys the oldest are dropped.
import type { Database } from 'better-sqlite3';
import { fromJson, toJson } from './json.js';

export interface IdempotencyEntry {
  fingerprint: string;
  /** pending: the first request is still running; done: `response` is its answer. */
  state: 'pending' | 'done';
  /** The task the first request runs, so a retry can join it instead of running it again. */
  task_id?: string;
  response?: { status: number; body: string; headers: Record<string, string> };
}

export interface IdempotencyRepository {
  /** Stores `entry` under `key` unless a live one is there; returns the live one, or null when stored. */
  claim(key: string, entry: IdempotencyEntry, expiresAt: number, now: number): IdempotencyEntry | null;
  /** Replaces the entry (the answer of a pending request). */
  put(key: string, entry: IdempotencyEntry, expiresAt: number): void;
  release(key: string): void;
}

export function createIdempotencyRepository(db: Database, maxKeys: number): IdempotencyRepository {
  const dropExpired = db.prepare<[string, number]>('DELETE FROM idempotency_keys WHERE key = ? AND expires_at <= ?');
  const insert = db.prepare<[string, string, number]>(
    'INSERT INTO idempotency_keys (key, entry, expires_at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING',
  );
  const get = db.prepare<[string], string>('SELECT entry FROM idempotency_keys WHERE key = ?').pluck();
  const put = db.prepare<[string, string, number]>(
    'INSERT INTO idempotency_keys (key, entry, expires_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET entry = excluded.entry, expires_at = excluded.expires_at',
  );
  const release = db.prepare<[string]>('DELETE FROM idempotency_keys WHERE key = ?');
  const count = db.prepare<[], number>('SELECT count(*) FROM idempotency_keys').pluck();
  const pruneExpired = db.prepare<[number]>('DELETE FROM idempotency_keys WHERE expires_at <= ?');
  const pruneOldest = db.prepare<[number]>(
    'DELETE FROM idempotency_keys WHERE key IN (SELECT key FROM idempotency_keys ORDER BY expires_at LIMIT ?)',
  );
  // A range delete per insert would cost more than the insert: the bound is enforced every tenth.
  const pruneEvery = Math.max(1, Math.ceil(maxKeys / 10));
  let inserts = 0;

  return {
    claim(key, entry, expiresAt, now) {
      dropExpired.run(key, now);
      if (insert.run(key, toJson(entry), expiresAt).changes === 0) {
        const live = get.get(key);
        return live === undefined ? null : fromJson<IdempotencyEntry>(live);
      }
      if (++inserts >= pruneEvery) {
        inserts = 0;
        pruneExpired.run(now);
        const over = count.get()! - maxKeys;
        if (over > 0) pruneOldest.run(over);
      }
      return null;
    },
    put(key, entry, expiresAt) {
      put.run(key, toJson(entry), expiresAt);
    },
    release(key) {
      release.run(key);
    },
  };
}
