// Workflows: graphs of agent tasks (sequence, parallel, map, router, loop) that run as supervised
// trees. A definition is versioned; a run keeps the version it started with.
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { AgentName, IsoTime, Nullable, OpenObject } from './common.js';
import { EXAMPLE } from './examples.js';
import { OutputSchema } from './llm.js';

export const WORKFLOW_LIMITS = {
  /** Nodes in one graph. */
  maxNodes: 200,
  /** Nesting of nodes. */
  maxDepth: 12,
  /** Branches of one parallel node. */
  maxBranches: 32,
  /** Items one map node runs over. */
  maxItems: 10_000,
  maxConcurrency: 256,
  maxIterations: 100,
  maxHandoffs: 50,
  maxAttempts: 10,
  templateMaxLength: 100_000,
} as const;

/**
 * Workflow names: agent names three characters shorter, since a workflow runs as the agent
 * `wf.<name>` (supervisors/workflow-runs.ts) and that name must still be an agent name.
 */
export const WORKFLOW_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,60}$';

/** Node ids: a word, unique in the graph; they name steps in paths and in templates (`steps.<id>`). */
export const NODE_ID_PATTERN = '^[A-Za-z][A-Za-z0-9_-]{0,63}$';

const NodeId = Type.String({ pattern: NODE_ID_PATTERN, description: 'Unique in the graph; `steps.<id>` in templates' });
const Template = Type.String({
  maxLength: WORKFLOW_LIMITS.templateMaxLength,
  description: 'Text with {{ input.x }}, {{ steps.<id>.output }}, {{ item }}, {{ index }}, {{ iteration }} placeholders',
});

export const Retry = Type.Object(
  {
    attempts: Type.Integer({ minimum: 1, maximum: WORKFLOW_LIMITS.maxAttempts, description: 'Runs in all (1: no retry)' }),
    backoff_ms: Type.Optional(Type.Integer({ minimum: 0, maximum: 600_000, description: 'Wait before each retry, doubling' })),
  },
  { additionalProperties: false },
);
export type Retry = Static<typeof Retry>;

const common = {
  id: NodeId,
  timeout_ms: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400_000, description: 'Bound on this node (and within its parent\'s)' })),
  retry: Type.Optional({ ...Retry, description: 'Run the node again when it fails, before its parent hears of it' }),
};

const nodeType = <T extends string>(type: T, what: string) => Type.Literal(type, { description: `\`${type}\`: ${what}` });

/** A condition on a value, without code: a path in the run's data compared to a constant. */
export const Condition = Type.Object(
  {
    path: Type.String({ maxLength: 512, description: 'e.g. output.approved, or steps.review.output.score' }),
    equals: Type.Optional(Type.Unknown({ description: 'Holds when the value equals this (deep equality)' })),
    not_equals: Type.Optional(Type.Unknown({ description: 'Holds when the value differs from this' })),
    contains: Type.Optional(Type.String({ description: 'Holds when the value (a string or a list) contains this' })),
    exists: Type.Optional(Type.Boolean({ description: 'true: holds when the path has a value; false: when it has none' })),
    gte: Type.Optional(Type.Number({ description: 'Holds when the value is a number at least this' })),
    lte: Type.Optional(Type.Number({ description: 'Holds when the value is a number at most this' })),
  },
  { additionalProperties: false },
);
export type Condition = Static<typeof Condition>;

