import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Sqlite from 'better-sqlite3';
import { systemClock, type Clock } from '../clock.js';
import { createAgentRepository, type AgentRepository } from './agents.js';
import { createArtifactRepository, type ArtifactLimits, type ArtifactRepository } from './artifacts.js';
import { createEventRepository, DEFAULT_MAX_EVENTS, type EventRepository } from './events.js';
import { startCheckpointer } from './checkpointer.js';
import { assertKnownVersion, migrate } from './migrations.js';
import { createModelRepository, type ModelRepository } from './models.js';
import { createPullRepository, type PullRepository } from './pulls.js';
import { createTaskRepository, type TaskRepository } from './tasks.js';
import { createThreadRepository, type ThreadRepository } from './threads.js';
import { createWorkflowRepository, type WorkflowRepository } from './workflows.js';
import { createIdempotencyRepository, type IdempotencyRepository } from './idempotency.js';
import { createRunRepository, type RunRepository } from './runs.js';

export interface StoreOptions {
  /** File path; its folder is created. ':memory:' for a private in-memory database. */
  path: string;
  /** Stamps schema_migrations.applied_at and schedules the group commit; default the system clock. */
  clock?: Clock;
  /** Events kept; see EventRepository for the exact bound. */
  maxEvents?: number;
  /** Idempotency keys kept at most (the oldest go first). */
  maxIdempotencyKeys?: number;
  /** How long a statement waits for another connection's lock before failing with SQLITE_BUSY. */
  busyTimeoutMs?: number;
  /** Told when a group commit fails (its writes are lost); default: a process warning. */
  onCommitError?: (err: unknown) => void;
  /** Artifacts kept at most; default 1000 and 256 MiB. */
  artifacts?: ArtifactLimits;
}

export interface Store {
  readonly agents: AgentRepository;
  readonly tasks: TaskRepository;
  readonly models: ModelRepository;
  readonly events: EventRepository;
  readonly threads: ThreadRepository;
  readonly workflows: WorkflowRepository;
  readonly idempotency: IdempotencyRepository;
  readonly runs: RunRepository;
  readonly pulls: PullRepository;
  readonly artifacts: ArtifactRepository;
  /**
   * Runs `fn` once every write made so far is committed: at once when none is pending, else right
   * after this turn's group commit, with `committed` false if that commit failed. Acknowledge
   * through this, so no client hears of a write that a crash could still undo.
   */
  afterCommit(fn: (committed: boolean) => void): void;
  /** True when the database answers a query. Never throws. */
  ping(): boolean;
  /** Idempotent. */
  close(): void;
}

const DEFAULT_BUSY_TIMEOUT_MS = 5_000;
/** ~64 MiB of WAL (4 KiB pages): where the connection checkpoints itself when the worker does not. */
const WAL_BACKSTOP_PAGES = 16_000;
const WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;
/** How often the worker checkpoints: often enough that the backstop is never reached under load. */
const CHECKPOINT_INTERVAL_MS = 100;

/** Write methods of each repository: they run inside the turn's group-commit transaction. */
const WRITES = {
  agents: ['insert', 'update', 'delete', 'setStatus', 'touchLastRun'],
  tasks: ['insertQueued', 'insertRunning', 'markRunning', 'complete', 'fail', 'setDetails', 'failOrphans', 'deleteByAgentId'],
  models: ['upsertLoaded', 'remove'],
  events: ['append', 'prune'],
  threads: ['create', 'append', 'delete', 'deleteByAgentId'],
  workflows: ['create', 'update', 'delete'],
  idempotency: ['claim', 'put', 'release'],
  runs: ['insert', 'started', 'finished', 'stepStarted', 'stepFinished'],
  pulls: ['save', 'failOrphans'],
  artifacts: ['put'],
} as const;

/** Stores with a group commit open, committed if the process exits before their turn ends. */
const openBatches = new Set<() => void>();
let exitHookInstalled = false;

/**
 * Group commit. An autocommitted write costs a WAL append and a commit of its own, and one task
 * makes four (queued, running, completed, last run) plus its events. So the writes made during one
 * turn of the event loop share one transaction: the first write opens it, and it is committed at
 * the end of the turn (setImmediate), by close(), or when the process exits. Reads on this
 * connection see every write at once; other connections see them one turn later. A failing write
 * still throws to its caller (SQLite undoes only that statement); a failing COMMIT loses the
 * turn's writes and is reported through onCommitError.
 */
