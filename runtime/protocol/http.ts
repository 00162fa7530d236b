// Shapes only the HTTP gateway answers with (the rest of its answers are records above).
import { Type } from '@sinclair/typebox';
import { IsoTime, Nullable } from './common.js';
import { EXAMPLE } from './examples.js';

/** Every error answer: `{"detail": "..."}`. */
export const ErrorBody = Type.Object(
  { detail: Type.String({ description: 'What went wrong and, where there is one, what to do about it' }) },
  { examples: [{ detail: `Agent ${EXAMPLE.agent} not found` }] },
);

export const Root = Type.Object(
  {
    name: Type.String({ description: 'Service name' }),
    version: Type.String({ description: "Aurora's version (package.json)" }),
    status: Type.String({ description: 'Always `running` when it answers' }),
  },
  { examples: [{ name: 'Aurora Pro AI', version: '0.1.0', status: 'running' }] },
);
export const Health = Type.Object(
  {
    status: Type.String({ description: 'Always `healthy` when it answers' }),
    timestamp: IsoTime({ description: 'When the answer was made' }),
    service: Type.String({ description: 'Service name' }),
  },
  { examples: [{ status: 'healthy', timestamp: EXAMPLE.time, service: 'aurora-pro-ai' }] },
);
const ProbeStatus = (status: string) =>
  Type.Object({ status: Type.String({ description: `Always \`${status}\` when it answers` }) }, { examples: [{ status }] });
/** GET /health/live. */
export const Alive = ProbeStatus('alive');
/** GET /health/startup. */
export const Started = ProbeStatus('started');

const messageField = { message: Type.String({ description: 'What was done, for people' }) };
/** An answer that only says what was done. */
export const Message = Type.Object(messageField);
// One schema per route that answers a Message, so that each carries the example of its own answer.
const MessageOf = (example: string) => Type.Object(messageField, { examples: [{ message: example }] });
/** DELETE /api/v1/threads/{id}. */
export const ThreadDeleted = MessageOf(`Thread ${EXAMPLE.threadId} deleted successfully`);
/** DELETE /api/v1/models/{name}. */
export const ModelUnloaded = MessageOf(`Model ${EXAMPLE.model} unloaded successfully`);

/**
 * The database and the LLM are checked by the node, over the bus: while the bus (or the node
 * behind it) cannot be reached they are not known to be down, and read null.
 */
export const HealthChecks = Type.Object({
  database: Nullable('boolean', { description: 'The node\'s SQLite answers; null when the node could not be asked' }),
  bus: Type.Boolean({ description: 'The bus is connected and a node answers the health check over it' }),
  cache: Type.Boolean({ description: 'The cache (Redis, or the in-memory one) answers' }),
  llm: Nullable('boolean', { description: 'Every LLM provider answers; null when the node could not be asked' }),
});

const readyFields = {
  status: Type.Unsafe<'ready' | 'not_ready'>({ type: 'string', enum: ['ready', 'not_ready'], description: '`ready` only when every check passed' }),
  checks: { ...HealthChecks, description: 'Each dependency: true up, false down, null unknown' },
  timestamp: IsoTime({ description: 'When the checks ran' }),
  detail: Type.Optional(Type.String({ description: 'What is not ready, when something is not' })),
};

/** GET /health/ready, 200. */
export const Ready = Type.Object(readyFields, {
  examples: [{ status: 'ready', checks: { database: true, bus: true, cache: true, llm: true }, timestamp: EXAMPLE.time }],
});

/** GET /health/ready, 503: the same shape, saying what is down. */
export const NotReady = Type.Object(readyFields, {
  examples: [
    {
      status: 'not_ready',
      checks: { database: true, bus: true, cache: true, llm: false },
      timestamp: EXAMPLE.time,
      detail: 'Not ready: llm',
    },
  ],
});

/** A body sent as it is (Prometheus exposition, files). */
export const Text = Type.String({
  description: 'The body as it is (Prometheus text exposition format 0.0.4)',
  examples: [
    '# HELP aurora_tasks_total Tasks finished, by outcome\n# TYPE aurora_tasks_total counter\naurora_tasks_total{outcome="completed"} 1\n',
  ],
});

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
  examples: [
    `id: 1\nevent: task.started\ndata: {"type":"task.started","agent":"${EXAMPLE.agent}","task_id":"${EXAMPLE.taskId}","time":"${EXAMPLE.time}","payload":{}}\n\n` +
      `id: 2\nevent: task.token\ndata: {"type":"task.token","agent":"${EXAMPLE.agent}","task_id":"${EXAMPLE.taskId}","time":"${EXAMPLE.time}","payload":{"token":"Light"}}\n\n`,
  ],
});
