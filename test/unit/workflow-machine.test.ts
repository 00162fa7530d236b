// The workflow machine on its own: it loads a run, asks for steps (tasks of other agents), timers
// and the run's end, and the test answers them the way its host would. These are the run's
// decisions: what runs when, what is stopped, what a node answers.
import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import type { MachineEmitted } from '../../actors/kind.js';
import { WORKFLOW_FINISH, WORKFLOW_LOAD, WORKFLOW_STEP, WORKFLOW_TIMER, type StepInput } from '../../actors/workflow/effects.js';
import { workflowMachine } from '../../actors/workflow/machine.js';
import { AuroraError } from '../../runtime/errors.js';
import type { WorkflowNode } from '../../runtime/protocol/index.js';

type Effect = Extract<MachineEmitted, { type: 'effect' }>;

const definition = { name: 'wf', agent_type: 'workflow', model_name: '-', provider: 'none', description: '', config: { workflow: 'wf' } };

function harness(
  graph: WorkflowNode,
  input: unknown = {},
  checkpoints: { path: string[]; output: unknown; tokens: number }[] = [],
  interrupted: { path: string[]; attempts: number }[] = [],
) {
  const actor = createActor(workflowMachine, { input: { definition } });
  const emitted: MachineEmitted[] = [];
  actor.on('*', (e) => emitted.push(e));
  const errors: unknown[] = [];
  actor.subscribe({ error: (e) => errors.push(e) });
  actor.start();
  actor.send({ type: 'TASK', task: { task_id: 'r1', agent: 'wf', prompt: '', parameters: {} } });
  const load = emitted.find((e): e is Effect => e.type === 'effect' && e.capability === WORKFLOW_LOAD)!;
  actor.send({ type: 'effect.done', effectId: load.effectId, taskId: 'r1', output: { graph, input, checkpoints, interrupted, trace: { run_id: 'r1', path: [], lineage: ['r1'] } } });
  const answered = new Set<string>();
  const cancelled = () => emitted.filter((e) => e.type === 'effect.cancel').map((e) => (e as { effectId: string }).effectId);
  /** Steps asked for and not yet answered or cancelled. */
  const open = () =>
    emitted.filter(
      (e): e is Effect => e.type === 'effect' && e.capability === WORKFLOW_STEP && !answered.has(e.effectId) && !cancelled().includes(e.effectId),
    );
  const stepOf = (e: Effect) => e.input as StepInput;
  const find = (pred: (s: StepInput) => boolean) => open().find((e) => pred(stepOf(e)));
  const answer = (e: Effect, output: unknown, tokens = 1) => {
    answered.add(e.effectId);
    actor.send({ type: 'effect.done', effectId: e.effectId, taskId: 'r1', output: { output, tokens } });
  };
  const fail = (e: Effect, error: unknown) => {
    answered.add(e.effectId);
    actor.send({ type: 'effect.failed', effectId: e.effectId, taskId: 'r1', error });
  };
  const timers = () => emitted.filter((e): e is Effect => e.type === 'effect' && e.capability === WORKFLOW_TIMER && !answered.has(e.effectId));
  const fire = (e: Effect) => {
    answered.add(e.effectId);
    actor.send({ type: 'effect.done', effectId: e.effectId, taskId: 'r1', output: null });
  };
  const ending = () => emitted.find((e) => e.type === 'task.done' || e.type === 'task.error');
  const finish = () => emitted.find((e): e is Effect => e.type === 'effect' && e.capability === WORKFLOW_FINISH);
  return { actor, emitted, errors, open, stepOf, find, answer, fail, timers, fire, ending, finish, cancelled };
}

const agent = (id: string, input: string, extra: Partial<WorkflowNode> = {}): WorkflowNode =>
  ({ type: 'agent', id, agent: `${id}-agent`, input, ...extra }) as WorkflowNode;

