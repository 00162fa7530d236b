// Threads and their messages. Appending a task's messages happens in the same group-commit
// transaction as the task's completion (both are written in the same turn), so a thread never
// holds the answer of a task that is not recorded as completed, nor the reverse.
import type { Database } from 'better-sqlite3';
import { AuroraError } from '../errors.js';
import type { NewThreadMessage, ThreadMessage, ThreadRecord } from '../protocol/index.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { fromJson, toJson } from './json.js';

export interface ThreadPageQuery {
  /** One incarnation of an agent: a new agent of an old name does not list the old one's threads. */
  agent_id: string;
  limit: number;
  cursor?: string;
}

export interface ThreadRepository {
  /** Throws AuroraError('agent_not_found') when the agent does not exist; stamps its agent_id. */
  create(thread: { thread_id: string; agent: string; title: string | null }, at: string): ThreadRecord;
  get(id: string): ThreadRecord | undefined;
  /** The newest `limit` messages in thread order, and whether older ones exist. */
  messages(id: string, limit: number): { messages: ThreadMessage[]; truncated: boolean };
  /** Appends in order; numbers them after the last one. False when the thread is gone. */
  append(id: string, messages: readonly NewThreadMessage[], taskId: string, at: string): boolean;
  /** Deletes the thread and its messages. False when there was no such thread. */
  delete(id: string): boolean;
  /** Deletes every thread of one agent incarnation, messages included; returns how many threads. */
  deleteByAgentId(agentId: string): number;
  /** Newest first, a page at a time. */
  page(query: ThreadPageQuery): { threads: ThreadRecord[]; next_cursor: string | null };
}

type MessageRow = Omit<ThreadMessage, 'tool_calls' | 'tool_name'> & { tool_calls: string | null; tool_name: string | null };

const THREAD_COLUMNS = 'thread_id, agent, agent_id, title, created_at, updated_at, message_count, token_count';
const MESSAGE_COLUMNS = 'seq, role, content, tool_calls, tool_name, tokens, task_id, created_at';

export function createThreadRepository(db: Database): ThreadRepository {
  // Threads outlive their agent, so no foreign key checks it: the row is inserted only if the agent
  // exists, stamped with its agent_id, in one statement.
  const insert = db.prepare<Omit<ThreadRecord, 'agent_id' | 'message_count' | 'token_count'>, string>(
    `INSERT INTO threads (${THREAD_COLUMNS})
     SELECT @thread_id, name, agent_id, @title, @created_at, @updated_at, 0, 0 FROM agents WHERE name = @agent
     RETURNING agent_id`,
  ).pluck();
  const get = db.prepare<[string], ThreadRecord>(`SELECT ${THREAD_COLUMNS} FROM threads WHERE thread_id = ?`);
  const newest = db.prepare<[string, number], MessageRow>(
    `SELECT ${MESSAGE_COLUMNS} FROM thread_messages WHERE thread_id = ? ORDER BY seq DESC LIMIT ?`,
  );
  const insertMessage = db.prepare<MessageRow & { thread_id: string }>(
    `INSERT INTO thread_messages (thread_id, ${MESSAGE_COLUMNS})
     VALUES (@thread_id, @seq, @role, @content, @tool_calls, @tool_name, @tokens, @task_id, @created_at)`,
  );
  const bump = db.prepare<{ id: string; count: number; tokens: number; at: string }>(
    `UPDATE threads SET message_count = message_count + @count, token_count = token_count + @tokens, updated_at = @at
     WHERE thread_id = @id`,
  );
  const remove = db.prepare<[string]>('DELETE FROM threads WHERE thread_id = ?');
  const removeByAgentId = db.prepare<[string]>('DELETE FROM threads WHERE agent_id = ?');
  const firstPage = db.prepare<{ agent_id: string; limit: number }, ThreadRecord>(
    `SELECT ${THREAD_COLUMNS} FROM threads WHERE agent_id = @agent_id
     ORDER BY created_at DESC, thread_id DESC LIMIT @limit`,
  );
  const nextPage = db.prepare<{ agent_id: string; limit: number; at: string; id: string }, ThreadRecord>(
    `SELECT ${THREAD_COLUMNS} FROM threads WHERE agent_id = @agent_id AND (created_at, thread_id) < (@at, @id)
     ORDER BY created_at DESC, thread_id DESC LIMIT @limit`,
  );

  return {
    create(thread, at) {
      const agentId = insert.get({ ...thread, created_at: at, updated_at: at });
      if (agentId === undefined) throw new AuroraError('agent_not_found', `Agent ${thread.agent} not found`);
      return { ...thread, agent_id: agentId, created_at: at, updated_at: at, message_count: 0, token_count: 0 };
    },
    get: (id) => get.get(id),
    messages(id, limit) {
      const rows = newest.all(id, limit + 1);
      const truncated = rows.length > limit;
      return { messages: rows.slice(0, limit).reverse().map(toMessage), truncated };
    },
    append(id, messages, taskId, at) {
      const thread = get.get(id);
      if (thread === undefined) return false;
      let seq = thread.message_count;
      let tokens = 0;
      for (const m of messages) {
        seq += 1;
        tokens += m.tokens ?? 0;
        insertMessage.run({
          thread_id: id,
          seq,
          role: m.role,
          content: m.content,
          tool_calls: m.tool_calls === undefined ? null : toJson(m.tool_calls),
          tool_name: m.tool_name ?? null,
          tokens: m.tokens,
          task_id: taskId,
          created_at: at,
        });
      }
      bump.run({ id, count: messages.length, tokens, at });
      return true;
    },
    delete: (id) => remove.run(id).changes > 0,
    deleteByAgentId: (agentId) => removeByAgentId.run(agentId).changes,
    page({ agent_id, limit, cursor }) {
      const rows =
        cursor === undefined
          ? firstPage.all({ agent_id, limit: limit + 1 })
          : (() => {
              const [at, id] = decodeCursor('threads', cursor, ['s', 's']) as [string, string];
              return nextPage.all({ agent_id, limit: limit + 1, at, id });
            })();
      const threads = rows.slice(0, limit);
      const last = threads.at(-1);
      return {
        threads,
        next_cursor: rows.length > limit && last !== undefined ? encodeCursor('threads', [last.created_at, last.thread_id]) : null,
      };
    },
  };
}

function toMessage(row: MessageRow): ThreadMessage {
  const { tool_calls, tool_name, ...rest } = row;
  const message: ThreadMessage = { ...rest };
  if (tool_calls !== null) message.tool_calls = fromJson(tool_calls);
  if (tool_name !== null) message.tool_name = tool_name;
  return message;
}
