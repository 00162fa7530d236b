// Tasks: what a client asks an agent to do, what it gets back, and what Aurora remembers.
import { Type, type Static } from '@sinclair/typebox';
import { AgentName, IsoTime, LIMITS, Nullable, NullableObject, OpenObject } from './common.js';
import { EXAMPLE } from './examples.js';
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
  keep_alive: Type.Optional({
    ...KeepAlive,
    description: 'How long Ollama keeps the model loaded after the call: a duration ("5m", "1h30m") or seconds (0 unloads, -1 keeps)',
  }),
  output_schema: Type.Optional(OutputSchema),
  max_turns: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.maxTurns, description: 'Most model calls in the tool loop' })),
  timeout_ms: Type.Optional(
    Type.Integer({ minimum: 1, maximum: LIMITS.taskTimeoutMaxMs, description: 'Longest the task may take, queued and running (default TASK_TIMEOUT_MS)' }),
  ),
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
  run_id: Type.String({ description: 'The run the task is, or is a step of' }),
  path: Type.Array(Type.String(), { description: "Step path from the root run: the parent runs' step paths, then this run's" }),
  lineage: Type.Array(Type.String(), { minItems: 1, description: 'Run ids from the root run down to run_id (bounded by AGENT_CALL_MAX_DEPTH)' }),
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
  total_duration_ms: Nullable('number', { description: "The provider's total time for the call; null when it did not say" }),
  load_duration_ms: Nullable('number', { description: 'Time the provider spent loading the model' }),
  prompt_eval_duration_ms: Nullable('number', { description: 'Time the provider spent reading the prompt' }),
  eval_duration_ms: Nullable('number', { description: 'Time the provider spent generating the answer' }),
});

const timingsExample = {
  queued_ms: 2,
  total_duration_ms: 4102.5,
  load_duration_ms: 12.1,
  prompt_eval_duration_ms: 310.4,
  eval_duration_ms: 3761.9,
};

const taskResultExample = {
  task_id: EXAMPLE.taskId,
  agent: EXAMPLE.agent,
  result: EXAMPLE.answer,
  status: 'completed',
  model: EXAMPLE.model,
  provider: EXAMPLE.provider,
  tokens_used: 93,
  prompt_tokens: 31,
  completion_tokens: 62,
  completed_at: EXAMPLE.later,
  duration_ms: 4213,
  timings: timingsExample,
};
export type TaskTimings = Static<typeof TaskTimings>;

export const TaskResult = Type.Object(
  {
    task_id: Type.String({ description: 'Id of the task: GET /api/v1/tasks/{id} reads it again' }),
    agent: Type.String({ description: 'The agent that ran it' }),
    result: Type.String({ description: "The model's answer" }),
    status: Type.Literal('completed', { description: 'Always `completed`: a task that did not complete is answered as an error' }),
    model: Type.String({ description: 'Model that answered' }),
    provider: Type.String({ description: 'LLM provider of the model' }),
    tokens_used: Type.Integer({ description: 'prompt_tokens + completion_tokens' }),
    prompt_tokens: Type.Integer({ description: 'Tokens the model read' }),
    completion_tokens: Type.Integer({ description: 'Tokens the model wrote' }),
    completed_at: IsoTime({ description: 'When the task completed' }),
    duration_ms: Type.Number({ description: 'From accepted to completed' }),
    timings: { ...TaskTimings, description: 'Where the time went' },
    thread_id: Type.Optional(Type.String({ description: 'The thread the task continued' })),
    output: Type.Optional(Type.Unknown({ description: 'The structured answer, parsed and validated against the effective output_schema' })),
  },
  { examples: [taskResultExample] },
);
export type TaskResult = Static<typeof TaskResult>;

const taskRecordExample = {
  task_id: EXAMPLE.taskId,
  agent: EXAMPLE.agent,
  agent_id: EXAMPLE.agentId,
  prompt: EXAMPLE.prompt,
  parameters: { temperature: 0.7 },
  status: 'completed',
  result: EXAMPLE.answer,
  error: null,
  error_code: null,
  model: EXAMPLE.model,
  provider: EXAMPLE.provider,
  tokens_used: 93,
  created_at: EXAMPLE.time,
  started_at: EXAMPLE.time,
  completed_at: EXAMPLE.later,
  duration_ms: 4213,
  timings: timingsExample,
  thread_id: null,
  details: {
    settings: {
      model: EXAMPLE.model,
      provider: EXAMPLE.provider,
      system: EXAMPLE.system,
      options: { temperature: 0.7 },
      keep_alive: null,
      tools: [],
      max_turns: 10,
    },
    turns: 1,
  },
};

