// Events: what happened, published on the bus and streamed to WebSocket clients. The core types
// are listed here; each agent kind adds its own (actors/<kind>/), namespaced by their first word.
import { Type, type Static } from '@sinclair/typebox';
import { IsoTime } from './common.js';

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
});
/** `type` is a CoreEventType or an event type a kind declares. */
export type AuroraEvent = Static<typeof AuroraEvent>;

/** A core event type, or one an agent kind declares. */
export type EventType = CoreEventType | (string & Record<never, never>);
