// Threads: an agent's conversations. Tasks sent with a thread_id see its history and add to it.
import { Type, type Static } from '@sinclair/typebox';
import { IsoTime, Nullable } from './common.js';
import { ThreadMessage } from './llm.js';

export const ThreadRecord = Type.Object({
  thread_id: Type.String(),
  agent: Type.String(),
  agent_id: Type.String({ description: 'The incarnation of the agent it belongs to; only that one may continue it' }),
  title: Nullable('string'),
  created_at: IsoTime(),
  updated_at: IsoTime(),
  message_count: Type.Integer(),
  /** Tokens of the messages whose count is known (the model counted them). */
  token_count: Type.Integer(),
});
export type ThreadRecord = Static<typeof ThreadRecord>;

export const ThreadDetail = Type.Composite([
  ThreadRecord,
  Type.Object({
    messages: Type.Array(ThreadMessage),
    /** More messages exist before the first one shown (the answer holds the newest ones). */
    truncated: Type.Boolean(),
  }),
]);
export type ThreadDetail = Static<typeof ThreadDetail>;

export const ThreadCreateRequest = Type.Object(
  { title: Type.Optional(Type.String({ maxLength: 200, description: 'A label for people; the model never sees it' })) },
  { additionalProperties: false },
);
export type ThreadCreateBody = Static<typeof ThreadCreateRequest>;

/** One page of a list; `next_cursor` is null on the last page. */
export const ThreadPage = Type.Object({
  threads: Type.Array(ThreadRecord),
  next_cursor: Nullable('string', { description: 'Pass as ?cursor= for the next page' }),
});
export type ThreadPage = Static<typeof ThreadPage>;