describe('workflow machine', () => {
  it('runs a sequence, passing each output to the next step through templates', () => {
    const h = harness(
      {
        type: 'sequence',
        id: 'pipeline',
        steps: [agent('research', 'Research {{ input.topic }}'), agent('draft', 'Write about: {{ steps.research.output }}'), agent('edit', 'Edit: {{ steps.draft.output }}')],
      },
      { topic: 'otters' },
    );
    const research = h.find((s) => s.node_id === 'research')!;
    expect(h.stepOf(research)).toMatchObject({ agent: 'research-agent', prompt: 'Research otters', path: ['pipeline', 'research'] });
    expect(h.open()).toHaveLength(1);
    h.answer(research, 'otters hold hands');
    const draft = h.find((s) => s.node_id === 'draft')!;
    expect(h.stepOf(draft).prompt).toBe('Write about: otters hold hands');
    h.answer(draft, { text: 'a draft' });
    expect(h.stepOf(h.find((s) => s.node_id === 'edit')!).prompt).toBe('Edit: {"text":"a draft"}');
    h.answer(h.find((s) => s.node_id === 'edit')!, 'final');
    expect(h.ending()).toMatchObject({ type: 'task.done', output: { text: 'final', completionTokens: 3 } });
    expect(h.finish()!.input).toMatchObject({ status: 'completed', output: 'final', tokens: 3 });
  });

  it('parallel fail_fast stops the other branches when one fails (their tasks are cancelled)', () => {
    const h = harness({ type: 'parallel', id: 'fan', on_error: 'fail_fast', branches: [agent('a', 'x'), agent('b', 'x'), agent('c', 'x')] });
    const [a, b, c] = h.open();
    h.answer(a!, 'ok');
    h.fail(b!, new AuroraError('llm_error', 'b broke'));
    expect(h.cancelled()).toContain(c!.effectId);
    expect(h.ending()).toMatchObject({ type: 'task.error', error: { code: 'llm_error' } });
  });

  it('parallel settle returns every outcome', () => {
    const h = harness({ type: 'parallel', id: 'fan', on_error: 'settle', branches: [agent('a', 'x'), agent('b', 'x')] });
    const [a, b] = h.open();
    h.fail(a!, new AuroraError('timeout', 'slow'));
    expect(h.ending()).toBeUndefined();
    h.answer(b!, 'fine');
    expect(h.ending()).toMatchObject({
      type: 'task.done',
      output: { output: [{ status: 'failed', code: 'timeout' }, { status: 'completed', output: 'fine' }] },
    });
  });

  it('parallel any answers with the first success and stops the rest; quorum waits for N', () => {
    const any = harness({ type: 'parallel', id: 'p', join: 'any', branches: [agent('a', 'x'), agent('b', 'x')] });
    const [a, b] = any.open();
    any.answer(b!, 'b first');
    expect(any.cancelled()).toContain(a!.effectId);
    expect(any.ending()).toMatchObject({ type: 'task.done', output: { output: 'b first' } });
    const quorum = harness({ type: 'parallel', id: 'p', join: 'quorum:2', on_error: 'settle', branches: [agent('a', 'x'), agent('b', 'x'), agent('c', 'x')] });
    const [qa, qb, qc] = quorum.open();
    quorum.fail(qa!, new AuroraError('llm_error', 'no'));
    quorum.answer(qb!, 1);
    expect(quorum.ending()).toBeUndefined();
    quorum.answer(qc!, 2);
    expect(quorum.ending()).toMatchObject({ type: 'task.done', output: { output: [1, 2] } });
  });

  it('map runs a node per item with at most max_concurrency in flight, results in input order', () => {
    const items = Array.from({ length: 20 }, (_, i) => `item ${i}`);
    const h = harness({ type: 'map', id: 'each', items: 'input.items', max_concurrency: 4, node: agent('summarise', 'Summarise {{ item }} ({{ index }})') }, { items });
    let maxOpen = 0;
    const answeredOrder: number[] = [];
    while (h.ending() === undefined) {
      const open = h.open();
      maxOpen = Math.max(maxOpen, open.length);
      // Answer the newest first, to show the output order does not follow completion order.
      const e = open.at(-1)!;
      const index = Number(/\((\d+)\)/.exec(h.stepOf(e).prompt)![1]);
      answeredOrder.push(index);
      h.answer(e, `summary ${index}`);
    }
    expect(maxOpen).toBe(4);
    expect(answeredOrder).not.toEqual([...answeredOrder].sort((x, y) => x - y));
    expect(h.ending()).toMatchObject({ type: 'task.done', output: { output: items.map((_, i) => `summary ${i}`) } });
    expect(h.stepOf(h.emitted.find((e): e is Effect => e.type === 'effect' && e.capability === WORKFLOW_STEP)!).path).toEqual(['each', 'each[0]', 'summarise']);
  });

  it('a router hands off among its routes and stops at max_handoffs', () => {
    const h = harness({
      type: 'router',
      id: 'triage',
      agent: 'boss',
      input: 'Handle {{ input.ticket }}',
      max_handoffs: 2,
      routes: { billing: agent('billing', 'bill'), tech: agent('tech', 'fix') },
    }, { ticket: 'T-1' });
    const decide = () => h.find((s) => s.agent === 'boss')!;
    expect(h.stepOf(decide()).output_schema).toMatchObject({ properties: { route: { enum: ['billing', 'tech', 'finish'] } } });
    h.answer(decide(), { route: 'tech' });
    h.answer(h.find((s) => s.node_id === 'tech')!, 'fixed?');
    h.answer(decide(), { route: 'billing' });
    h.answer(h.find((s) => s.node_id === 'billing')!, 'billed');
    expect(h.ending()).toMatchObject({ type: 'task.error', error: { code: 'max_handoffs_exceeded' } });
  });

  it('a loop repeats its body until the condition holds', () => {
    const h = harness({ type: 'loop', id: 'refine', max_iterations: 5, until: { path: 'output.approved', equals: true }, node: agent('review', 'Round {{ iteration }}') });
    h.answer(h.find(() => true)!, { approved: false });
    expect(h.stepOf(h.find(() => true)!).prompt).toBe('Round 1');
    h.answer(h.find(() => true)!, { approved: true });
    expect(h.ending()).toMatchObject({ type: 'task.done', output: { output: { approved: true } } });
  });

  it('retries a failed node after its backoff, then fails its parent', () => {
    const h = harness({ type: 'sequence', id: 's', steps: [agent('flaky', 'x', { retry: { attempts: 2, backoff_ms: 100 } })] });
    h.fail(h.find(() => true)!, new AuroraError('agent_crashed', 'boom'));
    const [timer] = h.timers();
    expect(timer!.input).toEqual({ ms: 100 });
    h.fire(timer!);
    const again = h.find(() => true)!;
    expect(h.stepOf(again).attempt).toBe(2);
    h.fail(again, new AuroraError('agent_crashed', 'boom again'));
    expect(h.ending()).toMatchObject({ type: 'task.error', error: { code: 'agent_crashed' } });
  });

  it('resumes from checkpoints: completed steps answer at once and only the rest run', () => {
    const graph: WorkflowNode = { type: 'sequence', id: 'p', steps: [agent('one', '{{ input.x }}'), agent('two', 'after {{ steps.one.output }}')] };
    const h = harness(graph, { x: 'go' }, [{ path: ['p', 'one'], output: 'done before', tokens: 5 }]);
    const steps = h.open();
    expect(steps.map((e) => h.stepOf(e).node_id)).toEqual(['two']);
    expect(h.stepOf(steps[0]!).prompt).toBe('after done before');
  });

  it('counts a step a dead process left running as a failed attempt: retried per its policy, else the run fails', () => {
    const retried = harness({ type: 'sequence', id: 'p', steps: [agent('one', 'x', { retry: { attempts: 2 } })] }, {}, [], [{ path: ['p', 'one'], attempts: 1 }]);
    expect(retried.open()).toEqual([]);
    retried.fire(retried.timers()[0]!);
    const [again] = retried.open();
    expect(retried.stepOf(again!).attempt).toBe(2);
    const failed = harness({ type: 'sequence', id: 'p', steps: [agent('one', 'x')] }, {}, [], [{ path: ['p', 'one'], attempts: 1 }]);
    expect(failed.open()).toEqual([]);
    expect(failed.ending()).toMatchObject({ type: 'task.error', error: { code: 'interrupted' } });
  });

  it('cancelling the run cancels every step in flight', () => {
    const h = harness({ type: 'parallel', id: 'p', branches: [agent('a', 'x'), agent('b', 'x')] });
    const ids = h.open().map((e) => e.effectId);
    h.actor.send({ type: 'CANCEL', taskId: 'r1' });
    expect(h.cancelled()).toEqual(expect.arrayContaining(ids));
    expect(h.emitted.at(-1)).toEqual({ type: 'task.cancelled', taskId: 'r1' });
  });

  it('a node past its timeout fails and its subtree is stopped', () => {
    const h = harness({ type: 'sequence', id: 's', timeout_ms: 50, steps: [agent('slow', 'x')] });
    const step = h.open()[0]!;
    const [timer] = h.timers();
    expect(timer!.input).toEqual({ ms: 50 });
    h.fire(timer!);
    expect(h.cancelled()).toContain(step.effectId);
    expect(h.ending()).toMatchObject({ type: 'task.error', error: { code: 'timeout' } });
  });

  it('a template that reads nothing fails the run with a clear message', () => {
    const h = harness({ type: 'sequence', id: 's', steps: [agent('a', '{{ input.missing }}')] });
    expect(h.ending()).toMatchObject({ type: 'task.error', error: { code: 'invalid_request', message: expect.stringContaining('input.missing') } });
  });
});
