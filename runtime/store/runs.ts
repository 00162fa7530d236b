// Workflow runs and their steps. A step's row is also its checkpoint: a completed step is written
// once with its output, and a run resumed after a crash or a restart reads these to skip what
// already ran. Runs keep the graph they started with, whatever happens to the workflow since.
import type { Database } from 'better-sqlite3';
import type { StepRecord, StepStatus, WorkflowNode } from '../protocol/index.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { fromJson, toJson } from './json.js';

export interface RunRow {
  run_id: string;
  workflow: string;
  version: number;
  agent: string;
  graph: WorkflowNode;
  input: unknown;
  output: unknown;
  error: string | null;
  error_code: string | null;
  parent_run_id: string | null;
  root_run_id: string;
  tokens: number;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

export interface StepStart {
  node_id: string;
  type: string;
  agent: string | null;
  input: unknown;
  attempt: number;
  task_id: string | null;
  started_at: string;
}

export interface RunPageQuery {
  workflow?: string;
  status?: string;
  limit: number;
  cursor?: string;
}

export interface RunRepository {
  insert(run: Omit<RunRow, 'output' | 'error' | 'error_code' | 'tokens' | 'started_at' | 'finished_at'>): void;
  get(runId: string): RunRow | undefined;
  /** The run's workflow name alone (no graph or input decoded). */
  workflowOf(runId: string): string | undefined;
  started(runId: string, at: string): void;
  finished(runId: string, outcome: { output?: unknown; error?: string; error_code?: string; tokens: number; at: string }): void;
  page(query: RunPageQuery): { runs: RunRow[]; next_cursor: string | null };
  stepStarted(runId: string, path: readonly string[], step: StepStart): void;
  stepFinished(
    runId: string,
    path: readonly string[],
    outcome: { status: Exclude<StepStatus, 'pending' | 'running'>; output?: unknown; error?: string; error_code?: string; tokens: number; at: string },
  ): void;
  steps(runId: string): StepRecord[];
  /** Completed steps, the checkpoints a resumed run starts from. */
  checkpoints(runId: string): { path: string[]; output: unknown; tokens: number }[];
}

interface RunDbRow {
  run_id: string;
  workflow: string;
  version: number;
  agent: string;
  graph: string;
  input: string;
  output: string | null;
  error: string | null;
  error_code: string | null;
  parent_run_id: string | null;
  root_run_id: string;
  tokens: number;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

interface StepDbRow {
  path: string;
  node_id: string;
  type: string;
  status: StepStatus;
  attempts: number;
  input: string | null;
  output: string | null;
  error: string | null;
  error_code: string | null;
  task_id: string | null;
  agent: string | null;
  tokens: number;
  started_at: string | null;
  finished_at: string | null;
}

const RUN_COLUMNS =
  'run_id, workflow, version, agent, graph, input, output, error, error_code, parent_run_id, root_run_id, tokens, created_at, started_at, finished_at';
const STEP_COLUMNS = 'path, node_id, type, status, attempts, input, output, error, error_code, task_id, agent, tokens, started_at, finished_at';

export function createRunRepository(db: Database): RunRepository {
  const insert = db.prepare<Record<string, unknown>>(
    `INSERT INTO workflow_runs (run_id, workflow, version, agent, graph, input, parent_run_id, root_run_id, tokens, created_at)
     VALUES (@run_id, @workflow, @version, @agent, @graph, @input, @parent_run_id, @root_run_id, 0, @created_at)`,
  );
  const get = db.prepare<[string], RunDbRow>(`SELECT ${RUN_COLUMNS} FROM workflow_runs WHERE run_id = ?`);
  const workflowOf = db.prepare<[string], string>('SELECT workflow FROM workflow_runs WHERE run_id = ?').pluck();
  const started = db.prepare<[string, string]>('UPDATE workflow_runs SET started_at = coalesce(started_at, ?) WHERE run_id = ?');
  const finished = db.prepare<Record<string, unknown>>(
    `UPDATE workflow_runs SET output = @output, error = @error, error_code = @error_code, tokens = @tokens, finished_at = @at
     WHERE run_id = @run_id`,
  );
  // One statement for every filter combination: a NULL filter matches everything. A run's status
  // is its task's (run_id = task_id).
  const page = db.prepare<{ limit: number; at: string | null; id: string | null; workflow: string | null; status: string | null }, RunDbRow>(
    `SELECT ${RUN_COLUMNS.split(', ').map((c) => `r.${c}`).join(', ')} FROM workflow_runs r
     LEFT JOIN tasks t ON t.task_id = r.run_id
     WHERE (@workflow IS NULL OR r.workflow = @workflow)
       AND (@status IS NULL OR coalesce(t.status, 'queued') = @status)
       AND (@at IS NULL OR (r.created_at, r.run_id) < (@at, @id))
     ORDER BY r.created_at DESC, r.run_id DESC LIMIT @limit`,
  );
  const stepStarted = db.prepare<Record<string, unknown>>(
    `INSERT INTO workflow_steps (run_id, path, node_id, type, status, attempts, input, agent, task_id, tokens, started_at)
     VALUES (@run_id, @path, @node_id, @type, 'running', @attempt, @input, @agent, @task_id, 0, @started_at)
     ON CONFLICT (run_id, path) DO UPDATE SET status = 'running', attempts = excluded.attempts, input = excluded.input,
       task_id = excluded.task_id, error = NULL, error_code = NULL, started_at = excluded.started_at, finished_at = NULL`,
  );
  const stepFinished = db.prepare<Record<string, unknown>>(
    `UPDATE workflow_steps SET status = @status, output = @output, error = @error, error_code = @error_code, tokens = @tokens,
       finished_at = @at WHERE run_id = @run_id AND path = @path`,
  );
  const steps = db.prepare<[string], StepDbRow>(`SELECT ${STEP_COLUMNS} FROM workflow_steps WHERE run_id = ? ORDER BY started_at, rowid`);
  const checkpoints = db.prepare<[string], { path: string; output: string | null; tokens: number }>(
    `SELECT path, output, tokens FROM workflow_steps WHERE run_id = ? AND status = 'completed'`,
  );

  const toRun = (r: RunDbRow): RunRow => ({
    ...r,
    graph: fromJson<WorkflowNode>(r.graph),
    input: fromJson<unknown>(r.input),
    output: r.output === null ? null : fromJson<unknown>(r.output),
  });

  return {
    insert(run) {
      insert.run({ ...run, graph: toJson(run.graph), input: toJson(run.input ?? null) });
    },
    get(runId) {
      const row = get.get(runId);
      return row && toRun(row);
    },
    workflowOf: (runId) => workflowOf.get(runId),
    started(runId, at) {
      started.run(at, runId);
    },
    finished(runId, o) {
      finished.run({
        run_id: runId,
        output: o.output === undefined ? null : toJson(o.output),
        error: o.error ?? null,
        error_code: o.error_code ?? null,
        tokens: o.tokens,
        at: o.at,
      });
    },
    page({ workflow, status, limit, cursor }) {
      const key = cursor === undefined ? undefined : (decodeCursor('runs', cursor, ['s', 's']) as [string, string]);
      const rows = page.all({ limit: limit + 1, at: key?.[0] ?? null, id: key?.[1] ?? null, workflow: workflow ?? null, status: status ?? null });
      const runs = rows.slice(0, limit).map(toRun);
      const last = runs.at(-1);
      return { runs, next_cursor: rows.length > limit && last !== undefined ? encodeCursor('runs', [last.created_at, last.run_id]) : null };
    },
    stepStarted(runId, path, s) {
      stepStarted.run({
        run_id: runId,
        path: toJson(path),
        node_id: s.node_id,
        type: s.type,
        attempt: s.attempt,
        input: s.input === undefined ? null : toJson(s.input),
        agent: s.agent,
        task_id: s.task_id,
        started_at: s.started_at,
      });
    },
    stepFinished(runId, path, o) {
      stepFinished.run({
        run_id: runId,
        path: toJson(path),
        status: o.status,
        output: o.output === undefined ? null : toJson(o.output),
        error: o.error ?? null,
        error_code: o.error_code ?? null,
        tokens: o.tokens,
        at: o.at,
      });
    },
    steps(runId) {
      return steps.all(runId).map((r) => {
        const step: StepRecord = {
          path: fromJson<string[]>(r.path),
          node_id: r.node_id,
          type: r.type,
          status: r.status,
          attempts: r.attempts,
          error: r.error,
          error_code: r.error_code,
          task_id: r.task_id,
          agent: r.agent,
          tokens: r.tokens,
          started_at: r.started_at,
          finished_at: r.finished_at,
        };
        if (r.input !== null) step.input = fromJson<unknown>(r.input);
        if (r.output !== null) step.output = fromJson<unknown>(r.output);
        return step;
      });
    },
    checkpoints(runId) {
      return checkpoints.all(runId).map((r) => ({
        path: fromJson<string[]>(r.path),
        output: r.output === null ? null : fromJson<unknown>(r.output),
        tokens: r.tokens,
      }));
    },
  };
}
