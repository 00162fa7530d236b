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
  {
    name: 'history outlives its agent: agent ids, tasks and threads without the cascade, event log indexes',
    // Tasks and threads lose their foreign key to agents (SQLite cannot drop a constraint, so both
    // tables are rebuilt: create, copy with their rowids, drop, rename, index again). migrate() runs
    // this with foreign-key enforcement off: with it on, dropping the old threads table would
    // cascade into thread_messages. agent_id names one incarnation of a name, so a new agent of an
    // old name does not inherit the old one's history. A task whose agent row is missing (possible
    // only in a file written with foreign keys off) gets 'unknown:<name>' rather than a random id,
    // so its rows still group by name.
    sql: `
      ALTER TABLE agents ADD COLUMN agent_id TEXT;
      UPDATE agents SET agent_id =
        lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' ||
        substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)));
      CREATE UNIQUE INDEX agents_by_id ON agents (agent_id);
      CREATE INDEX agents_by_kind ON agents (agent_type, created_at, name);
      CREATE INDEX agents_by_model ON agents (model_name, created_at, name);

      CREATE TABLE tasks_rebuilt (
        task_id      TEXT PRIMARY KEY,
        agent        TEXT NOT NULL,
        agent_id     TEXT NOT NULL,
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
        timings      TEXT CHECK (timings IS NULL OR json_valid(timings)),
        thread_id    TEXT,
        output       TEXT CHECK (output IS NULL OR json_valid(output)),
        details      TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(details))
      ) STRICT;
      -- rowid too: it breaks created_at ties, so the copy must keep the order it gives.
      INSERT INTO tasks_rebuilt (rowid, task_id, agent, agent_id, prompt, parameters, status, result, error, error_code,
                                 model, provider, tokens_used, created_at, started_at, completed_at, duration_ms,
                                 timings, thread_id, output, details)
      SELECT t.rowid, t.task_id, t.agent, coalesce(a.agent_id, 'unknown:' || t.agent), t.prompt, t.parameters, t.status,
             t.result, t.error, t.error_code, t.model, t.provider, t.tokens_used, t.created_at, t.started_at,
             t.completed_at, t.duration_ms, t.timings, t.thread_id, t.output, t.details
      FROM tasks t LEFT JOIN agents a ON a.name = t.agent;
      DROP TABLE tasks;
      ALTER TABLE tasks_rebuilt RENAME TO tasks;
      CREATE INDEX tasks_by_agent ON tasks (agent, created_at);
      CREATE INDEX tasks_by_agent_id ON tasks (agent_id, created_at);
      CREATE INDEX tasks_by_status ON tasks (status, created_at);
      CREATE INDEX tasks_by_created ON tasks (created_at);

      CREATE TABLE threads_rebuilt (
        thread_id     TEXT PRIMARY KEY,
        agent         TEXT NOT NULL,
        agent_id      TEXT NOT NULL,
        title         TEXT,
        created_at    TEXT NOT NULL,
        updated_at    TEXT NOT NULL,
        message_count INTEGER NOT NULL DEFAULT 0,
        token_count   INTEGER NOT NULL DEFAULT 0
      ) STRICT;
      INSERT INTO threads_rebuilt (rowid, thread_id, agent, agent_id, title, created_at, updated_at, message_count, token_count)
      SELECT t.rowid, t.thread_id, t.agent, coalesce(a.agent_id, 'unknown:' || t.agent), t.title, t.created_at, t.updated_at,
             t.message_count, t.token_count
      FROM threads t LEFT JOIN agents a ON a.name = t.agent;
      DROP TABLE threads;
      -- thread_messages still names "threads" in its foreign key, which now means this table again.
      ALTER TABLE threads_rebuilt RENAME TO threads;
      CREATE INDEX threads_by_agent ON threads (agent, created_at, thread_id);
      CREATE INDEX threads_by_agent_id ON threads (agent_id, created_at, thread_id);

      CREATE INDEX events_by_type ON events (type, id);
      CREATE INDEX events_by_agent ON events (agent, id);
    `,
  },
  {
    name: 'workflows (every version), their runs and the runs\' steps (the steps are the runs\' checkpoints)',
    sql: `
      -- Every version of every workflow; the current one is the highest. A run copies its graph.
      CREATE TABLE workflows (
        name         TEXT NOT NULL,
        version      INTEGER NOT NULL,
        description  TEXT NOT NULL,
        input_schema TEXT CHECK (input_schema IS NULL OR json_valid(input_schema)),
        graph        TEXT NOT NULL CHECK (json_valid(graph)),
        created_at   TEXT NOT NULL,
        PRIMARY KEY (name, version)
      ) STRICT;

      CREATE TABLE workflow_runs (
        run_id        TEXT PRIMARY KEY,
        workflow      TEXT NOT NULL,
        version       INTEGER NOT NULL,
        agent         TEXT NOT NULL,
        graph         TEXT NOT NULL CHECK (json_valid(graph)),
        input         TEXT NOT NULL CHECK (json_valid(input)),
        output        TEXT CHECK (output IS NULL OR json_valid(output)),
        error         TEXT,
        error_code    TEXT,
        parent_run_id TEXT,
        root_run_id   TEXT NOT NULL,
        tokens        INTEGER NOT NULL DEFAULT 0,
        created_at    TEXT NOT NULL,
        started_at    TEXT,
        finished_at   TEXT
      ) STRICT;
      CREATE INDEX workflow_runs_by_created ON workflow_runs (created_at, run_id);
      CREATE INDEX workflow_runs_by_workflow ON workflow_runs (workflow, created_at, run_id);

      CREATE TABLE workflow_steps (
        run_id      TEXT NOT NULL,
        path        TEXT NOT NULL CHECK (json_valid(path)),
        node_id     TEXT NOT NULL,
        type        TEXT NOT NULL,
        status      TEXT NOT NULL CHECK (status IN ('pending', 'running', 'completed', 'failed', 'cancelled', 'skipped')),
        attempts    INTEGER NOT NULL,
        input       TEXT CHECK (input IS NULL OR json_valid(input)),
        output      TEXT CHECK (output IS NULL OR json_valid(output)),
        error       TEXT,
        error_code  TEXT,
        task_id     TEXT,
        agent       TEXT,
        tokens      INTEGER NOT NULL DEFAULT 0,
        started_at  TEXT,
        finished_at TEXT,
        PRIMARY KEY (run_id, path)
      ) STRICT;

      -- A task's place in a run (RunTrace): its events carry it, and a resumed run's task gets it back.
      ALTER TABLE tasks ADD COLUMN trace TEXT CHECK (trace IS NULL OR json_valid(trace));
    `,
  },
  {
    name: 'artifacts',
    sql: `
      -- Screenshots of browser agents; bounded by count and bytes (ARTIFACTS_MAX, ARTIFACTS_MAX_BYTES).
      CREATE TABLE artifacts (
        artifact_id  TEXT PRIMARY KEY,
        task_id      TEXT NOT NULL,
        agent        TEXT NOT NULL,
        content_type TEXT NOT NULL,
        bytes        INTEGER NOT NULL,
        created_at   TEXT NOT NULL,
        data         BLOB NOT NULL
      ) STRICT;
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
 *
 * Foreign keys are not enforced while steps run, as SQLite's procedure for rebuilding a table asks:
 * with enforcement on, dropping a parent table to rebuild it would cascade into its children.
 * PRAGMA foreign_keys is a no-op inside a transaction, so it is switched here, around the steps,
 * and a step whose result leaves a dangling reference fails (foreign_key_check) and rolls back.
 */
export function migrate(db: Database, clock: Clock, migrations: readonly Migration[] = MIGRATIONS): void {
  if (db.inTransaction) throw new Error('migrate() must run outside a transaction: it switches PRAGMA foreign_keys');
  const known = migrations.length;
  const enforced = db.pragma('foreign_keys', { simple: true }) === 1;
  const step = db.transaction((): boolean => {
    const current = assertKnownVersion(db, known);
    if (current === known) return true;
    const migration = migrations[current]!;
    db.exec(migration.sql);
    if (enforced) {
      const dangling = db.pragma('foreign_key_check') as unknown[];
      if (dangling.length > 0) {
        throw new Error(`migration ${current + 1} (${migration.name}) leaves ${dangling.length} dangling foreign keys`);
      }
    }
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
      current + 1,
      migration.name,
      isoNow(clock),
    );
    // Integer interpolation only: PRAGMA takes no bound parameters.
    db.pragma(`user_version = ${current + 1}`);
    return false;
  });
  if (enforced) db.pragma('foreign_keys = OFF');
  try {
    while (!step.immediate());
  } finally {
    if (enforced) db.pragma('foreign_keys = ON');
  }
}