export interface AgentNode {
  type: 'agent';
  id: string;
  agent: string;
  input: string;
  thread?: string;
  output_schema?: Record<string, unknown>;
  timeout_ms?: number;
  retry?: Retry;
}
export interface SequenceNode {
  type: 'sequence';
  id: string;
  steps: WorkflowNode[];
  timeout_ms?: number;
  retry?: Retry;
}
export interface ParallelNode {
  type: 'parallel';
  id: string;
  branches: WorkflowNode[];
  join?: string;
  on_error?: 'fail_fast' | 'settle';
  max_concurrency?: number;
  timeout_ms?: number;
  retry?: Retry;
}
export interface MapNode {
  type: 'map';
  id: string;
  items: string;
  node: WorkflowNode;
  max_concurrency?: number;
  timeout_ms?: number;
  retry?: Retry;
}
export interface RouterNode {
  type: 'router';
  id: string;
  agent: string;
  input: string;
  routes: Record<string, WorkflowNode>;
  max_handoffs?: number;
  timeout_ms?: number;
  retry?: Retry;
}
export interface LoopNode {
  type: 'loop';
  id: string;
  node: WorkflowNode;
  until?: Condition;
  max_iterations: number;
  timeout_ms?: number;
  retry?: Retry;
}
export type WorkflowNode = AgentNode | SequenceNode | ParallelNode | MapNode | RouterNode | LoopNode;

/** The node types, in the order the schema lists them. */
export const NODE_TYPES = ['agent', 'sequence', 'parallel', 'map', 'router', 'loop'] as const;
export type NodeType = (typeof NODE_TYPES)[number];

/**
 * The graph's schema, recursive through `Node`. A `oneOf` with a discriminator on `type` rather than
 * a plain union: ajv then checks a node against the one branch its `type` names, so a mistake is
 * reported on that node's own fields, and an unknown type as exactly that (a plain union reports the
 * first branch's complaint, "agent is required", whatever the node was meant to be).
 */
const nodeSchema = ($id: string): TSchema =>
  Type.Recursive(
    (Node) =>
      Type.Unsafe<unknown>({
        type: 'object',
        discriminator: { propertyName: 'type' },
        oneOf: [
          Type.Object(
            {
              type: nodeType('agent', 'one task of an agent'),
              ...common,
              agent: AgentName({ description: 'The agent that runs the step (or `wf.<other>`: a nested run of another workflow)' }),
              input: { ...Template, description: `The step's prompt: ${Template.description}` },
              thread: Type.Optional({ ...Template, description: 'A thread id (template) the step continues' }),
              output_schema: Type.Optional(OutputSchema),
            },
            { additionalProperties: false },
          ),
          Type.Object(
            {
              type: nodeType('sequence', 'its steps one after the other'),
              ...common,
              steps: Type.Array(Node, { minItems: 1, maxItems: WORKFLOW_LIMITS.maxNodes, description: 'Run in order; a later step reads earlier ones' }),
            },
            { additionalProperties: false },
          ),
          Type.Object(
            {
              type: nodeType('parallel', 'its branches at the same time'),
              ...common,
              branches: Type.Array(Node, { minItems: 1, maxItems: WORKFLOW_LIMITS.maxBranches, description: 'Run concurrently' }),
              join: Type.Optional(Type.String({ pattern: '^(all|any|quorum:[1-9][0-9]*)$', description: 'all, any, or quorum:N' })),
              on_error: Type.Optional(
                Type.Union([Type.Literal('fail_fast'), Type.Literal('settle')], {
                  description: 'fail_fast: the first failed branch stops the others; settle: every branch runs to its end',
                }),
              ),
              max_concurrency: Type.Optional(
                Type.Integer({ minimum: 1, maximum: WORKFLOW_LIMITS.maxConcurrency, description: 'Most branches running at once' }),
              ),
            },
            { additionalProperties: false },
          ),
          Type.Object(
            {
              type: nodeType('map', 'its node once per item of a list'),
              ...common,
              items: Type.String({ maxLength: 512, description: 'Path to a list: input.topics, or steps.<id>.output.items' }),
              node: { ...Node, description: 'Run per item; reads {{ item }} and {{ index }}' },
              max_concurrency: Type.Optional(
                Type.Integer({ minimum: 1, maximum: WORKFLOW_LIMITS.maxConcurrency, description: 'Most items running at once' }),
              ),
            },
            { additionalProperties: false },
          ),
          Type.Object(
            {
              type: nodeType('router', 'an agent picks the route to run next'),
              ...common,
              agent: AgentName({ description: 'The agent that picks a route (or `finish`)' }),
              input: { ...Template, description: `What the router agent is asked: ${Template.description}` },
              routes: Type.Record(Type.String({ pattern: NODE_ID_PATTERN }), Node, {
                minProperties: 1,
                description: 'The routes by name; the router hands off to one of them, or finishes',
              }),
              max_handoffs: Type.Optional(
                Type.Integer({ minimum: 1, maximum: WORKFLOW_LIMITS.maxHandoffs, description: 'Most routes run before the run fails max_handoffs_exceeded' }),
              ),
            },
            { additionalProperties: false },
          ),
          Type.Object(
            {
              type: nodeType('loop', 'its node again until a condition holds'),
              ...common,
              node: { ...Node, description: 'Run each round; reads {{ iteration }}' },
              until: Type.Optional({ ...Condition, description: "Stop once this holds on the node's output (`output.…`)" }),
              max_iterations: Type.Integer({ minimum: 1, maximum: WORKFLOW_LIMITS.maxIterations, description: 'Most rounds' }),
            },
            { additionalProperties: false },
          ),
        ],
      }),
    { $id, description: 'The root node of the graph: agent, sequence, parallel, map, router or loop, by its `type`' },
  ) as unknown as TSchema;