export const TaskRecord = Type.Object({
  task_id: Type.String({ description: 'Id of the task' }),
  agent: Type.String({ description: 'The agent that ran it (its name)' }),
  agent_id: Type.String({ description: 'The incarnation of the agent that ran it (AgentRecord.agent_id); the task outlives it' }),
  prompt: Type.String({ description: 'The prompt as sent' }),
  // Open when read back: a record written by a newer build may carry parameters this one does not know.
  parameters: Type.Object(parameterFields, { additionalProperties: true, description: 'The task parameters as sent' }),
  status: TaskStatusField,
  result: Nullable('string', { description: "The model's answer once completed, else null" }),
  error: Nullable('string', { description: 'Why it failed or was cancelled, else null' }),
  error_code: Nullable('string', { description: 'Error code of a failed task (see the error table), else null' }),
  model: Nullable('string', { description: 'Model that answered; null before it ran' }),
  provider: Nullable('string', { description: 'LLM provider of the model; null before it ran' }),
  tokens_used: Nullable('integer', { description: 'Tokens read and written; null until known' }),
  created_at: IsoTime({ description: 'When it was accepted' }),
  started_at: Nullable('string', { description: 'When the agent started it; null while queued' }),
  completed_at: Nullable('string', { description: 'When it ended; null while queued or running' }),
  duration_ms: Nullable('number', { description: 'From accepted to ended; null until it ends' }),
  timings: NullableObject(TaskTimings, { description: 'Where the time went; null until it completes' }),
  thread_id: Nullable('string', { description: 'The thread it continued, else null' }),
  output: Type.Optional(Type.Unknown({ description: 'The structured answer, when the task had an output_schema' })),
  /** What the kind recorded about the task: effective settings, context trimming, tool steps. */
  details: OpenObject({ description: 'Effective settings, context and steps, as the agent recorded them' }),
  trace: Type.Optional({ ...RunTrace, description: 'The workflow run the task is, or is a step of' }),
}, { examples: [taskRecordExample] });
export type TaskRecord = Static<typeof TaskRecord>;

export const TaskList = Type.Array(TaskRecord, { examples: [[taskRecordExample]] });

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

export const TaskCancelled = Type.Object(
  { task_id: Type.String({ description: 'Id of the task' }), status: TaskStatusField },
  { examples: [{ task_id: EXAMPLE.taskId, status: 'cancelled' }] },
);
export type TaskCancelled = Static<typeof TaskCancelled>;

export const TaskExecuteRequest = Type.Object(
  {
    agent: AgentName({ description: 'The agent to run it (its name, as created)' }),
    prompt: Type.String({ minLength: 1, maxLength: LIMITS.promptMaxLength, description: 'What to ask the agent' }),
    thread_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Continue this thread of the agent' })),
    parameters: Type.Optional(
      Type.Object(parameterFields, { additionalProperties: false, default: {}, description: "Overrides of the agent's settings for this task" }),
    ),
  },
  { additionalProperties: false, examples: [{ agent: EXAMPLE.agent, prompt: EXAMPLE.prompt, parameters: { temperature: 0.7 } }] },
);
/** After validation: defaults filled in. */
export type TaskExecuteBody = Static<typeof TaskExecuteRequest> & { parameters: TaskParameters };

export const TaskBatchRequest = Type.Object(
  { tasks: Type.Array(TaskExecuteRequest, { minItems: 1, description: 'The tasks, run concurrently; at most BATCH_MAX_TASKS' }) },
  {
    additionalProperties: false,
    examples: [
      {
        tasks: [
          { agent: EXAMPLE.agent, prompt: EXAMPLE.prompt },
          { agent: EXAMPLE.agent, prompt: 'Write a one-line slogan for a solar-powered desk lamp.', parameters: { timeout_ms: 1000 } },
        ],
      },
    ],
  },
);
export interface TaskBatchBody {
  tasks: TaskExecuteBody[];
}

/** One failed item of a batch: its task ran (or was refused) but did not complete. */
export const BatchFailure = Type.Object({
  task_id: Type.String({ description: 'Id of the task' }),
  agent: Type.String({ description: 'The agent it was sent to' }),
  status: Type.Literal('failed', { description: 'Always `failed`' }),
  error: Type.String({ description: 'Why it failed (the detail an execute would have answered)' }),
  error_code: Type.String({ description: 'Error code (see the error table)' }),
});
export type BatchFailure = Static<typeof BatchFailure>;

export const TaskBatchResult = Type.Array(Type.Union([TaskResult, BatchFailure]), {
  examples: [
    [
      taskResultExample,
      {
        task_id: '01936f4e-2b7b-7a2e-8f40-6b7c8d9e0f1a',
        agent: EXAMPLE.agent,
        status: 'failed',
        error: 'Task 01936f4e-2b7b-7a2e-8f40-6b7c8d9e0f1a timed out after 1000 ms',
        error_code: 'timeout',
      },
    ],
  ],
});

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
