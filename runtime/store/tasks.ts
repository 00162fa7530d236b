import type { Database } from 'better-sqlite3';
import Sqlite from 'better-sqlite3';
import type { TaskParameters, TaskRecord, TaskRequest, TaskStatus, TaskTimings } from '../protocol/index.js';
import { AuroraError } from '../errors.js';
import { fromJson, fromJsonOrNull, toJson } from './json.js';

/**
 * error_code given to tasks that were queued or running when the process went away. It is not an
 * ErrorCode on purpose: no request failed, the process holding the task did, and the task may be
 * resubmitted. Readers that need an ErrorCode map unknown codes to 'internal' (AuroraError.fromPayload).
 */
export const INTERRUPTED_ERROR_CODE = 'interrupted';

export interface TaskCompletion {
  result: string;
  model: string;
  provider: string;
  tokens_used: number;
  completed_at: string;
  duration_ms: number;
  timings: TaskTimings;
  /** The structured answer, when there is one. */
  output?: unknown;
  details?: Record<string, unknown>;
}

export interface TaskFailure {
  status: 'failed' | 'cancelled';
  error: string;
  error_code: string;
  completed_at: string;
  duration_ms: number;
  details?: Record<string, unknown>;
}

export interface TaskListQuery {
  agent?: string;
  status?: TaskStatus;
  /** A positive integer. */
  limit: number;
}

export interface TaskRepository {
  /** Throws AuroraError('agent_not_found') when the agent does not exist (or was deleted meanwhile). */
  insertQueued(req: TaskRequest, createdAt: string): TaskRecord;
  /**
   * Inserts a task that starts at once (its agent is idle and its mailbox empty): one statement
   * where queued-then-running takes two. started_at = createdAt. Throws like insertQueued.
   */
  insertRunning(req: TaskRequest, createdAt: string): void;
  /**
   * queued → running. Also accepted from running, because a retry after an agent crash starts the
   * same task again. False when the task is unknown or already finished.
   */
  markRunning(id: string, startedAt: string): boolean;
  /** running → completed. False when the task is unknown or no longer running (e.g. cancelled meanwhile). */
  complete(id: string, outcome: TaskCompletion): boolean;
  /** queued | running → failed | cancelled. False when the task is unknown or already finished. */
  fail(id: string, outcome: TaskFailure): boolean;
  /** Replaces what the agent recorded about a queued or running task (settings, steps). */
  setDetails(id: string, details: Record<string, unknown>): boolean;
  get(id: string): TaskRecord | undefined;
  /** Newest first. */
  list(query: TaskListQuery): TaskRecord[];
  /** Marks every queued or running task failed with `reason` and INTERRUPTED_ERROR_CODE; returns how many. */
  failOrphans(reason: string, at: string): number;
}

/** What the store needs besides the repository: rows held back by insertRunning. */
export interface DeferredTaskRows {
  /** Writes every row insertRunning held back, as running; the store calls it before COMMIT and before an agent delete. */
  flushDeferred(): void;
}

/** A task as stored: the record with its JSON columns still as text. */
type TaskRow = Omit<TaskRecord, 'parameters' | 'timings' | 'output' | 'details'> & {
  parameters: string;
  timings: string | null;
  output: string | null;
  details: string;
};

const COLUMNS =
  'task_id, agent, prompt, parameters, status, result, error, error_code, model, provider, tokens_used, ' +
  'created_at, started_at, completed_at, duration_ms, timings, thread_id, output, details';

const NO_DETAILS = '{}';

interface InsertColumns {
  task_id: string;
  agent: string;
  prompt: string;
  parameters: string;
  created_at: string;
  thread_id: string | null;
}

// rowid breaks ties between tasks created in the same millisecond, in insertion order. ISO-8601
// strings from toISOString() sort as text in time order, so created_at needs no conversion.
const NEWEST_FIRST = 'ORDER BY created_at DESC, rowid DESC LIMIT @limit';