/**
 * Each request embeds its own copy under its own $id: the OpenAPI document holds both requests, and
 * one $id defined twice in a document is an error there.
 */
export const WorkflowNodeSchema = nodeSchema('WorkflowNode');

/** `writer` drafts a blurb for the run's product, then tightens its own draft. */
const graphExample = {
  type: 'sequence',
  id: 'main',
  steps: [
    {
      type: 'agent',
      id: 'draft',
      agent: EXAMPLE.agent,
      input: 'Write a two-sentence description of a {{ input.product }} for an online shop.',
    },
    {
      type: 'agent',
      id: 'tighten',
      agent: EXAMPLE.agent,
      input: 'Tighten this product description to one sentence of at most 25 words: {{ steps.draft.output }}',
      retry: { attempts: 2, backoff_ms: 500 },
    },
  ],
};
const inputSchemaExample = {
  type: 'object',
  properties: { product: { type: 'string' } },
  required: ['product'],
};

const descriptionField = () =>
  Type.Optional(Type.String({ maxLength: 4096, default: '', description: 'What the workflow does, for people' }));
const inputSchemaField = () =>
  Type.Optional({ ...OutputSchema, description: 'JSON Schema every run input must match (checked before the run starts)' });

export const WorkflowCreateRequest = Type.Object(
  {
    name: Type.String({ pattern: WORKFLOW_NAME_PATTERN, description: 'Workflow name; its runs are tasks of the agent wf.<name>' }),
    description: descriptionField(),
    input_schema: inputSchemaField(),
    graph: nodeSchema('WorkflowCreateNode'),
  },
  {
    additionalProperties: false,
    examples: [{ name: EXAMPLE.workflow, description: EXAMPLE.workflowDescription, input_schema: inputSchemaExample, graph: graphExample }],
  },
);

/** PUT replaces the definition whole (a new version): what it leaves out is empty, not carried over. */
export const WorkflowUpdateRequest = Type.Object(
  {
    description: descriptionField(),
    input_schema: inputSchemaField(),
    graph: nodeSchema('WorkflowUpdateNode'),
  },
  {
    additionalProperties: false,
    examples: [
      {
        description: 'Drafts a product blurb with writer, then tightens it (two attempts per step)',
        input_schema: inputSchemaExample,
        graph: { ...graphExample, steps: graphExample.steps.map((s) => ({ ...s, retry: { attempts: 2, backoff_ms: 500 } })) },
      },
    ],
  },
);

export interface WorkflowDefinition {
  name: string;
  description: string;
  input_schema: Record<string, unknown> | null;
  graph: WorkflowNode;
}

