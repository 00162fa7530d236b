// Events: what happened, published on the bus and streamed to WebSocket clients. The core types
// are listed here; each agent kind adds its own (actors/<kind>/), namespaced by their first word.
import { Type, type Static } from '@sinclair/typebox';
import { IsoTime, Nullable } from './common.js';
import { EXAMPLE } from './examples.js';

export const CORE_EVENT_TYPES = [
  'agent.created',
  'agent.updated',
  'agent.deleted',
  'agent.status',
  'task.queued',
  'task.started',
  'task.token',
  'task.completed',
  'task.failed',
  'task.cancelled',
  'supervisor.crash',
  'supervisor.restart',
  'supervisor.escalation',
  'supervisor.failed',
  'model.loaded',
  'model.unloaded',
  'model.pull.progress',
  'model.pull.completed',
  'model.pull.failed',
  'model.pull.cancelled',
  'node.joined',
  'node.left',
] as const;
export type CoreEventType = (typeof CORE_EVENT_TYPES)[number];

/** `<namespace>.<name>`: lower-case words; the namespace becomes a subject token. */
export const EVENT_TYPE_PATTERN = '^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)+$';

export const AuroraEvent = Type.Object({
  type: Type.String({ pattern: EVENT_TYPE_PATTERN }),
  time: IsoTime(),
  agent: Type.Optional(Type.String()),
  task_id: Type.Optional(Type.String()),
  payload: Type.Record(Type.String(), Type.Unknown()),
  // The workflow run an event belongs to (its task is the run or one of its steps); see RunTrace.
  run_id: Type.Optional(Type.String()),
  parent_run_id: Type.Optional(Type.String()),
  root_run_id: Type.Optional(Type.String()),
  path: Type.Optional(Type.Array(Type.String())),
  lineage: Type.Optional(Type.Array(Type.String())),
});
/** `type` is a CoreEventType or an event type a kind declares. */
export type AuroraEvent = Static<typeof AuroraEvent>;

/** A core event type, or one an agent kind declares. */
export type EventType = CoreEventType | (string & Record<never, never>);

/** An event read back from the node's event log (GET /api/v1/events). */
export const StoredEvent = Type.Object({
  id: Type.Integer({ description: 'Position in the event log; grows with every stored event' }),
  type: Type.String({ description: 'Event type: supervisor.*, agent.created, agent.updated, agent.deleted or model.*' }),
  time: IsoTime({ description: 'When it happened' }),
  agent: Type.Optional(Type.String({ description: 'The agent it concerns, when it concerns one' })),
  task_id: Type.Optional(Type.String({ description: 'The task it concerns, when it concerns one' })),
  payload: Type.Record(Type.String(), Type.Unknown(), { description: 'What the event type carries (restart count, reason, model, …)' }),
});
export type StoredEvent = Static<typeof StoredEvent>;

export const EventListQuery = Type.Object({
  limit: Type.Integer({ minimum: 1 }),
  cursor: Type.Optional(Type.String()),
  /** An exact type, or a prefix ending in '.' (what `supervisor.*` asks for). */
  type: Type.Optional(Type.String()),
  type_prefix: Type.Optional(Type.String()),
  agent: Type.Optional(Type.String()),
  /** ISO time (as toISOString() writes it): events at or after it. */
  since: Type.Optional(Type.String()),
});
export type EventListQuery = Static<typeof EventListQuery>;

/** Newest first; `next_cursor` is null on the last page. */
export const EventPage = Type.Object(
  {
    events: Type.Array(StoredEvent, { description: 'Events of this page, newest first' }),
    next_cursor: Nullable('string', { description: 'Pass as ?cursor= for the next page' }),
  },
  {
    examples: [
      {
        events: [
          {
            id: 42,
            type: 'agent.created',
            time: EXAMPLE.time,
            agent: EXAMPLE.agent,
            payload: { agent_type: EXAMPLE.agentType, model_name: EXAMPLE.model, provider: EXAMPLE.provider },
          },
        ],
        next_cursor: null,
      },
    ],
  },
);
export type EventPage = Static<typeof EventPage>;
