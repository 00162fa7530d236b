import type { Database } from 'better-sqlite3';
import type { RunTrace, TaskParameters, TaskRecord, TaskRequest, TaskStatus, TaskTimings } from '../protocol/index.js';
import { AuroraError } from '../errors.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { fromJson, fromJsonOrNull, toJson } from './json.js';
import { shapedQuery } from './shaped-query.js';

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
  /** Every incarnation of the name, deleted ones included. */
  agent?: string;
  /** One incarnation. */
  agent_id?: string;
  status?: TaskStatus;
  /** A positive integer. */
  limit: number;
  /** next_cursor of the previous page. */
  cursor?: string;
}

export interface TaskPage {
  tasks: TaskRecord[];
  next_cursor: string | null;
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
  /** Newest first (created_at, then insertion order), a page at a time. */
  page(query: TaskListQuery): TaskPage;
  /** The tasks of page(), for callers that do not page. */
  list(query: TaskListQuery): TaskRecord[];
  /** Deletes every task of one agent incarnation (DELETE /api/v1/agents/{name}?purge=true); returns how many. */
  deleteByAgentId(agentId: string): number;
  /** Marks every queued or running task failed with `reason` and INTERRUPTED_ERROR_CODE; returns how many. */
  /** Fails what a dead process left queued or running, except the tasks of agents of `resumable` kinds. */
  failOrphans(reason: string, at: string, resumable?: readonly string[]): number;
  /** The queued and running tasks of an agent, oldest first: what a resumable agent picks up again. */
  unfinished(agentId: string): TaskRecord[];
}

/** What the store needs besides the repository: rows held back by insertRunning. */
export interface DeferredTaskRows {
  /** Writes every row insertRunning held back, as running; the store calls it before COMMIT and before an agent delete. */
  flushDeferred(): void;
}

/** A task as stored: the record with its JSON columns still as text. */
type TaskRow = Omit<TaskRecord, 'parameters' | 'timings' | 'output' | 'details' | 'trace'> & {
  parameters: string;
  trace: string | null;
  timings: string | null;
  output: string | null;
  details: string;
};

/** A row of a page: the record's columns and its rowid, the second half of the sort key. */
type PageRow = TaskRow & { seq: number };

const COLUMNS =
  'task_id, agent, agent_id, prompt, parameters, status, result, error, error_code, model, provider, tokens_used, ' +
  'created_at, started_at, completed_at, duration_ms, timings, thread_id, output, details, trace';

/** Page filters, in the order their statements are keyed by. */
const FILTERS = {
  agent: 'agent = @agent',
  agent_id: 'agent_id = @agent_id',
  status: 'status = @status',
  cursor: '(created_at, rowid) < (@at, @seq)',
} as const;
type Filter = keyof typeof FILTERS;

const NO_DETAILS = '{}';

interface InsertColumns {
  task_id: string;
  agent: string;
  agent_id: string;
  prompt: string;
  parameters: string;
  created_at: string;
  thread_id: string | null;
  trace: string | null;
}

// rowid breaks ties between tasks created in the same millisecond, in insertion order. ISO-8601
// strings from toISOString() sort as text in time order, so created_at needs no conversion. Every
// filter shape walks one index in this order (tasks_by_created, _by_agent, _by_agent_id,
// _by_status: each ends with created_at, and an index entry carries its rowid): no sort, no OFFSET.
const NEWEST_FIRST = 'ORDER BY created_at DESC, rowid DESC LIMIT @limit';

