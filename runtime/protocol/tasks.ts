// Tasks: what a client asks an agent to do, what it gets back, and what Aurora remembers.
import { Type, type Static } from '@sinclair/typebox';
import { AgentName, IsoTime, LIMITS, Nullable, NullableObject, OpenObject } from './common.js';
import { BrowserActions } from './browser.js';
import { KeepAlive, modelOptionFields, OutputSchema } from './llm.js';

export const TASK_STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

const TaskStatusField = Type.Unsafe<TaskStatus>({ type: 'string', enum: TASK_STATUSES, description: 'Task status' });

/** Overrides of the agent's definition for one task (the effective values are recorded on the task). */
const parameterFields = {
  system: Type.Optional(Type.String({ maxLength: LIMITS.systemMaxLength, description: 'System prompt for this task' })),
  max_tokens: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.maxTokens, description: 'Most tokens generated' })),
  ...modelOptionFields,
  keep_alive: Type.Optional(KeepAlive),
  output_schema: Type.Optional(OutputSchema),
  max_turns: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.maxTurns, description: 'Most model calls in the tool loop' })),
  timeout_ms: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.taskTimeoutMaxMs })),
  retries: Type.Optional(
    Type.Integer({ minimum: 0, maximum: LIMITS.retriesMax, description: 'Runs again when the agent crashes under it' }),
  ),
  actions: Type.Optional(BrowserActions),
};

export const TaskParameters = Type.Object(parameterFields, { additionalProperties: false });
export type TaskParameters = Static<typeof TaskParameters>;

/**
 * Where a task sits in a workflow run: the run it is a step of (or, for a run's own task, the run
 * itself), its path in that run's graph, and the runs above it. The host stamps it on every event
 * of the task, so one subscription follows a run's whole subtree.
 */
export const RunTrace = Type.Object({
  run_id: Type.String(),
  /** Step path from the root run: the parent runs' step paths, then this run's. */
  path: Type.Array(Type.String()),
  /** Run ids from the root run down to run_id (bounded by AGENT_CALL_MAX_DEPTH). */
  lineage: Type.Array(Type.String(), { minItems: 1 }),
});
export type RunTrace = Static<typeof RunTrace>;

/** A task on the bus, addressed to its agent's subject. */
export const TaskRequest = Type.Object({
  task_id: Type.String(),
  agent: Type.String(),
  prompt: Type.String(),
  parameters: TaskParameters,
  /** The conversation it continues; tasks of one thread run one at a time, in order. */
  thread_id: Type.Optional(Type.String()),
  /** How many agents called each other to get here (0: a client's task); bounded by AGENT_CALL_MAX_DEPTH. */
  depth: Type.Optional(Type.Integer({ minimum: 0 })),
  /** Set when the task is a workflow run or one of its steps. */
  trace: Type.Optional(RunTrace),
});
export type TaskRequest = Static<typeof TaskRequest>;

export const TaskTimings = Type.Object({
  queued_ms: Type.Number({ description: 'Time in the mailbox' }),
  total_duration_ms: Nullable('number'),
  load_duration_ms: Nullable('number'),
  prompt_eval_duration_ms: Nullable('number'),
  eval_duration_ms: Nullable('number'),
});
export type TaskTimings = Static<typeof TaskTimings>;

export const TaskResult = Type.Object({
  task_id: Type.String(),
  agent: Type.String(),
  result: Type.String(),
  status: Type.Literal('completed'),
  model: Type.String(),
  provider: Type.String(),
  tokens_used: Type.Integer(),
  prompt_tokens: Type.Integer(),
  completion_tokens: Type.Integer(),
  completed_at: IsoTime(),
  duration_ms: Type.Number(),
  timings: TaskTimings,
  thread_id: Type.Optional(Type.String()),
  /** The structured answer, parsed and validated against the effective output_schema. */
  output: Type.Optional(Type.Unknown()),
});
export type TaskResult = Static<typeof TaskResult>;

