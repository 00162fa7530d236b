// Workflows: graphs of agent tasks (sequence, parallel, map, router, loop) that run as supervised
// trees. A definition is versioned; a run keeps the version it started with.
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { AgentName, IsoTime, Nullable, OpenObject } from './common.js';
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
  retry: Type.Optional(Retry),
};

/** A condition on a value, without code: a path in the run's data compared to a constant. */
export const Condition = Type.Object(
  {
    path: Type.String({ maxLength: 512, description: 'e.g. output.approved, or steps.review.output.score' }),
    equals: Type.Optional(Type.Unknown()),
    not_equals: Type.Optional(Type.Unknown()),
    contains: Type.Optional(Type.String()),
    exists: Type.Optional(Type.Boolean()),
    gte: Type.Optional(Type.Number()),
    lte: Type.Optional(Type.Number()),
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
              type: Type.Literal('agent'),
              ...common,
              agent: AgentName(),
              input: Template,
              thread: Type.Optional(Template),
              output_schema: Type.Optional(OutputSchema),
            },
            { additionalProperties: false },
          ),
          Type.Object(
            { type: Type.Literal('sequence'), ...common, steps: Type.Array(Node, { minItems: 1, maxItems: WORKFLOW_LIMITS.maxNodes }) },
            { additionalProperties: false },
          ),
          Type.Object(
            {
              type: Type.Literal('parallel'),
              ...common,
              branches: Type.Array(Node, { minItems: 1, maxItems: WORKFLOW_LIMITS.maxBranches }),
              join: Type.Optional(Type.String({ pattern: '^(all|any|quorum:[1-9][0-9]*)$', description: 'all, any, or quorum:N' })),
              on_error: Type.Optional(Type.Union([Type.Literal('fail_fast'), Type.Literal('settle')])),
              max_concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: WORKFLOW_LIMITS.maxConcurrency })),
            },
            { additionalProperties: false },
          ),
          Type.Object(
            {
              type: Type.Literal('map'),
              ...common,
              items: Type.String({ maxLength: 512, description: 'Path to a list: input.topics, or steps.<id>.output.items' }),
              node: Node,
              max_concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: WORKFLOW_LIMITS.maxConcurrency })),
            },
            { additionalProperties: false },
          ),
          Type.Object(
            {
              type: Type.Literal('router'),
              ...common,
              agent: AgentName(),
              input: Template,
              routes: Type.Record(Type.String({ pattern: NODE_ID_PATTERN }), Node, { minProperties: 1 }),
              max_handoffs: Type.Optional(Type.Integer({ minimum: 1, maximum: WORKFLOW_LIMITS.maxHandoffs })),
            },
            { additionalProperties: false },
          ),
          Type.Object(
            {
              type: Type.Literal('loop'),
              ...common,
              node: Node,
              until: Type.Optional(Condition),
              max_iterations: Type.Integer({ minimum: 1, maximum: WORKFLOW_LIMITS.maxIterations }),
            },
            { additionalProperties: false },
          ),
        ],
      }),
    { $id },
  ) as unknown as TSchema;

/**
 * Each request embeds its own copy under its own $id: the OpenAPI document holds both requests, and
 * one $id defined twice in a document is an error there.
 */
export const WorkflowNodeSchema = nodeSchema('WorkflowNode');

export const WorkflowCreateRequest = Type.Object(
  {
    name: Type.String({ pattern: WORKFLOW_NAME_PATTERN, description: 'Workflow name; its runs are tasks of the agent wf.<name>' }),
    description: Type.Optional(Type.String({ maxLength: 4096, default: '' })),
    input_schema: Type.Optional(OutputSchema),
    graph: nodeSchema('WorkflowCreateNode'),
  },
  { additionalProperties: false },
);

/** PUT replaces the definition whole (a new version): what it leaves out is empty, not carried over. */
export const WorkflowUpdateRequest = Type.Object(
  {
    description: Type.Optional(Type.String({ maxLength: 4096, default: '' })),
    input_schema: Type.Optional(OutputSchema),
    graph: nodeSchema('WorkflowUpdateNode'),
  },
  { additionalProperties: false },
);

export interface WorkflowDefinition {
  name: string;
  description: string;
  input_schema: Record<string, unknown> | null;
  graph: WorkflowNode;
}

export type WorkflowCreateBody = Static<typeof WorkflowCreateRequest> & { description: string; graph: WorkflowNode };
export type WorkflowUpdateBody = Static<typeof WorkflowUpdateRequest> & { description: string; graph: WorkflowNode };

export const WorkflowRecord = Type.Object({
  name: Type.String(),
  version: Type.Integer({ description: 'Starts at 1; each PUT adds one. The highest is the current version' }),
  description: Type.String(),
  input_schema: Type.Union([OpenObject(), Type.Null()]),
  // Typed as the node tree it holds; described (and serialised) as an open object, since the
  // recursive node schema is for validating requests, not for every response.
  graph: Type.Unsafe<WorkflowNode>(OpenObject({ description: 'The graph as defined' })),
  created_at: IsoTime({ description: 'When version 1 was created' }),
  updated_at: IsoTime({ description: 'When this version was created' }),
});
export type WorkflowRecord = Static<typeof WorkflowRecord>;

export const WorkflowList = Type.Array(WorkflowRecord);

/** One page of workflows (their current versions) by name; `next_cursor` is null on the last page. */
export const WorkflowPage = Type.Object({
  workflows: WorkflowList,
  next_cursor: Nullable('string', { description: 'Pass as ?cursor= for the next page' }),
});
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
    mode: Type.Optional(Type.Union([Type.Literal('wait'), Type.Literal('background')], { default: 'wait' })),
    timeout_ms: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400_000 })),
  },
  { additionalProperties: false },
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
  node_id: Type.String(),
  type: Type.String(),
  status: Type.Unsafe<StepStatus>({ type: 'string', enum: STEP_STATUSES }),
  attempts: Type.Integer(),
  input: Type.Optional(Type.Unknown()),
  output: Type.Optional(Type.Unknown()),
  error: Nullable('string'),
  error_code: Nullable('string'),
  task_id: Nullable('string', { description: 'The agent task that ran this step' }),
  agent: Nullable('string'),
  tokens: Type.Integer(),
  started_at: Nullable('string'),
  finished_at: Nullable('string'),
});
export type StepRecord = Static<typeof StepRecord>;

export const RunRecord = Type.Object({
  run_id: Type.String(),
  workflow: Type.String(),
  version: Type.Integer(),
  status: Type.String(),
  input: Type.Unknown(),
  output: Type.Optional(Type.Unknown()),
  error: Nullable('string'),
  error_code: Nullable('string'),
  parent_run_id: Nullable('string'),
  created_at: IsoTime(),
  started_at: Nullable('string'),
  completed_at: Nullable('string'),
  duration_ms: Nullable('number'),
  tokens: Type.Integer(),
  steps: Type.Array(StepRecord),
});
export type RunRecord = Static<typeof RunRecord>;
