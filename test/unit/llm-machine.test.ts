// The llm machine on its own, with its `llm` capability replaced by a controllable promise:
// these are the machine's transitions, not an external service.
import { describe, expect, it } from 'vitest';
import { createActor, fromPromise } from 'xstate';
import { llmMachine, type LlmEmitted, type LlmInvocation } from '../../actors/llm/machine.js';
import type { TaskRequest } from '../../actors/protocol.js';
import { AuroraError } from '../../runtime/errors.js';
import type { LlmChatResult } from '../../runtime/providers/llm.js';

const definition = { name: 'm', agent_type: 'llm', model_name: 'llama2', provider: 'ollama', description: '', config: {} };
const task = (id: string): TaskRequest => ({ task_id: id, agent: 'm', prompt: 'p', parameters: {} });
const output = (text: string): LlmChatResult => ({
  text,
  model: 'llama2',
  promptTokens: 1,
  completionTokens: 1,
  totalDurationMs: null,
  loadDurationMs: null,
  promptEvalDurationMs: null,
  evalDurationMs: null,
});

function harness() {
  const calls: { input: LlmInvocation; signal: AbortSignal; resolve(v: LlmChatResult): void; reject(e: unknown): void }[] = [];
  const machine = llmMachine.provide({
    actors: {
      llm: fromPromise<LlmChatResult, LlmInvocation>(
        ({ input, signal }) => new Promise((resolve, reject) => calls.push({ input, signal, resolve, reject })),
      ),
    },
  });
  const actor = createActor(machine, { input: { definition } });
  const emitted: LlmEmitted[] = [];
  for (const type of ['task.done', 'task.error', 'task.cancelled'] as const) actor.on(type, (e) => emitted.push(e));
  const errors: unknown[] = [];
  actor.subscribe({ error: (e) => errors.push(e) });
  actor.start();
  return { actor, calls, emitted, errors };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('llm machine', () => {
  it('starts idle, runs a task, emits its output and returns to idle', async () => {
    const { actor, calls, emitted } = harness();
    expect(actor.getSnapshot().value).toBe('idle');
    actor.send({ type: 'TASK', task: task('t1') });
    expect(actor.getSnapshot().value).toBe('running');
    expect(calls[0]!.input.task.task_id).toBe('t1');
    calls[0]!.resolve(output('hello'));
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
    const { actor, calls, emitted } = harness();
    actor.send({ type: 'TASK', task: task('t1') });
    calls[0]!.reject(new AuroraError('llm_error', 'boom'));
    await settle();
    expect(emitted[0]).toMatchObject({ type: 'task.error', taskId: 't1' });
    expect(actor.getSnapshot().value).toBe('idle');
  });

  it('a defect moves the machine to failed, which its supervisor reads as a crash', async () => {
    const { actor, calls } = harness();
    actor.send({ type: 'TASK', task: task('t1') });
    calls[0]!.reject(new TypeError('bad stream'));
    await settle();
    const snap = actor.getSnapshot();
    expect(snap.value).toBe('failed');
    expect(snap.status).toBe('done');
    expect(snap.context.failure).toBeInstanceOf(TypeError);
  });

  it('cancelling the running task aborts the capability signal and emits task.cancelled', () => {
    const { actor, calls, emitted } = harness();
    actor.send({ type: 'TASK', task: task('t1') });
    actor.send({ type: 'CANCEL', taskId: 'other' });
    expect(calls[0]!.signal.aborted).toBe(false);
    actor.send({ type: 'CANCEL', taskId: 't1' });
    expect(calls[0]!.signal.aborted).toBe(true);
    expect(emitted).toEqual([{ type: 'task.cancelled', taskId: 't1' }]);
    expect(actor.getSnapshot().value).toBe('idle');
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
