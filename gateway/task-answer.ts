// A task's answer rebuilt from its stored record: for a retry that joined a running task, and for a
// request whose own answer was lost to a bus disconnect.
import { AuroraError, isErrorCode } from '../runtime/errors.js';
import type { TaskRecord, TaskResult } from '../runtime/protocol/index.js';

/**
 * A task's answer rebuilt from its record, for a retry that joined it: the result when it
 * completed, its error when it failed or was cancelled.
 */
export function answerFromRecord(record: TaskRecord): TaskResult {
  if (record.status === 'completed') {
    const usage = (record.details.usage ?? {}) as { prompt_tokens?: number; completion_tokens?: number };
    return {
      task_id: record.task_id,
      agent: record.agent,
      result: record.result ?? '',
      status: 'completed',
      model: record.model ?? '',
      provider: record.provider ?? '',
      tokens_used: record.tokens_used ?? 0,
      prompt_tokens: usage.prompt_tokens ?? 0,
      completion_tokens: usage.completion_tokens ?? 0,
      completed_at: record.completed_at ?? record.created_at,
      duration_ms: record.duration_ms ?? 0,
      timings: record.timings ?? {
        queued_ms: 0,
        total_duration_ms: null,
        load_duration_ms: null,
        prompt_eval_duration_ms: null,
        eval_duration_ms: null,
      },
      ...(record.thread_id !== null && { thread_id: record.thread_id }),
      ...(record.output !== undefined && { output: record.output }),
    };
  }
  if (record.status === 'failed' || record.status === 'cancelled') {
    const code = record.error_code ?? 'internal';
    throw new AuroraError(isErrorCode(code) ? code : 'internal', record.error ?? `Task ${record.task_id} ${record.status}`);
  }
  throw new AuroraError('bus_timeout', `Task ${record.task_id} is still ${record.status}; read it later at /api/v1/tasks/${record.task_id}`);
}
