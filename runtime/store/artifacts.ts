// Artifacts: what browser agents leave behind (screenshots), kept in SQLite within two bounds, a
// count and a total of bytes; the oldest go first when either is passed.
import type { Database } from 'better-sqlite3';
import type { ArtifactRecord } from '../protocol/index.js';

export interface ArtifactLimits {
  readonly maxCount: number;
  readonly maxBytes: number;
}

export interface StoredArtifact extends ArtifactRecord {
  readonly data: Buffer;
}

export interface ArtifactRepository {
  /** Stores it, then drops the oldest until both limits hold again (this one included: an artifact larger than maxBytes is not kept). */
  put(artifact: StoredArtifact): void;
  get(id: string): StoredArtifact | undefined;
}

const COLUMNS = 'artifact_id, task_id, agent, content_type, bytes, created_at';

export function createArtifactRepository(db: Database, limits: ArtifactLimits): ArtifactRepository {
  const insert = db.prepare(
    `INSERT INTO artifacts (${COLUMNS}, data) VALUES (@artifact_id, @task_id, @agent, @content_type, @bytes, @created_at, @data)`,
  );
  const get = db.prepare<[string], StoredArtifact>(`SELECT ${COLUMNS}, data FROM artifacts WHERE artifact_id = ?`);
  const totals = db.prepare<[], { count: number; bytes: number | null }>('SELECT count(*) AS count, sum(bytes) AS bytes FROM artifacts');
  // Rows are numbered in insertion order (rowid, never reused while larger ones live): the smallest is the oldest.
  const oldest = db.prepare<[], { artifact_id: string; bytes: number }>('SELECT artifact_id, bytes FROM artifacts ORDER BY rowid LIMIT 1');
  const remove = db.prepare<[string]>('DELETE FROM artifacts WHERE artifact_id = ?');

  return {
    put(artifact) {
      insert.run({ ...artifact });
      const sums = totals.get()!;
      let count = sums.count;
      let total = sums.bytes ?? 0;
      while (count > limits.maxCount || total > limits.maxBytes) {
        const first = oldest.get();
        if (first === undefined) break;
        remove.run(first.artifact_id);
        count -= 1;
        total -= first.bytes;
      }
    },
    get: (id) => get.get(id),
  };
}