function createGroupCommit(db: Sqlite.Database, clock: Clock, onError: (err: unknown) => void, beforeCommit: () => void) {
  let open = false;
  let waiting: ((committed: boolean) => void)[] = [];
  const commit = (): void => {
    if (!open) return;
    open = false;
    openBatches.delete(commit);
    let committed = db.open && db.inTransaction;
    if (committed) {
      try {
        // Held-back writes belong to this turn: if one fails, the turn is not committed at all, so
        // nobody is told of a task whose row does not exist.
        beforeCommit();
        db.exec('COMMIT');
      } catch (err) {
        committed = false;
        onError(err);
        if (db.inTransaction) db.exec('ROLLBACK');
      }
    }
    const run = waiting;
    waiting = [];
    for (const fn of run) fn(committed);
  };
  const afterCommit = (fn: (committed: boolean) => void): void => {
    if (open) waiting.push(fn);
    else fn(true);
  };
  const enter = (): void => {
    if (open) {
      if (db.inTransaction) return;
      // SQLite rolled the whole transaction back (disk full, I/O error): earlier writes are gone.
      onError(new Error('SQLite rolled back the group-commit transaction; writes of this turn were lost'));
    }
    db.exec('BEGIN');
    open = true;
    openBatches.add(commit);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.on('exit', () => {
        for (const c of [...openBatches]) c();
      });
    }
    clock.setImmediate(commit);
  };
  return { enter, commit, afterCommit };
}

function batched<T extends object>(repo: T, methods: readonly string[], enter: () => void): T {
  const target = repo as Record<string, unknown>;
  for (const name of methods) {
    const fn = target[name] as (...args: unknown[]) => unknown;
    target[name] = (...args: unknown[]) => {
      enter();
      return fn.apply(repo, args);
    };
  }
  return repo;
}

export function openStore(options: StoreOptions): Store {
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  if (!Number.isSafeInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
    throw new RangeError(`busyTimeoutMs must be a non-negative integer, got ${busyTimeoutMs}`);
  }
  const inMemory = options.path === ':memory:' || options.path === '';
  if (!inMemory) mkdirSync(dirname(resolve(options.path)), { recursive: true });

  const db = new Sqlite(options.path);
  try {
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    // Before anything writes: a file from a newer build is refused untouched, journal mode included.
    assertKnownVersion(db);
    // WAL lets readers run while a writer commits. With it, synchronous = NORMAL stays safe against
    // process crashes and only risks the last commits on power loss, for far fewer fsyncs.
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    // Left to SQLite, a checkpoint (copying the WAL into the database, with its fsyncs) runs inside
    // whichever COMMIT crosses wal_autocheckpoint, on the event loop. A worker runs them instead
    // (checkpointer.ts); this threshold is only the backstop. Bounded: the WAL grows to about that
    // many pages and is cut back to WAL_SIZE_LIMIT_BYTES after a checkpoint. (An in-memory
    // database has no WAL; the pragmas are no-ops there.)
    db.pragma(`wal_autocheckpoint = ${WAL_BACKSTOP_PAGES}`);
    db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
    // Off by default in SQLite and per connection; thread_messages → threads relies on it (deleting
    // a thread deletes its messages). Tasks and threads have no key to agents: they outlive them.
    db.pragma('foreign_keys = ON');
    const clock = options.clock ?? systemClock;
    migrate(db, clock);

    const events = createEventRepository(db, options.maxEvents ?? DEFAULT_MAX_EVENTS);
    // Enforce the bound at once, in case the last run kept more or used a larger maxEvents.
    events.prune();
    const ping = db.prepare<[], number>('SELECT 1').pluck();
    const tasks = createTaskRepository(db);
    const group = createGroupCommit(
      db,
      clock,
      options.onCommitError ??
        ((err) => process.emitWarning(`SQLite group commit failed; writes of one turn were lost: ${String(err)}`)),
      tasks.flushDeferred,
    );
    const agents = createAgentRepository(db);
    const checkpointer = inMemory
      ? null
      : startCheckpointer({
          path: options.path,
          intervalMs: CHECKPOINT_INTERVAL_MS,
          busyTimeoutMs,
          onError: (err) =>
            process.emitWarning(`SQLite checkpoint worker failed; checkpoints now run on commit: ${String(err)}`),
        });

    return {
      agents: batched(agents, WRITES.agents, group.enter),
      tasks: batched<TaskRepository>(tasks, WRITES.tasks, group.enter),
      models: batched(createModelRepository(db), WRITES.models, group.enter),
      events: batched(events, WRITES.events, group.enter),
      threads: batched(createThreadRepository(db), WRITES.threads, group.enter),
      workflows: batched(createWorkflowRepository(db), WRITES.workflows, group.enter),
      idempotency: batched(createIdempotencyRepository(db, options.maxIdempotencyKeys ?? 100_000), WRITES.idempotency, group.enter),
      runs: batched(createRunRepository(db), WRITES.runs, group.enter),
      pulls: batched(createPullRepository(db), WRITES.pulls, group.enter),
      artifacts: batched(
        createArtifactRepository(db, options.artifacts ?? { maxCount: 1000, maxBytes: 256 * 1024 * 1024 }),
        WRITES.artifacts,
        group.enter,
      ),
      afterCommit: group.afterCommit,
      ping() {
        try {
          return ping.get() === 1;
        } catch {
          // A health probe answers "no"; the reason surfaces on the next real query.
          return false;
        }
      },
      close() {
        if (!db.open) return;
        checkpointer?.stop();
        group.commit();
        // Recommended by SQLite before closing a long-lived connection: refreshes planner statistics cheaply.
        db.pragma('optimize');
        db.close();
      },
    };
  } catch (err) {
    db.close();
    throw err;
  }
}
