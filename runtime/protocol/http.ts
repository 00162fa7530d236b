// Shapes only the HTTP gateway answers with (the rest of its answers are records above).
import { Type } from '@sinclair/typebox';
import { IsoTime, Nullable } from './common.js';

/** Every error answer: `{"detail": "..."}`. */
export const ErrorBody = Type.Object({ detail: Type.String() });

export const Root = Type.Object({ name: Type.String(), version: Type.String(), status: Type.String() });
export const Health = Type.Object({ status: Type.String(), timestamp: IsoTime(), service: Type.String() });
export const Status = Type.Object({ status: Type.String() });
export const Message = Type.Object({ message: Type.String() });

/**
 * The database and the LLM are checked by the node, over the bus: while the bus (or the node
 * behind it) cannot be reached they are not known to be down, and read null.
 */
export const HealthChecks = Type.Object({
  database: Nullable('boolean', { description: 'The node\'s SQLite answers; null when the node could not be asked' }),
  bus: Type.Boolean({ description: 'The bus is connected and a node answers the health check over it' }),
  cache: Type.Boolean(),
  llm: Nullable('boolean', { description: 'Every LLM provider answers; null when the node could not be asked' }),
});

export const Ready = Type.Object({
  status: Type.Unsafe<'ready' | 'not_ready'>({ type: 'string', enum: ['ready', 'not_ready'] }),
  checks: HealthChecks,
  timestamp: IsoTime(),
  detail: Type.Optional(Type.String()),
});

/** A body sent as it is (Prometheus exposition, files). */
export const Text = Type.String();

/** An artifact's bytes, sent as they are with the artifact's own Content-Type (image/png). */
export const Binary = Type.String({
  description: "The artifact's bytes, with its content type (image/png for screenshots)",
  examples: ['<PNG bytes: 89 50 4E 47 0D 0A 1A 0A …>'],
});

/**
 * A body of Server-Sent Events (text/event-stream): one `id:`, `event:` and `data:` (JSON) per
 * event, a blank line after each.
 */
export const EventStream = Type.String({
  description:
    'Server-Sent Events: per event `id: <per-task index>`, `event: <type>` (task.queued, task.started, task.token, …, ' +
    'task.completed | task.failed | task.cancelled; replay.gap; for execute then task.result | task.error) and ' +
    '`data: <JSON>` (the event as on /api/v1/stream; task.result the TaskResult; task.error {detail, code})',
});
