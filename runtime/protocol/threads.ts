// Threads: an agent's conversations. Tasks sent with a thread_id see its history and add to it.
import { Type, type Static } from '@sinclair/typebox';
import { IsoTime, Nullable } from './common.js';
import { EXAMPLE } from './examples.js';
import { ThreadMessage } from './llm.js';

const threadFields = {
  thread_id: Type.String({ description: 'Id of the thread: pass it as thread_id on tasks to continue it' }),
  agent: Type.String({ description: 'The agent it belongs to' }),
  agent_id: Type.String({ description: 'The incarnation of the agent it belongs to; only that one may continue it' }),
  title: Nullable('string', { description: 'A label for people; null when none was given' }),
  created_at: IsoTime({ description: 'When the thread was started' }),
  updated_at: IsoTime({ description: 'When a message was last added' }),
  message_count: Type.Integer({ description: 'Messages in the thread' }),
  token_count: Type.Integer({ description: 'Tokens of the messages whose count is known (the model counted them)' }),
};

const threadExample = {
  thread_id: EXAMPLE.threadId,
  agent: EXAMPLE.agent,
  agent_id: EXAMPLE.agentId,
  title: EXAMPLE.threadTitle,
  created_at: EXAMPLE.time,
  updated_at: EXAMPLE.later,
  message_count: 2,
  token_count: 93,
};

export const ThreadRecord = Type.Object(threadFields, { examples: [threadExample] });
export type ThreadRecord = Static<typeof ThreadRecord>;

export const ThreadDetail = Type.Object(
  {
    ...threadFields,
    messages: Type.Array(ThreadMessage, { description: 'The newest messages, oldest first' }),
    truncated: Type.Boolean({ description: 'More messages exist before the first one shown (the answer holds the newest ones)' }),
  },
  {
    examples: [
      {
        ...threadExample,
        messages: [
          { seq: 1, role: 'user', content: EXAMPLE.prompt, tokens: 31, task_id: EXAMPLE.taskId, created_at: EXAMPLE.time },
          { seq: 2, role: 'assistant', content: EXAMPLE.answer, tokens: 62, task_id: EXAMPLE.taskId, created_at: EXAMPLE.later },
        ],
        truncated: false,
      },
    ],
  },
);
export type ThreadDetail = Static<typeof ThreadDetail>;

export const ThreadCreateRequest = Type.Object(
  { title: Type.Optional(Type.String({ maxLength: 200, description: 'A label for people; the model never sees it' })) },
  { additionalProperties: false, examples: [{ title: EXAMPLE.threadTitle }] },
);
export type ThreadCreateBody = Static<typeof ThreadCreateRequest>;

/** One page of a list; `next_cursor` is null on the last page. */
export const ThreadPage = Type.Object(
  {
    threads: Type.Array(ThreadRecord, { description: 'Threads of this page, newest first' }),
    next_cursor: Nullable('string', { description: 'Pass as ?cursor= for the next page' }),
  },
  { examples: [{ threads: [threadExample], next_cursor: null }] },
);
export type ThreadPage = Static<typeof ThreadPage>;