export type WorkflowCreateBody = Static<typeof WorkflowCreateRequest> & { description: string; graph: WorkflowNode };
export type WorkflowUpdateBody = Static<typeof WorkflowUpdateRequest> & { description: string; graph: WorkflowNode };

const workflowRecordExample = {
  name: EXAMPLE.workflow,
  version: 1,
  description: EXAMPLE.workflowDescription,
  input_schema: inputSchemaExample,
  graph: graphExample,
  created_at: EXAMPLE.time,
  updated_at: EXAMPLE.time,
};

export const WorkflowRecord = Type.Object({
  name: Type.String({ description: 'Workflow name' }),
  version: Type.Integer({ description: 'Starts at 1; each PUT adds one. The highest is the current version' }),
  description: Type.String({ description: 'What the workflow does, for people' }),
  input_schema: Type.Union([OpenObject(), Type.Null()], { description: 'JSON Schema of the run input; null when any input goes' }),
  // Typed as the node tree it holds; described (and serialised) as an open object, since the
  // recursive node schema is for validating requests, not for every response.
  graph: Type.Unsafe<WorkflowNode>(OpenObject({ description: 'The graph as defined' })),
  created_at: IsoTime({ description: 'When version 1 was created' }),
  updated_at: IsoTime({ description: 'When this version was created' }),
}, { examples: [workflowRecordExample] });
export type WorkflowRecord = Static<typeof WorkflowRecord>;

export const WorkflowList = Type.Array(WorkflowRecord);

/** One page of workflows (their current versions) by name; `next_cursor` is null on the last page. */
export const WorkflowPage = Type.Object(
  {
    workflows: Type.Array(WorkflowRecord, { description: 'Workflows of this page (their current versions), by name' }),
    next_cursor: Nullable('string', { description: 'Pass as ?cursor= for the next page' }),
  },
  { examples: [{ workflows: [workflowRecordExample], next_cursor: null }] },
);
export type WorkflowPage = Static<typeof WorkflowPage>;

// ---------------------------------------------------------------- service operations (workflows.*)

export const WorkflowGetCommand = Type.Object({ name: Type.String(), version: Type.Optional(Type.Integer({ minimum: 1 })) });
export const WorkflowListCommand = Type.Object({ limit: Type.Integer({ minimum: 1 }), cursor: Type.Optional(Type.String()) });
export const WorkflowUpdateCommand = Type.Object({
  name: Type.String(),
  description: Type.String(),
  input_schema: Type.Optional(OutputSchema),
  graph: WorkflowNodeSchema,
});
export const WorkflowDeleted = Type.Object({ name: Type.String(), versions_deleted: Type.Integer() });

export const RUN_MODES = ['wait', 'background'] as const;

export const RunRequest = Type.Object(
  {
    input: Type.Optional(Type.Unknown({ description: 'The run input; checked against the input_schema', default: {} })),
    mode: Type.Optional(
      Type.Union([Type.Literal('wait'), Type.Literal('background')], {
        default: 'wait',
        description: 'wait: answer the finished run (200); background: answer at once with its id (202)',
      }),
    ),
    timeout_ms: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 86_400_000, description: 'Longest the whole run may take (default TASK_TIMEOUT_MS)' }),
    ),
  },
  { additionalProperties: false, examples: [{ input: { product: EXAMPLE.product }, mode: 'wait' }] },
);
export interface RunBody {
  input: unknown;
  mode: (typeof RUN_MODES)[number];
  timeout_ms?: number;
}