export function createTaskRepository(db: Database): TaskRepository & DeferredTaskRows {
  const insert = db.prepare<InsertColumns>(
    `INSERT INTO tasks (task_id, agent, prompt, parameters, status, created_at, thread_id)
     VALUES (@task_id, @agent, @prompt, @parameters, 'queued', @created_at, @thread_id)`,
  );
  const insertRunning = db.prepare<InsertColumns>(
    `INSERT INTO tasks (task_id, agent, prompt, parameters, status, created_at, started_at, thread_id)
     VALUES (@task_id, @agent, @prompt, @parameters, 'running', @created_at, @created_at, @thread_id)`,
  );
  const insertRow = (stmt: typeof insert, req: TaskRequest, parameters: string, createdAt: string): void => {
    try {
      stmt.run({
        task_id: req.task_id,
        agent: req.agent,
        prompt: req.prompt,
        parameters,
        created_at: createdAt,
        thread_id: req.thread_id ?? null,
      });
    } catch (err) {
      if (err instanceof Sqlite.SqliteError && err.code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
        throw new AuroraError('agent_not_found', `Agent ${req.agent} not found`, { cause: err });
      }
      throw err;
    }
  };
  const insertCompleted = db.prepare<CompletionColumns & InsertColumns>(
    `INSERT INTO tasks (task_id, agent, prompt, parameters, status, result, model, provider, tokens_used, created_at,
                        started_at, completed_at, duration_ms, timings, thread_id, output, details)
     VALUES (@task_id, @agent, @prompt, @parameters, 'completed', @result, @model, @provider, @tokens_used, @created_at,
             @created_at, @completed_at, @duration_ms, @timings, @thread_id, @output, @details)`,
  );
  const agentExists = db.prepare<[string], number>('SELECT 1 FROM agents WHERE name = ?').pluck();

  // A task that starts at once usually finishes before its turn's group commit (the row is
  // inserted, then rewritten as completed, in the same transaction). So insertRunning holds the
  // row back, and a completion that finds it still held writes the final row in one INSERT.
  // Anything else that touches tasks (reads included) writes the held rows first, in the order
  // they were inserted, so nobody can observe the difference.
  const deferred = new Map<string, { req: TaskRequest; parameters: string; createdAt: string }>();
  /** Writes held rows in insertion order, up to and excluding `until` when given (then it stays held). */
  const flushDeferred = (until?: string): void => {
    for (const [id, row] of deferred) {
      if (id === until) return;
      deferred.delete(id);
      insertRow(insertRunning, row.req, row.parameters, row.createdAt);
    }
  };
  const markRunning = db.prepare<[string, string]>(
    `UPDATE tasks SET status = 'running', started_at = ? WHERE task_id = ? AND status IN ('queued', 'running')`,
  );
  const complete = db.prepare<CompletionColumns & { id: string }>(
    `UPDATE tasks
     SET status = 'completed', result = @result, model = @model, provider = @provider, tokens_used = @tokens_used,
         completed_at = @completed_at, duration_ms = @duration_ms, timings = @timings, output = @output,
         details = coalesce(@details, details)
     WHERE task_id = @id AND status = 'running'`,
  );
  const fail = db.prepare<Omit<TaskFailure, 'details'> & { id: string; details: string | null }>(
    `UPDATE tasks
     SET status = @status, error = @error, error_code = @error_code, completed_at = @completed_at,
         duration_ms = @duration_ms, details = coalesce(@details, details)
     WHERE task_id = @id AND status IN ('queued', 'running')`,
  );
  const setDetails = db.prepare<[string, string]>(
    `UPDATE tasks SET details = ? WHERE task_id = ? AND status IN ('queued', 'running')`,
  );
  // A task that never started has no duration; one that did ran from started_at until `at`.
  const failOrphans = db.prepare<{ reason: string; code: string; at: string }>(
    `UPDATE tasks
     SET status = 'failed', error = @reason, error_code = @code, completed_at = @at,
         duration_ms = CAST(round((julianday(@at) - julianday(started_at)) * 86400000) AS INTEGER)
     WHERE status IN ('queued', 'running')`,
  );
  const get = db.prepare<[string], TaskRow>(`SELECT ${COLUMNS} FROM tasks WHERE task_id = ?`);
  // One statement per filter shape rather than "(@x IS NULL OR x = @x)", which hides the indexes from the planner.
  const listAll = db.prepare<{ limit: number }, TaskRow>(`SELECT ${COLUMNS} FROM tasks ${NEWEST_FIRST}`);
  const listByAgent = db.prepare<{ agent: string; limit: number }, TaskRow>(
    `SELECT ${COLUMNS} FROM tasks WHERE agent = @agent ${NEWEST_FIRST}`,
  );
  const listByStatus = db.prepare<{ status: TaskStatus; limit: number }, TaskRow>(
    `SELECT ${COLUMNS} FROM tasks WHERE status = @status ${NEWEST_FIRST}`,
  );
  const listByBoth = db.prepare<{ agent: string; status: TaskStatus; limit: number }, TaskRow>(
    `SELECT ${COLUMNS} FROM tasks WHERE agent = @agent AND status = @status ${NEWEST_FIRST}`,
  );

  return {
    flushDeferred: () => flushDeferred(),
    insertQueued(req, createdAt) {
      flushDeferred();
      const parameters = toJson(req.parameters);
      insertRow(insert, req, parameters, createdAt);
      return {
        thread_id: req.thread_id ?? null,
        details: {},
        task_id: req.task_id,
        agent: req.agent,
        prompt: req.prompt,
        parameters: fromJson<TaskParameters>(parameters),
        status: 'queued',
        result: null,
        error: null,
        error_code: null,
        model: null,
        provider: null,
        tokens_used: null,
        created_at: createdAt,
        started_at: null,
        completed_at: null,
        duration_ms: null,
        timings: null,
      };
    },
    insertRunning(req, createdAt) {
      // The foreign key is checked now, as the INSERT would, so the caller still hears of a missing agent.
      if (agentExists.get(req.agent) === undefined) throw new AuroraError('agent_not_found', `Agent ${req.agent} not found`);
      if (deferred.has(req.task_id)) throw new AuroraError('invalid_request', `Task ${req.task_id} already exists`);
      deferred.set(req.task_id, { req, parameters: toJson(req.parameters), createdAt });
    },
    markRunning(id, startedAt) {
      flushDeferred();
      return markRunning.run(startedAt, id).changes > 0;
    },
    complete(id, o) {
      const held = deferred.get(id);
      if (held !== undefined) {
        flushDeferred(id);
        deferred.delete(id);
        insertCompleted.run({
          task_id: id,
          agent: held.req.agent,
          prompt: held.req.prompt,
          parameters: held.parameters,
          created_at: held.createdAt,
          thread_id: held.req.thread_id ?? null,
          ...completionColumns(o),
          details: o.details === undefined ? NO_DETAILS : toJson(o.details),
        });
        return true;
      }
      flushDeferred();
      return complete.run({ id, ...completionColumns(o) }).changes > 0;
    },
    fail(id, o) {
      flushDeferred();
      return (
        fail.run({
          id,
          status: o.status,
          error: o.error,
          error_code: o.error_code,
          completed_at: o.completed_at,
          duration_ms: wholeMs(o.duration_ms),
          details: o.details === undefined ? null : toJson(o.details),
        }).changes > 0
      );
    },
    setDetails(id, details) {
      flushDeferred();
      return setDetails.run(toJson(details), id).changes > 0;
    },
    get(id) {
      flushDeferred();
      const row = get.get(id);
      return row && toRecord(row);
    },
    list({ agent, status, limit }) {
      if (!Number.isSafeInteger(limit) || limit < 1) {
        throw new AuroraError('invalid_request', `limit must be a positive integer, got ${limit}`);
      }
      flushDeferred();
      const rows =
        agent !== undefined && status !== undefined
          ? listByBoth.all({ agent, status, limit })
          : agent !== undefined
            ? listByAgent.all({ agent, limit })
            : status !== undefined
              ? listByStatus.all({ status, limit })
              : listAll.all({ limit });
      return rows.map(toRecord);
    },
    failOrphans(reason, at) {
      flushDeferred();
      return failOrphans.run({ reason, code: INTERRUPTED_ERROR_CODE, at }).changes;
    },
  };
}

// The column is a STRICT INTEGER, and durations measured with performance.now() carry fractions
// nobody needs at millisecond resolution.
function wholeMs(ms: number): number {
  return Math.round(ms);
}

type CompletionColumns = Omit<TaskCompletion, 'timings' | 'output' | 'details'> & {
  timings: string;
  output: string | null;
  details: string | null;
};

/** A completion as the columns it writes. */
function completionColumns(o: TaskCompletion): CompletionColumns {
  return {
    result: o.result,
    model: o.model,
    provider: o.provider,
    tokens_used: o.tokens_used,
    completed_at: o.completed_at,
    duration_ms: wholeMs(o.duration_ms),
    timings: toJson(o.timings),
    output: o.output === undefined ? null : toJson(o.output),
    details: o.details === undefined ? null : toJson(o.details),
  };
}

function toRecord(row: TaskRow): TaskRecord {
  const { output, ...rest } = row;
  const record: TaskRecord = {
    ...rest,
    parameters: fromJson<TaskParameters>(row.parameters),
    timings: fromJsonOrNull<TaskTimings>(row.timings),
    details: fromJson<Record<string, unknown>>(row.details),
  };
  if (output !== null) record.output = fromJson<unknown>(output);
  return record;
}