export function createTaskRepository(db: Database): TaskRepository & DeferredTaskRows {
  // Tasks outlive their agent, so no foreign key checks the agent any more: the row is inserted
  // only if the agent exists, stamped with its agent_id, in the one statement the insert was.
  const insertQueued = db.prepare<Omit<InsertColumns, 'agent_id'>, string>(
    `INSERT INTO tasks (task_id, agent, agent_id, prompt, parameters, status, created_at, thread_id, trace)
     SELECT @task_id, name, agent_id, @prompt, @parameters, 'queued', @created_at, @thread_id, @trace FROM agents WHERE name = @agent
     RETURNING agent_id`,
  ).pluck();
  const insertRunning = db.prepare<InsertColumns>(
    `INSERT INTO tasks (task_id, agent, agent_id, prompt, parameters, status, created_at, started_at, thread_id, trace)
     VALUES (@task_id, @agent, @agent_id, @prompt, @parameters, 'running', @created_at, @created_at, @thread_id, @trace)`,
  );
  const insertCompleted = db.prepare<CompletionColumns & InsertColumns>(
    `INSERT INTO tasks (task_id, agent, agent_id, prompt, parameters, status, result, model, provider, tokens_used,
                        created_at, started_at, completed_at, duration_ms, timings, thread_id, output, details, trace)
     VALUES (@task_id, @agent, @agent_id, @prompt, @parameters, 'completed', @result, @model, @provider, @tokens_used,
             @created_at, @created_at, @completed_at, @duration_ms, @timings, @thread_id, @output, @details, @trace)`,
  );
  const agentIdOf = db.prepare<[string], string>('SELECT agent_id FROM agents WHERE name = ?').pluck();

  // A task that starts at once usually finishes before its turn's group commit (the row is
  // inserted, then rewritten as completed, in the same transaction). So insertRunning holds the
  // row back, and a completion that finds it still held writes the final row in one INSERT.
  // Anything else that touches tasks (reads included) writes the held rows first, in the order
  // they were inserted, so nobody can observe the difference.
  const deferred = new Map<string, { req: TaskRequest; agentId: string; parameters: string; createdAt: string }>();
  /** Writes held rows in insertion order, up to and excluding `until` when given (then it stays held). */
  const flushDeferred = (until?: string): void => {
    for (const [id, row] of deferred) {
      if (id === until) return;
      deferred.delete(id);
      insertRunning.run({
        task_id: row.req.task_id,
        agent: row.req.agent,
        agent_id: row.agentId,
        prompt: row.req.prompt,
        parameters: row.parameters,
        created_at: row.createdAt,
        thread_id: row.req.thread_id ?? null,
        trace: traceColumn(row.req),
      });
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
  const failOrphans = db.prepare<{ reason: string; code: string; at: string; resumable: string }>(
    `UPDATE tasks
     SET status = 'failed', error = @reason, error_code = @code, completed_at = @at,
         duration_ms = CAST(round((julianday(@at) - julianday(started_at)) * 86400000) AS INTEGER)
     WHERE status IN ('queued', 'running')
       AND agent_id NOT IN (SELECT agent_id FROM agents WHERE agent_type IN (SELECT value FROM json_each(@resumable)))`,
  );
  const unfinished = db.prepare<[string], TaskRow>(
    `SELECT ${COLUMNS} FROM tasks WHERE agent_id = ? AND status IN ('queued', 'running') ORDER BY created_at, rowid`,
  );
  const get = db.prepare<[string], TaskRow>(`SELECT ${COLUMNS} FROM tasks WHERE task_id = ?`);
  const pages = shapedQuery<PageRow>(db, (filters) => {
    const where = filters.map((f) => FILTERS[f as Filter]);
    return `SELECT ${COLUMNS}, rowid AS seq FROM tasks ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ${NEWEST_FIRST}`;
  });
  const deleteByAgentId = db.prepare<[string]>('DELETE FROM tasks WHERE agent_id = ?');

  const page = ({ agent, agent_id, status, limit, cursor }: TaskListQuery): TaskPage => {
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new AuroraError('invalid_request', `limit must be a positive integer, got ${limit}`);
    }
    const filters: Filter[] = [];
    const params: Record<string, unknown> = { limit: limit + 1 };
    if (agent !== undefined) {
      filters.push('agent');
      params.agent = agent;
    }
    if (agent_id !== undefined) {
      filters.push('agent_id');
      params.agent_id = agent_id;
    }
    if (status !== undefined) {
      filters.push('status');
      params.status = status;
    }
    if (cursor !== undefined) {
      const [at, seq] = decodeCursor('tasks', cursor, ['s', 'n']);
      filters.push('cursor');
      params.at = at;
      params.seq = seq;
    }
    flushDeferred();
    // One row past the page tells whether another page exists.
    const rows = pages.statement(filters).all(params);
    const last = rows.length > limit ? rows[limit - 1] : undefined;
    return {
      tasks: rows.slice(0, limit).map(toRecord),
      next_cursor: last === undefined ? null : encodeCursor('tasks', [last.created_at, last.seq]),
    };
  };

  return {
    flushDeferred: () => flushDeferred(),
    insertQueued(req, createdAt) {
      flushDeferred();
      const parameters = toJson(req.parameters);
      const agentId = insertQueued.get({
        task_id: req.task_id,
        agent: req.agent,
        prompt: req.prompt,
        parameters,
        created_at: createdAt,
        thread_id: req.thread_id ?? null,
        trace: traceColumn(req),
      });
      if (agentId === undefined) throw new AuroraError('agent_not_found', `Agent ${req.agent} not found`);
      return {
        thread_id: req.thread_id ?? null,
        details: {},
        task_id: req.task_id,
        agent: req.agent,
        agent_id: agentId,
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
        ...(req.trace !== undefined && { trace: req.trace }),
      };
    },
    insertRunning(req, createdAt) {
      // The agent is looked up now, as insertQueued's INSERT does, so the caller still hears of a
      // missing agent, and the held row carries the agent_id of the incarnation it was sent to.
      const agentId = agentIdOf.get(req.agent);
      if (agentId === undefined) throw new AuroraError('agent_not_found', `Agent ${req.agent} not found`);
      if (deferred.has(req.task_id)) throw new AuroraError('invalid_request', `Task ${req.task_id} already exists`);
      deferred.set(req.task_id, { req, agentId, parameters: toJson(req.parameters), createdAt });
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
          agent_id: held.agentId,
          prompt: held.req.prompt,
          parameters: held.parameters,
          created_at: held.createdAt,
          thread_id: held.req.thread_id ?? null,
          trace: traceColumn(held.req),
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
      // A read of one row can only observe that row: the others stay held (their completion may
      // still fold them into one INSERT). Flushing all of them keeps their insertion order.
      if (deferred.has(id)) flushDeferred();
      const row = get.get(id);
      return row && toRecord(row);
    },
    page,
    list: (query) => page(query).tasks,
    deleteByAgentId(agentId) {
      flushDeferred();
      return deleteByAgentId.run(agentId).changes;
    },
    failOrphans(reason, at, resumable = []) {
      flushDeferred();
      return failOrphans.run({ reason, code: INTERRUPTED_ERROR_CODE, at, resumable: JSON.stringify(resumable) }).changes;
    },
    unfinished(agentId) {
      flushDeferred();
      return unfinished.all(agentId).map(toRecord);
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

/** `seq` (a page row's rowid) is the cursor's business, not the record's. */
function toRecord(row: TaskRow & { seq?: number }): TaskRecord {
  const { output, trace, seq: _seq, ...rest } = row;
  const record: TaskRecord = {
    ...rest,
    parameters: fromJson<TaskParameters>(row.parameters),
    timings: fromJsonOrNull<TaskTimings>(row.timings),
    details: fromJson<Record<string, unknown>>(row.details),
  };
  if (output !== null) record.output = fromJson<unknown>(output);
  if (trace !== null) record.trace = fromJson<RunTrace>(trace);
  return record;
}

function traceColumn(req: TaskRequest): string | null {
  return req.trace === undefined ? null : toJson(req.trace);
}
