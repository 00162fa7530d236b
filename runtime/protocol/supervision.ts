// The live supervision tree of a node (GET /api/v1/supervision): every supervisor with its policy
// and its children. Flat, each supervisor naming its parent, rather than nested: the depth is
// small and fixed (root → services and the agents supervisor → agents), and a flat list keeps the
// schema non-recursive for the serializer, the validator and the OpenAPI document alike.
import { Type, type Static } from '@sinclair/typebox';
import { IsoTime, Nullable } from './common.js';

export const SUPERVISION_CHILD_STATUSES = ['running', 'restarting', 'stopped', 'failed'] as const;
export type SupervisionChildStatus = (typeof SUPERVISION_CHILD_STATUSES)[number];

export const SUPERVISION_STRATEGIES = ['one_for_one', 'one_for_all', 'rest_for_one'] as const;
export const SUPERVISION_BUDGETS = ['shared', 'per_child'] as const;
export const SUPERVISOR_STATES_WIRE = ['idle', 'running', 'stopping', 'stopped', 'failed'] as const;
export const CHILD_RESTART_TYPES = ['permanent', 'transient', 'temporary'] as const;

const enumOf = <T extends readonly string[]>(values: T, description: string) =>
  Type.Unsafe<T[number]>({ type: 'string', enum: values, description });

export const SupervisionChild = Type.Object(
  {
    id: Type.String({ description: 'Child id: the service name, the nested supervisor id, or the agent name' }),
    kind: Type.String({ description: "'service', 'supervisor', or the agent kind (llm, workflow, …)" }),
    status: enumOf(SUPERVISION_CHILD_STATUSES, 'Where the child is in its lifecycle, as its supervisor sees it'),
    restart: enumOf(CHILD_RESTART_TYPES, 'When the child is restarted: always, after a crash only, or never'),
    restarts: Type.Integer({ minimum: 0, description: 'Restarts of this child since the node started (any reason)' }),
    last_crash_reason: Nullable('string', { description: "Why it last crashed ('crash' or 'start_failed'); null when it never did" }),
    last_crash_error: Nullable('string', { description: 'The error message of its last crash; null when it never crashed' }),
    last_crash_at: Nullable('string', { description: 'When it last crashed (ISO-8601, UTC); null when it never did' }),
  },
  { description: 'One child of a supervisor' },
);
export type SupervisionChild = Static<typeof SupervisionChild>;

export const SupervisionBudget = Type.Object(
  {
    scope: enumOf(SUPERVISION_BUDGETS, "Whose restarts are counted together: the whole supervisor's, or each child's on its own"),
    max_restarts: Type.Integer({ minimum: 0, description: 'Restarts allowed within period_ms before the supervisor escalates (or the child fails)' }),
    period_ms: Type.Integer({ minimum: 1, description: 'The sliding window of the restart budget, in milliseconds' }),
  },
  { description: 'The restart intensity a supervisor allows' },
);

export const SupervisorNode = Type.Object(
  {
    id: Type.String({ description: 'Supervisor id' }),
    parent: Nullable('string', { description: 'The supervisor this one is a child of; null for the root' }),
    state: enumOf(SUPERVISOR_STATES_WIRE, "The supervisor's own state"),
    strategy: enumOf(SUPERVISION_STRATEGIES, 'Which children restart when one exits'),
    budget: SupervisionBudget,
    children: Type.Array(SupervisionChild, { description: 'Its children, in start order' }),
  },
  { description: 'A supervisor and its children' },
);
export type SupervisorNode = Static<typeof SupervisorNode>;

export const SupervisionTree = Type.Object(
  {
    time: IsoTime({ description: 'When the node took this picture (ISO-8601, UTC)' }),
    supervisors: Type.Array(SupervisorNode, { description: 'Every supervisor of the node, the root first, parents before their children' }),
  },
  {
    description: "The node's supervision tree; the stream's supervisor.* and agent.* events say what changes after it",
    examples: [
      {
        time: '2026-01-01T12:00:00.000Z',
        supervisors: [
          {
            id: 'root',
            parent: null,
            state: 'running',
            strategy: 'one_for_one',
            budget: { scope: 'shared', max_restarts: 5, period_ms: 60000 },
            children: [
              {
                id: 'registry',
                kind: 'service',
                status: 'running',
                restart: 'permanent',
                restarts: 0,
                last_crash_reason: null,
                last_crash_error: null,
                last_crash_at: null,
              },
              {
                id: 'agents',
                kind: 'supervisor',
                status: 'running',
                restart: 'permanent',
                restarts: 0,
                last_crash_reason: null,
                last_crash_error: null,
                last_crash_at: null,
              },
            ],
          },
          {
            id: 'agents',
            parent: 'root',
            state: 'running',
            strategy: 'one_for_one',
            budget: { scope: 'per_child', max_restarts: 5, period_ms: 60000 },
            children: [
              {
                id: 'writer',
                kind: 'llm',
                status: 'running',
                restart: 'permanent',
                restarts: 1,
                last_crash_reason: 'crash',
                last_crash_error: 'Injected fault',
                last_crash_at: '2026-01-01T11:59:30.000Z',
              },
            ],
          },
        ],
      },
    ],
  },
);
export type SupervisionTree = Static<typeof SupervisionTree>;
