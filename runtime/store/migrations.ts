// Schema history as an ordered list of SQL steps; PRAGMA user_version holds how many have run.
import type { Database } from 'better-sqlite3';
import { isoNow, type Clock } from '../clock.js';
import { AuroraError } from '../errors.js';

export interface Migration {
  readonly name: string;
  readonly sql: string;
}

// Append only. A step that has shipped is never edited: databases in the field already ran it, and
// user_version would not make them run it again. Status lists are spelled out instead of built from
// AGENT_STATUSES / TASK_STATUSES for the same reason: changing a constant must not silently change
// what an old step meant; it needs a new step.
export const MIGRATIONS: readonly Migration[] = [
  {
    name: 'agents, tasks, models, events',
    sql: `
      CREATE TABLE schema_migrations (
        version    INTEGER PRIMARY KEY,
        name       TEXT NOT NULL,
        applied_at TEXT NOT NULL
      ) STRICT;

      CREATE TABLE agents (
        name        TEXT PRIMARY KEY,
        agent_type  TEXT NOT NULL,
        model_name  TEXT NOT NULL,
        provider    TEXT NOT NULL,
        description TEXT NOT NULL,
        config      TEXT NOT NULL CHECK (json_valid(config)),
        status      TEXT NOT NULL CHECK (status IN ('idle', 'running', 'restarting', 'failed', 'stopped')),
        created_at  TEXT NOT NULL,
        last_run    TEXT
      ) STRICT;
      CREATE INDEX agents_by_created ON agents (created_at, name);

      -- Deleting an agent deletes its task history: a task row without its agent has no owner to
      -- answer for it, and the cascade keeps the table from growing with dead agents.
      CREATE TABLE tasks (
        task_id      TEXT PRIMARY KEY,
        agent        TEXT NOT NULL REFERENCES agents (name) ON DELETE CASCADE,
        prompt       TEXT NOT NULL,
        parameters   TEXT NOT NULL CHECK (json_valid(parameters)),
        status       TEXT NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
        result       TEXT,
        error        TEXT,
        error_code   TEXT,
        model        TEXT,
        provider     TEXT,
        tokens_used  INTEGER,
        created_at   TEXT NOT NULL,
        started_at   TEXT,
        completed_at TEXT,
        duration_ms  INTEGER,
        timings      TEXT CHECK (timings IS NULL OR json_valid(timings))
      ) STRICT;
      CREATE INDEX tasks_by_agent ON tasks (agent, created_at);
      CREATE INDEX tasks_by_status ON tasks (status, created_at);
      CREATE INDEX tasks_by_created ON tasks (created_at);

      CREATE TABLE models (
        name      TEXT NOT NULL,
        provider  TEXT NOT NULL,
        loaded_at TEXT NOT NULL,
        PRIMARY KEY (name, provider)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE events (
        id      INTEGER PRIMARY KEY,
        type    TEXT NOT NULL,
        time    TEXT NOT NULL,
        agent   TEXT,
        task_id TEXT,
        payload TEXT NOT NULL CHECK (json_valid(payload))
      ) STRICT;
    `,
  },
  {
    name: 'threads; tasks remember their thread, structured output and details',
    sql: `
      CREATE TABLE threads (
        thread_id     TEXT PRIMARY KEY,
        agent         TEXT NOT NULL REFERENCES agents (name) ON DELETE CASCADE,
        title         TEXT,
        created_at    TEXT NOT NULL,
        updated_at    TEXT NOT NULL,
        message_count INTEGER NOT NULL DEFAULT 0,
        token_count   INTEGER NOT NULL DEFAULT 0
      ) STRICT;
      CREATE INDEX threads_by_agent ON threads (agent, created_at, thread_id);

      CREATE TABLE thread_messages (
        thread_id  TEXT NOT NULL REFERENCES threads (thread_id) ON DELETE CASCADE,
        seq        INTEGER NOT NULL,
        role       TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant', 'tool')),
        content    TEXT NOT NULL,
        tool_calls TEXT CHECK (tool_calls IS NULL OR json_valid(tool_calls)),
        tool_name  TEXT,
        tokens     INTEGER,
        task_id    TEXT,
        created_at TEXT NOT NULL,
        PRIMARY KEY (thread_id, seq)
      ) STRICT, WITHOUT ROWID;

      ALTER TABLE tasks ADD COLUMN thread_id TEXT;
      ALTER TABLE tasks ADD COLUMN output TEXT CHECK (output IS NULL OR json_valid(output));
      ALTER TABLE tasks ADD COLUMN details TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(details));
    `,
  },
  {
    name: 'idempotency keys',
    sql: `
      CREATE TABLE idempotency_keys (
        key        TEXT PRIMARY KEY,
        entry      TEXT NOT NULL CHECK (json_valid(entry)),
        expires_at INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX idempotency_by_expiry ON idempotency_keys (expires_at);
    `,
  },
  {
    name: 'model pulls',
    sql: `
      CREATE TABLE model_pulls (
        pull_id         TEXT PRIMARY KEY,
        name            TEXT NOT NULL,
        provider        TEXT NOT NULL,
        status          TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'cancelled')),
        completed_bytes INTEGER NOT NULL CHECK (completed_bytes >= 0),
        total_bytes     INTEGER NOT NULL CHECK (total_bytes >= 0),
        percent         INTEGER NOT NULL CHECK (percent BETWEEN 0 AND 100),
        detail          TEXT,
        error           TEXT,
        error_code      TEXT,
        started_at      TEXT NOT NULL,
        finished_at     TEXT
      ) STRICT;
      -- Start-up looks for the running ones (a dead process's orphans).
      CREATE INDEX model_pulls_by_status ON model_pulls (status);
    `,
  },
];

export function schemaVersion(db: Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Returns the schema version, or throws when it is newer than `known`: that file belongs to a newer build. */
export function assertKnownVersion(db: Database, known: number = MIGRATIONS.length): number {
  const current = schemaVersion(db);
  if (current > known) {
    throw new AuroraError(
      'internal',
      `Database ${db.name} has schema version ${current} but this build of Aurora knows only up to ${known}; ` +
        'refusing to open it. Run a newer Aurora or point DATABASE_PATH at another file.',
    );
  }
  return current;
}

/**
 * Brings the database up to `migrations.length`, one step per IMMEDIATE transaction, so a failing
 * step leaves the database at the last good version. The version is read again under the write
 * lock because another process sharing the file may have migrated between our read and our lock.
 */
export function migrate(db: Database, clock: Clock, migrations: readonly Migration[] = MIGRATIONS): void {
  const known = migrations.length;
  const step = db.transaction((): boolean => {
    const current = assertKnownVersion(db, known);
    if (current === known) return true;
    const migration = migrations[current]!;
    db.exec(migration.sql);
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
      current + 1,
      migration.name,
      isoNow(clock),
    );
    // Integer interpolation only: PRAGMA takes no bound parameters.
    db.pragma(`user_version = ${current + 1}`);
    return false;
  });
  while (!step.immediate());
}