export const STEP_STATUSES = ['pending', 'running', 'completed', 'failed', 'cancelled', 'skipped'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

export const StepRecord = Type.Object({
  path: Type.Array(Type.String(), { description: 'e.g. ["research", "map[2]", "summarise"]' }),
  node_id: Type.String({ description: 'The id of the node the step ran' }),
  type: Type.String({ description: 'The node type: agent, sequence, parallel, map, router or loop' }),
  status: Type.Unsafe<StepStatus>({ type: 'string', enum: STEP_STATUSES, description: 'Step status' }),
  attempts: Type.Integer({ description: 'Times it ran (retries included)' }),
  input: Type.Optional(Type.Unknown({ description: 'The rendered input it was given' })),
  output: Type.Optional(Type.Unknown({ description: 'What it produced, once completed' })),
  error: Nullable('string', { description: 'Why it failed, else null' }),
  error_code: Nullable('string', { description: 'Error code of a failed step, else null' }),
  task_id: Nullable('string', { description: 'The agent task that ran this step' }),
  agent: Nullable('string', { description: 'The agent that ran it; null for nodes that only structure' }),
  tokens: Type.Integer({ description: 'Tokens its tasks used' }),
  started_at: Nullable('string', { description: 'When it started; null while pending' }),
  finished_at: Nullable('string', { description: 'When it ended; null until then' }),
});
export type StepRecord = Static<typeof StepRecord>;

const runFields = {
  run_id: Type.String({ description: "Id of the run (its workflow agent's task id)" }),
  workflow: Type.String({ description: 'Workflow it runs' }),
  version: Type.Integer({ description: 'The version of the workflow it started with' }),
  status: Type.String({ description: 'queued, running, completed, failed or cancelled' }),
  input: Type.Unknown({ description: 'The run input' }),
  output: Type.Optional(Type.Unknown({ description: 'The output of the root node, once completed' })),
  error: Nullable('string', { description: 'Why it failed or was cancelled, else null' }),
  error_code: Nullable('string', { description: 'Error code of a failed run, else null' }),
  parent_run_id: Nullable('string', { description: 'The run that started this one as a step, else null' }),
  created_at: IsoTime({ description: 'When it was accepted' }),
  started_at: Nullable('string', { description: 'When it started; null while queued' }),
  completed_at: Nullable('string', { description: 'When it ended; null until then' }),
  duration_ms: Nullable('number', { description: 'From accepted to ended; null until it ends' }),
  tokens: Type.Integer({ description: 'Tokens of every step' }),
};

const tightened = 'Solar-charged by day, glowing up to ten hours by night: the cable-free desk lamp with three brightness levels.';
const agentStep = (id: string, input: string, output: string, taskId: string, tokens: number) => ({
  path: ['main', id],
  node_id: id,
  type: 'agent',
  status: 'completed',
  attempts: 1,
  input,
  output,
  error: null,
  error_code: null,
  task_id: taskId,
  agent: EXAMPLE.agent,
  tokens,
  started_at: EXAMPLE.time,
  finished_at: EXAMPLE.later,
});
/** A run as lists show it (runs.ts: RunSummary). */
export const RUN_SUMMARY_EXAMPLE = {
  run_id: EXAMPLE.runId,
  workflow: EXAMPLE.workflow,
  version: 1,
  status: 'completed',
  error: null,
  error_code: null,
  parent_run_id: null,
  created_at: EXAMPLE.time,
  started_at: EXAMPLE.time,
  completed_at: '2025-01-31T12:00:07.902Z',
  duration_ms: 7902,
  tokens: 171,
};

export const RunRecord = Type.Object(
  {
    ...runFields,
    steps: Type.Array(StepRecord, { description: 'Every step it ran, in start order; their paths spell the tree' }),
  },
  {
    examples: [
      {
        ...RUN_SUMMARY_EXAMPLE,
        input: { product: EXAMPLE.product },
        output: tightened,
        steps: [
          agentStep('draft', `Write a two-sentence description of a ${EXAMPLE.product} for an online shop.`, EXAMPLE.answer, EXAMPLE.stepTaskId, 93),
          agentStep(
            'tighten',
            `Tighten this product description to one sentence of at most 25 words: ${EXAMPLE.answer}`,
            tightened,
            '01936f50-2a00-7b1c-8d2e-3f4a5b6c7d8e',
            78,
          ),
        ],
      },
    ],
  },
);
export type RunRecord = Static<typeof RunRecord>;
