import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Sqlite from 'better-sqlite3';
import { systemClock, type Clock } from '../clock.js';
import { createAgentRepository, type AgentRepository } from './agents.js';
import { createEventRepository, DEFAULT_MAX_EVENTS, type EventRepository } from './events.js';
import { assertKnownVersion, migrate } from './migrations.js';
import { createModelRepository, type ModelRepository } from './models.js';
import { createTaskRepository, type TaskRepository } from './tasks.js';

export interface StoreOptions {
  /** File path; its folder is created. ':memory:' for a private in-memory database. */
  path: string;
  /** Stamps schema_migrations.applied_at. */
  clock?: Clock;
  /** Events kept; see EventRepository for the exact bound. */
  maxEvents?: number;
  /** How long a statement waits for another connection's lock before failing with SQLITE_BUSY. */
  busyTimeoutMs?: number;
}

export interface Store {
  readonly agents: AgentRepository;
  readonly tasks: TaskRepository;
  readonly models: ModelRepository;
  readonly events: EventRepository;
  /** True when the database answers a query. Never throws. */
  ping(): boolean;
  /** Idempotent. */
  close(): void;
}

const DEFAULT_BUSY_TIMEOUT_MS = 5_000;

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
    // Off by default in SQLite and per connection; tasks → agents relies on it.
    db.pragma('foreign_keys = ON');
    migrate(db, options.clock ?? systemClock);

    const events = createEventRepository(db, options.maxEvents ?? DEFAULT_MAX_EVENTS);
    // Enforce the bound at once, in case the last run kept more or used a larger maxEvents.
    events.prune();
    const ping = db.prepare<[], number>('SELECT 1').pluck();

    return {
      agents: createAgentRepository(db),
      tasks: createTaskRepository(db),
      models: createModelRepository(db),
      events,
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
