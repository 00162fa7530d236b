// Idempotency-Key: a client's retry of a request returns the first request's answer instead of
// doing the work again. The gateway claims the key before the work and records the answer after.
import { Type, type Static } from '@sinclair/typebox';
import { EXAMPLE } from './examples.js';

/** Keys clients may send: visible ASCII, no spaces, 1–255 characters. */
export const IDEMPOTENCY_KEY_PATTERN = '^[\\x21-\\x7e]{1,255}$';

export const StoredResponse = Type.Object({
  status: Type.Integer(),
  body: Type.String(),
  headers: Type.Record(Type.String(), Type.String()),
});
export type StoredResponse = Static<typeof StoredResponse>;

export const IdempotencyClaim = Type.Object({
  /** Scoped by the gateway: who asked, which route, which key. */
  key: Type.String(),
  /** What was asked: method, route, parameters and body, hashed. */
  fingerprint: Type.String(),
  /** The task the request runs, when it runs one: a retry joins it. */
  task_id: Type.Optional(Type.String()),
  /** How long the claim holds while the first request runs. */
  pending_ms: Type.Integer({ minimum: 1 }),
});

export const IdempotencyClaimed = Type.Union([
  Type.Object({ state: Type.Literal('claimed') }),
  Type.Object({ state: Type.Literal('pending'), task_id: Type.Optional(Type.String()) }),
  Type.Object({ state: Type.Literal('done'), response: StoredResponse }),
]);
export type IdempotencyClaimed = Static<typeof IdempotencyClaimed>;

export const IdempotencySettle = Type.Object({
  key: Type.String(),
  fingerprint: Type.String(),
  response: StoredResponse,
});

export const IdempotencyRelease = Type.Object({ key: Type.String() });

/** POST /api/v1/tasks: accepted into the agent's mailbox; the outcome comes later. */
export const TaskSubmitted = Type.Object(
  {
    task_id: Type.String({ description: 'Id of the task: GET /api/v1/tasks/{id} reads its outcome' }),
    status: Type.Literal('queued', { description: 'Always `queued`: the task is in the agent\'s mailbox' }),
  },
  { examples: [{ task_id: EXAMPLE.taskId, status: 'queued' }] },
);
export type TaskSubmitted = Static<typeof TaskSubmitted>;
