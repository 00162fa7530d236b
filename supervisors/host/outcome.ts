// What a task's end leaves behind: its record (and its thread's new turns, in the same turn and so
// the same SQLite transaction), its metrics, its event, and the reply its requester gets once all
// of that is committed.
import { isoNow, type Clock } from '../../runtime/clock.js';
import { AuroraError, toErrorPayload } from '../../runtime/errors.js';
import type { EventPublisher } from '../../runtime/events.js';
import type { Metrics } from '../../runtime/metrics.js';
import type { AgentDefinition, Reply, TaskOutcome, TaskResult } from '../../runtime/protocol/index.js';
import type { Store } from '../../runtime/store/index.js';
import type { Pending } from './pending.js';

export interface OutcomeDeps {
  readonly store: Store;
  readonly events: EventPublisher;
  readonly metrics: Metrics;
  readonly clock: Clock;
}

const ms = (value: number): number => Math.round(value * 1000) / 1000;

/** Records how `pending` ended and answers its requester once the record is committed. */
export function recordOutcome(deps: OutcomeDeps, agent: AgentDefinition, pending: Pending, outcome: TaskOutcome | AuroraError): void {
  pending.deadline.cancel();
  const { task } = pending;
  const { metrics, store, events, clock } = deps;
  const durationMs = ms(clock.monotonic() - pending.acceptedAt);
  const completedAt = isoNow(clock);
  let reply: Reply<TaskResult>;
  if (outcome instanceof AuroraError) {
    const status = outcome.code === 'task_cancelled' ? 'cancelled' : 'failed';
    store.tasks.fail(task.task_id, {
      status,
      error: outcome.message,
      error_code: outcome.code,
      completed_at: completedAt,
      duration_ms: durationMs,
      ...(pending.details !== undefined && { details: pending.details }),
    });
    metrics.tasks.inc({ outcome: status });
    metrics.taskDuration.observe({ outcome: status }, durationMs / 1000);
    events.publish(status === 'cancelled' ? 'task.cancelled' : 'task.failed', {
      agent: agent.name,
      task_id: task.task_id,
      payload: { code: outcome.code, detail: outcome.message },
      trace: task.trace,
    });
    reply = { ok: false, error: toErrorPayload(outcome) };
  } else {
    const result: TaskResult = {
      task_id: task.task_id,
      agent: agent.name,
      result: outcome.text,
      status: 'completed',
      model: outcome.model,
      provider: agent.provider,
      tokens_used: outcome.promptTokens + outcome.completionTokens,
      prompt_tokens: outcome.promptTokens,
      completion_tokens: outcome.completionTokens,
      completed_at: completedAt,
      duration_ms: durationMs,
      timings: {
        queued_ms: ms(pending.startedAt - pending.acceptedAt),
        total_duration_ms: outcome.totalDurationMs,
        load_duration_ms: outcome.loadDurationMs,
        prompt_eval_duration_ms: outcome.promptEvalDurationMs,
        eval_duration_ms: outcome.evalDurationMs,
      },
      ...(task.thread_id !== undefined && { thread_id: task.thread_id }),
      ...(outcome.output !== undefined && { output: outcome.output }),
    };
    if (task.thread_id !== undefined && outcome.messages !== undefined) {
      store.threads.append(task.thread_id, outcome.messages, task.task_id, completedAt);
    }
    store.tasks.complete(task.task_id, {
      result: result.result,
      model: result.model,
      provider: result.provider,
      tokens_used: result.tokens_used,
      completed_at: completedAt,
      duration_ms: durationMs,
      timings: result.timings,
      ...(outcome.output !== undefined && { output: outcome.output }),
      // The split of tokens is kept so the answer can be rebuilt from the record (a retry joining late).
      details: { ...pending.details, usage: { prompt_tokens: outcome.promptTokens, completion_tokens: outcome.completionTokens } },
    });
    store.agents.touchLastRun(agent.name, completedAt);
    metrics.tasks.inc({ outcome: 'completed' });
    metrics.taskDuration.observe({ outcome: 'completed' }, durationMs / 1000);
    metrics.tokens.inc({ direction: 'prompt' }, outcome.promptTokens);
    metrics.tokens.inc({ direction: 'completion' }, outcome.completionTokens);
    events.publish('task.completed', {
      agent: agent.name,
      task_id: task.task_id,
      payload: { tokens_used: result.tokens_used, duration_ms: durationMs },
      trace: task.trace,
    });
    reply = { ok: true, data: result };
  }
  // Answered once the outcome is committed, so a crash cannot undo what the requester was told.
  store.afterCommit((committed) => {
    const answer: Reply<TaskResult> = committed
      ? reply
      : { ok: false, error: { code: 'internal', message: 'the task outcome could not be stored' } };
    pending.reply(answer);
    if (pending.joiners !== null) for (const join of pending.joiners) join(answer);
  });
}