export const TaskRecord = Type.Object({
  task_id: Type.String(),
  agent: Type.String(),
  agent_id: Type.String({ description: 'The incarnation of the agent that ran it (AgentRecord.agent_id); the task outlives it' }),
  prompt: Type.String(),
  // Open when read back: a record written by a newer build may carry parameters this one does not know.
  parameters: Type.Object(parameterFields, { additionalProperties: true }),
  status: TaskStatusField,
  result: Nullable('string'),
  error: Nullable('string'),
  error_code: Nullable('string'),
  model: Nullable('string'),
  provider: Nullable('string'),
  tokens_used: Nullable('integer'),
  created_at: IsoTime(),
  started_at: Nullable('string'),
  completed_at: Nullable('string'),
  duration_ms: Nullable('number'),
  timings: NullableObject(TaskTimings),
  thread_id: Nullable('string'),
  output: Type.Optional(Type.Unknown({ description: 'The structured answer, when the task had an output_schema' })),
  /** What the kind recorded about the task: effective settings, context trimming, tool steps. */
  details: OpenObject({ description: 'Effective settings, context and steps, as the agent recorded them' }),
  trace: Type.Optional({ ...RunTrace, description: 'The workflow run the task is, or is a step of' }),
});
export type TaskRecord = Static<typeof TaskRecord>;

export const TaskList = Type.Array(TaskRecord);

export const TaskListQuery = Type.Object({
  /** Every incarnation of the name, deleted ones included. */
  agent: Type.Optional(Type.String()),
  agent_id: Type.Optional(Type.String()),
  status: Type.Optional(TaskStatusField),
  limit: Type.Integer({ minimum: 1 }),
  cursor: Type.Optional(Type.String()),
});
export type TaskListQuery = Static<typeof TaskListQuery>;

/** Newest first; the REST answer is the array, with the next page in its Link header. */
export const TaskPage = Type.Object({
  tasks: TaskList,
  next_cursor: Nullable('string'),
});
export type TaskPage = Static<typeof TaskPage>;

export const TaskCancelled = Type.Object({ task_id: Type.String(), status: TaskStatusField });
export type TaskCancelled = Static<typeof TaskCancelled>;

export const TaskExecuteRequest = Type.Object(
  {
    agent: AgentName(),
    prompt: Type.String({ minLength: 1, maxLength: LIMITS.promptMaxLength }),
    thread_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Continue this thread of the agent' })),
    parameters: Type.Optional(Type.Object(parameterFields, { additionalProperties: false, default: {} })),
  },
  { additionalProperties: false },
);
/** After validation: defaults filled in. */
export type TaskExecuteBody = Static<typeof TaskExecuteRequest> & { parameters: TaskParameters };

export const TaskBatchRequest = Type.Object(
  { tasks: Type.Array(TaskExecuteRequest, { minItems: 1 }) },
  { additionalProperties: false },
);
export interface TaskBatchBody {
  tasks: TaskExecuteBody[];
}

/** One failed item of a batch: its task ran (or was refused) but did not complete. */
export const BatchFailure = Type.Object({
  task_id: Type.String(),
  agent: Type.String(),
  status: Type.Literal('failed'),
  error: Type.String(),
  error_code: Type.String(),
});
export type BatchFailure = Static<typeof BatchFailure>;

export const TaskBatchResult = Type.Array(Type.Union([TaskResult, BatchFailure]));

/**
 * What a kind's machine answers for a completed task; the host turns it into the TaskResult and
 * the stored record. An LLM call's result has exactly this shape.
 */
export interface TaskOutcome {
  text: string;
  /** The structured answer, when the task asked for one. */
  output?: unknown;
  /** Messages the task adds to its thread (the user turn, tool turns, the answer). */
  messages?: NewThreadMessage[];
  model: string;
  promptTokens: number;
  completionTokens: number;
  totalDurationMs: number | null;
  loadDurationMs: number | null;
  promptEvalDurationMs: number | null;
  evalDurationMs: number | null;
}

/** A message a task adds to its thread; the store numbers and stamps it. */
export interface NewThreadMessage {
  role: 'user' | 'assistant' | 'tool';
  content: string;
  tool_calls?: { name: string; arguments: Record<string, unknown> }[];
  tool_name?: string;
  tokens: number | null;
}
