// The JSON bodies of Aurora's HTTP API (docs/api.md; the gateway's response schemas), declared
// from the outside: a test that reads a body names the answer it expects, so a misspelt field or a
// wrong type fails to compile instead of passing as `undefined`. Kept apart from the server's own
// types on purpose: these tests check the contract, not the code that implements it.

/** Every error answer. */
export interface ErrorBody {
  detail: string;
}

export interface HealthBody {
  status: string;
  timestamp: string;
  service: string;
}

export interface ReadyBody {
  status: 'ready' | 'not_ready';
  /** null: unknown (the node that checks it could not be asked). */
  checks: { database: boolean | null; bus: boolean; cache: boolean; llm: boolean | null };
  timestamp: string;
  detail?: string;
}

export interface AgentBody {
  name: string;
  /** One incarnation of the name: an agent created again under it gets another. */
  agent_id: string;
  agent_type: string;
  model_name: string;
  provider: string;
  description: string;
  config: Record<string, unknown>;
  status: string;
  created_at: string;
  last_run: string | null;
}

export interface LoadedModelBody {
  name: string;
  provider: string;
  loaded_at: string;
}

/** GET /api/v1/models/: loaded models keyed model:<provider>:<name>. */
export interface ModelMapBody {
  models: Record<string, LoadedModelBody>;
  count: number;
}

/** A model pull: POST /api/v1/models/pull (202), GET and DELETE /api/v1/models/pulls/{id}, the model.pull.* events. */
export interface PullBody {
  pull_id: string;
  name: string;
  provider: string;
  status: 'running' | 'completed' | 'failed' | 'cancelled';
  completed_bytes: number;
  total_bytes: number;
  percent: number;
  detail: string | null;
  error: string | null;
  error_code: string | null;
  started_at: string;
  finished_at: string | null;
}

export interface TaskTimingsBody {
  queued_ms: number;
  total_duration_ms: number | null;
  load_duration_ms: number | null;
  prompt_eval_duration_ms: number | null;
  eval_duration_ms: number | null;
}

/** A completed task, as POST /api/v1/tasks/execute answers it. */
export interface TaskResultBody {
  task_id: string;
  agent: string;
  result: string;
  status: 'completed';
  model: string;
  provider: string;
  tokens_used: number;
  prompt_tokens: number;
  completion_tokens: number;
  completed_at: string;
  duration_ms: number;
  timings: TaskTimingsBody;
}

/** A batch item whose task did not complete. */
export interface BatchFailureBody {
  task_id: string;
  agent: string;
  status: 'failed';
  error: string;
  error_code: string;
}

export type BatchItemBody = TaskResultBody | BatchFailureBody;

/** A task's row: GET /api/v1/tasks/{id} and the items of GET /api/v1/tasks/. */
export interface TaskRecordBody {
  task_id: string;
  agent: string;
  agent_id: string;
  prompt: string;
  parameters: Record<string, unknown>;
  status: string;
  result: string | null;
  error: string | null;
  error_code: string | null;
  model: string | null;
  provider: string | null;
  tokens_used: number | null;
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
  duration_ms: number | null;
  timings: TaskTimingsBody | null;
}

/** The row of a task that failed, which always names its error. */
export interface FailedTaskRecordBody extends TaskRecordBody {
  status: 'failed';
  error: string;
  error_code: string;
}

/** GET /api/v1/agents/ with a query: one page. */
export interface AgentPageBody {
  agents: AgentBody[];
  next_cursor: string | null;
}

export interface ThreadBody {
  thread_id: string;
  agent: string;
  agent_id: string;
  title: string | null;
  message_count: number;
}

/** An event of the event log (GET /api/v1/events). */
export interface StoredEventBody {
  id: number;
  type: string;
  time: string;
  agent?: string;
  task_id?: string;
  payload: Record<string, unknown>;
}

export interface EventPageBody {
  events: StoredEventBody[];
  next_cursor: string | null;
}

/** GET /api/v1/cluster */
export interface ClusterBody {
  mode: 'nats' | 'embedded';
  namespace: string;
  dead_after_ms: number;
  lease: { node_id: string; epoch: number; renewed_at: string; age_ms: number; alive: boolean } | null;
  nodes: {
    node_id: string;
    role: string;
    version: string;
    host: string;
    pid: number;
    started_at: string;
    heartbeat_at: string;
    heartbeat_age_ms: number;
    alive: boolean;
    agents: number;
    kinds: string[];
    cpus: number;
    load_avg_1m: number;
    rss_bytes: number;
    holds_lease: boolean;
  }[];
}
