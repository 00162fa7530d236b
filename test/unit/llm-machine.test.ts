// The llm machine on its own: it asks for calls with an `llm.chat` effect and the test answers them
// the way its host would, with `effect.done` / `effect.failed`. These are the machine's decisions, not I/O.
import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import type { MachineEmitted } from '../../actors/kind.js';
import { LLM_CHAT, llmMachine, type LlmInvocation } from '../../actors/llm/machine.js';
import type { TaskRequest } from '../../runtime/protocol/index.js';
import { AuroraError } from '../../runtime/errors.js';
import type { LlmChatResult } from '../../runtime/providers/llm.js';

const definition = { name: 'm', agent_type: 'llm', model_name: 'llama2', provider: 'ollama', description: '', config: {} };
const task = (id: string): TaskRequest => ({ task_id: id, agent: 'm', prompt: 'p', parameters: {} });
const output = (text: string): LlmChatResult => ({
  text,
  toolCalls: [],
  model: 'llama2',
  promptTokens: 1,
  completionTokens: 1,
  doneReason: 'stop',
  totalDurationMs: null,
  loadDurationMs: null,
  promptEvalDurationMs: null,
  evalDurationMs: null,
});

function harness() {
  const actor = createActor(llmMachine, { input: { definition } });
  const calls: LlmInvocation[] = [];
  /** The effect the machine last asked for, per task: answers go to it. */
  const effects = new Map<string, string>();
  actor.on('effect', (e) => {
    if (e.capability !== LLM_CHAT) throw new Error(`unexpected capability ${e.capability}`);
    effects.set(e.taskId, e.effectId);
    calls.push(e.input as LlmInvocation);
  });
  const emitted: MachineEmitted[] = [];
  for (const type of ['task.done', 'task.error', 'task.cancelled'] as const) actor.on(type, (e) => emitted.push(e));
  const errors: unknown[] = [];
  actor.subscribe({ error: (e) => errors.push(e) });
  actor.start();
  const effectId = (taskId: string) => effects.get(taskId) ?? taskId;
  const done = (taskId: string, text: string) =>
    actor.send({ type: 'effect.done', effectId: effectId(taskId), taskId, output: output(text) });
  const failed = (taskId: string, error: unknown) => actor.send({ type: 'effect.failed', effectId: effectId(taskId), taskId, error });
  return { actor, calls, emitted, errors, done, failed };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('llm machine', () => {
  it('starts idle, runs a task, emits its output and returns to idle', async () => {
    const { actor, calls, emitted, done } = harness();
    expect(actor.getSnapshot().value).toBe('idle');
    actor.send({ type: 'TASK', task: task('t1') });
    expect(actor.getSnapshot().value).toBe('running');
    expect(calls).toEqual([{ definition, task: task('t1') }]);
    done('t1', 'hello');
    await settle();
    expect(emitted).toEqual([{ type: 'task.done', taskId: 't1', output: output('hello') }]);
    expect(actor.getSnapshot().value).toBe('idle');
  });

  it('ignores a second task while running: the host feeds one at a time', () => {
    const { actor, calls } = harness();
    actor.send({ type: 'TASK', task: task('t1') });
    actor.send({ type: 'TASK', task: task('t2') });
    expect(calls).toHaveLength(1);
    expect(actor.getSnapshot().context.task?.task_id).toBe('t1');
  });

  it('an expected failure (AuroraError) ends the task and the machine stays usable', async () => {
    const { actor, emitted, failed } = harness();
    actor.send({ type: 'TASK', task: task('t1') });
    failed('t1', new AuroraError('llm_error', 'boom'));
    await settle();
    expect(emitted[0]).toMatchObject({ type: 'task.error', taskId: 't1' });
    expect(actor.getSnapshot().value).toBe('idle');
  });

  it('a defect moves the machine to failed, which its supervisor reads as a crash', async () => {
    const { actor, failed } = harness();
    actor.send({ type: 'TASK', task: task('t1') });
    failed('t1', new TypeError('bad stream'));
    await settle();
    const snap = actor.getSnapshot();
    expect(snap.value).toBe('failed');
    expect(snap.status).toBe('done');
    expect(snap.context.failure).toBeInstanceOf(TypeError);
  });

  it('cancelling the running task emits task.cancelled (its host then aborts the call)', () => {
    const { actor, emitted } = harness();
    actor.send({ type: 'TASK', task: task('t1') });
    actor.send({ type: 'CANCEL', taskId: 'other' });
    expect(actor.getSnapshot().value).toBe('running');
    actor.send({ type: 'CANCEL', taskId: 't1' });
    expect(emitted).toEqual([{ type: 'task.cancelled', taskId: 't1' }]);
    expect(actor.getSnapshot().value).toBe('idle');
  });

  it('ignores answers for a task it is not running: a late answer cannot end the next task or fail the machine', () => {
    const { actor, calls, emitted, done, failed } = harness();
    actor.send({ type: 'TASK', task: task('t1') });
    actor.send({ type: 'CANCEL', taskId: 't1' });
    done('t1', 'late');
    actor.send({ type: 'TASK', task: task('t2') });
    done('t1', 'late');
    failed('t1', new TypeError('late defect'));
    expect(actor.getSnapshot().value).toBe('running');
    expect(calls.map((c) => c.task.task_id)).toEqual(['t1', 't2']);
    done('t2', 'mine');
    expect(emitted.map((e) => e.type)).toEqual(['task.cancelled', 'task.done']);
    expect(emitted[1]).toMatchObject({ taskId: 't2', output: { text: 'mine' } });
  });

  it('a FAULT makes the actor throw, in any state', () => {
    const { actor, errors } = harness();
    actor.send({ type: 'FAULT', reason: 'drill' });
    expect(actor.getSnapshot().status).toBe('error');
    expect(String(errors[0])).toContain('Injected fault: drill');
  });

  it('STOP ends the machine in stopped', () => {
    const { actor } = harness();
    actor.send({ type: 'STOP' });
    expect(actor.getSnapshot()).toMatchObject({ value: 'stopped', status: 'done' });
  });
});
