// The llm machine on its own: it asks for effects (llm.chat, thread.read, tool.call) and the test
// answers them the way its host would, with effect.done / effect.failed. These are the machine's
// decisions, not I/O: what it sends the model, when it calls tools, when it stops.
import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import type { MachineEmitted } from '../../actors/kind.js';
import type { LlmConfig } from '../../actors/llm/config.js';
import { estimateTokens, fitHistory } from '../../actors/llm/context.js';
import { LLM_CHAT, THREAD_READ, TOOL_CALL, type ChatInput, type ChatOutput } from '../../actors/llm/effects.js';
import { llmMachine } from '../../actors/llm/machine.js';
import { AuroraError } from '../../runtime/errors.js';
import type { AgentDefinition, TaskParameters, TaskRequest } from '../../runtime/protocol/index.js';

const define = (config: LlmConfig = {}): AgentDefinition => ({
  name: 'm',
  agent_type: 'llm',
  model_name: 'llama2',
  provider: 'ollama',
  description: '',
  config,
});
const task = (id: string, parameters: TaskParameters = {}, extra: Partial<TaskRequest> = {}): TaskRequest => ({
  task_id: id,
  agent: 'm',
  prompt: `prompt of ${id}`,
  parameters,
  ...extra,
});
const answer = (text: string, toolCalls: ChatOutput['toolCalls'] = []): ChatOutput => ({
  text,
  toolCalls,
  model: 'llama2',
  promptTokens: 3,
  completionTokens: 2,
  doneReason: 'stop',
  totalDurationMs: null,
  loadDurationMs: null,
  promptEvalDurationMs: null,
  evalDurationMs: null,
});

type Effect = Extract<MachineEmitted, { type: 'effect' }>;

function harness(config: LlmConfig = {}) {
  const actor = createActor(llmMachine, { input: { definition: define(config) } });
  const emitted: MachineEmitted[] = [];
  actor.on('*', (e) => emitted.push(e));
  const errors: unknown[] = [];
  actor.subscribe({ error: (e) => errors.push(e) });
  actor.start();
  const effects = () => emitted.filter((e): e is Effect => e.type === 'effect');
  const pendingOf = (taskId: string, capability: string) =>
    effects().filter((e) => e.taskId === taskId && e.capability === capability);
  const lastOf = (taskId: string, capability: string) => pendingOf(taskId, capability).at(-1)!;
  const done = (e: Effect, output: unknown) => actor.send({ type: 'effect.done', effectId: e.effectId, taskId: e.taskId, output });
  const failed = (e: Effect, error: unknown) => actor.send({ type: 'effect.failed', effectId: e.effectId, taskId: e.taskId, error });
  const endings = () => emitted.filter((e) => e.type === 'task.done' || e.type === 'task.error' || e.type === 'task.cancelled');
  return { actor, emitted, errors, effects, pendingOf, lastOf, done, failed, endings };
}

describe('llm machine: one task', () => {
  it('sends the system prompt, the options and the prompt, and answers with what the model said', () => {
    const h = harness({ system: 'You are a pirate', options: { temperature: 0.3, top_p: 0.9, stop: ['\n\n'] } });
    h.actor.send({ type: 'TASK', task: task('t1') });
    const chat = h.lastOf('t1', LLM_CHAT);
    const input = chat.input as ChatInput;
    expect(input.messages).toEqual([
      { role: 'system', content: 'You are a pirate' },
      { role: 'user', content: 'prompt of t1' },
    ]);
    expect(input.options).toEqual({ temperature: 0.3, top_p: 0.9, stop: ['\n\n'], num_ctx: 4096 });
    h.done(chat, answer('Arr'));
    expect(h.endings()).toEqual([{ type: 'task.done', taskId: 't1', output: expect.objectContaining({ text: 'Arr', promptTokens: 3 }) }]);
  });

  it('lets the task override what the definition allows, and records the effective settings', () => {
    const h = harness({ system: 'A', options: { temperature: 0.3 } });
    h.actor.send({ type: 'TASK', task: task('t1', { system: 'B', temperature: 1, num_ctx: 8192, max_tokens: 50 }) });
    const input = h.lastOf('t1', LLM_CHAT).input as ChatInput;
    expect(input.messages[0]).toEqual({ role: 'system', content: 'B' });
    expect(input.options).toEqual({ temperature: 1, num_ctx: 8192, num_predict: 50 });
    const details = h.emitted.find((e) => e.type === 'task.details');
    expect(details).toMatchObject({ details: { settings: { system: 'B', options: { temperature: 1, num_ctx: 8192 } } } });
  });

  it('an expected failure of the model fails the task, and the machine carries on', () => {
    const h = harness();
    h.actor.send({ type: 'TASK', task: task('t1') });
    h.failed(h.lastOf('t1', LLM_CHAT), new AuroraError('llm_bad_response', 'garbled'));
    expect(h.endings()).toEqual([{ type: 'task.error', taskId: 't1', error: expect.objectContaining({ code: 'llm_bad_response' }) }]);
    h.actor.send({ type: 'TASK', task: task('t2') });
    expect(h.pendingOf('t2', LLM_CHAT)).toHaveLength(1);
  });

  it('a defect in an effect crashes the machine (its supervisor restarts the agent)', () => {
    const h = harness();
    h.actor.send({ type: 'TASK', task: task('t1') });
    h.failed(h.lastOf('t1', LLM_CHAT), new TypeError('a bug'));
    expect(h.actor.getSnapshot().status).toBe('error');
    expect(h.errors[0]).toBeInstanceOf(TypeError);
  });

  it('a FAULT makes the actor throw, in any state; STOP ends it in stopped', () => {
    const faulty = harness();
    faulty.actor.send({ type: 'FAULT', reason: 'drill' });
    expect(String(faulty.errors[0])).toContain('Injected fault: drill');
    const stopped = harness();
    stopped.actor.send({ type: 'STOP' });
    expect(stopped.actor.getSnapshot()).toMatchObject({ value: 'stopped', status: 'done' });
  });
});

describe('llm machine: slots', () => {
  it('runs several tasks at once and cancels one without touching the other', () => {
    const h = harness();
    h.actor.send({ type: 'TASK', task: task('t1') });
    h.actor.send({ type: 'TASK', task: task('t2') });
    expect(h.effects().map((e) => e.taskId)).toEqual(['t1', 't2']);
    h.actor.send({ type: 'CANCEL', taskId: 't1' });
    h.done(h.lastOf('t1', LLM_CHAT), answer('late'));
    h.done(h.lastOf('t2', LLM_CHAT), answer('two'));
    expect(h.endings().map((e) => [e.type, e.taskId])).toEqual([
      ['task.cancelled', 't1'],
      ['task.done', 't2'],
    ]);
  });

  it('an update applies to tasks that start after it; a running task keeps its settings', () => {
    const h = harness({ system: 'old' });
    h.actor.send({ type: 'TASK', task: task('t1') });
    h.actor.send({ type: 'UPDATE', definition: define({ system: 'new' }) });
    h.actor.send({ type: 'TASK', task: task('t2') });
    expect((h.lastOf('t1', LLM_CHAT).input as ChatInput).messages[0]!.content).toBe('old');
    expect((h.lastOf('t2', LLM_CHAT).input as ChatInput).messages[0]!.content).toBe('new');
  });
});

describe('llm machine: tools', () => {
  const config: LlmConfig = { tools: ['current_time', 'http_fetch'], max_turns: 3 };

  it('runs the calls of one turn in parallel, then thinks again with their results', () => {
    const h = harness(config);
    h.actor.send({ type: 'TASK', task: task('t1') });
    const first = h.lastOf('t1', LLM_CHAT);
    expect((first.input as ChatInput).tools).toEqual(['current_time', 'http_fetch']);
    h.done(first, answer('', [{ name: 'current_time', arguments: {} }, { name: 'http_fetch', arguments: { url: 'https://example.com/' } }]));
    const calls = h.pendingOf('t1', TOOL_CALL);
    expect(calls.map((c) => (c.input as { name: string }).name)).toEqual(['current_time', 'http_fetch']);
    expect(h.pendingOf('t1', LLM_CHAT)).toHaveLength(1);
    h.done(calls[1]!, { content: '<html>example</html>' });
    expect(h.pendingOf('t1', LLM_CHAT)).toHaveLength(1);
    h.done(calls[0]!, { content: '2026-12-03T12:00:00Z' });
    const second = h.lastOf('t1', LLM_CHAT);
    expect((second.input as ChatInput).messages).toEqual([
      { role: 'user', content: 'prompt of t1' },
      {
        role: 'assistant',
        content: '',
        tool_calls: [{ name: 'current_time', arguments: {} }, { name: 'http_fetch', arguments: { url: 'https://example.com/' } }],
      },
      { role: 'tool', content: '2026-12-03T12:00:00Z', tool_name: 'current_time' },
      { role: 'tool', content: '<html>example</html>', tool_name: 'http_fetch' },
    ]);
    h.done(second, answer('It is noon'));
    expect(h.endings()).toMatchObject([{ type: 'task.done', output: { text: 'It is noon', promptTokens: 6, completionTokens: 4 } }]);
    const events = h.emitted.filter((e) => e.type === 'task.event').map((e) => (e as { event: string }).event);
    expect(events).toEqual(['task.tool_call', 'task.tool_call', 'task.tool_result', 'task.tool_result']);
  });

  it('shows a tool failure to the model instead of failing the task', () => {
    const h = harness(config);
    h.actor.send({ type: 'TASK', task: task('t1') });
    h.done(h.lastOf('t1', LLM_CHAT), answer('', [{ name: 'http_fetch', arguments: { url: 'http://127.0.0.1/' } }]));
    h.failed(h.lastOf('t1', TOOL_CALL), new AuroraError('invalid_request', 'http_fetch refused http://127.0.0.1/: loopback'));
    const messages = (h.lastOf('t1', LLM_CHAT).input as ChatInput).messages;
    expect(messages.at(-1)).toEqual({ role: 'tool', content: 'Error: http_fetch refused http://127.0.0.1/: loopback', tool_name: 'http_fetch' });
  });

  it('answers a repeated identical call from memory instead of running it again', () => {
    const h = harness(config);
    h.actor.send({ type: 'TASK', task: task('t1') });
    const call = { name: 'http_fetch', arguments: { url: 'https://a/', b: 1 } };
    h.done(h.lastOf('t1', LLM_CHAT), answer('', [call]));
    h.done(h.lastOf('t1', TOOL_CALL), { content: 'page' });
    h.done(h.lastOf('t1', LLM_CHAT), answer('', [{ name: 'http_fetch', arguments: { b: 1, url: 'https://a/' } }]));
    expect(h.pendingOf('t1', TOOL_CALL)).toHaveLength(1);
    const last = (h.lastOf('t1', LLM_CHAT).input as ChatInput).messages.at(-1)!;
    expect(last.content).toContain('You already called http_fetch with these arguments');
  });

  it('stops a model that keeps asking for tools at max_turns', () => {
    const h = harness(config);
    h.actor.send({ type: 'TASK', task: task('t1') });
    for (let i = 0; i < 2; i++) {
      h.done(h.lastOf('t1', LLM_CHAT), answer('', [{ name: 'current_time', arguments: { n: i } }]));
      h.done(h.lastOf('t1', TOOL_CALL), { content: `t${i}` });
    }
    h.done(h.lastOf('t1', LLM_CHAT), answer('', [{ name: 'current_time', arguments: { n: 9 } }]));
    expect(h.endings()).toMatchObject([{ type: 'task.error', error: { code: 'max_turns_exceeded' } }]);
  });

  it('tells the model a tool it was not given does not exist', () => {
    const h = harness(config);
    h.actor.send({ type: 'TASK', task: task('t1') });
    h.done(h.lastOf('t1', LLM_CHAT), answer('', [{ name: 'rm_rf', arguments: {} }]));
    expect(h.pendingOf('t1', TOOL_CALL)).toHaveLength(0);
    expect((h.lastOf('t1', LLM_CHAT).input as ChatInput).messages.at(-1)!.content).toContain('there is no tool named rm_rf');
  });
});

describe('llm machine: structured output', () => {
  const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false };

  it('sends the schema as format and returns the parsed value beside the text', () => {
    const h = harness({ output_schema: schema });
    h.actor.send({ type: 'TASK', task: task('t1') });
    const chat = h.lastOf('t1', LLM_CHAT);
    expect((chat.input as ChatInput).format).toEqual(schema);
    h.done(chat, answer('{"city":"Oslo"}'));
    expect(h.endings()).toMatchObject([{ type: 'task.done', output: { text: '{"city":"Oslo"}', output: { city: 'Oslo' } } }]);
  });

  it('asks once more with the validation errors, then fails output_invalid', () => {
    const h = harness();
    h.actor.send({ type: 'TASK', task: task('t1', { output_schema: schema }) });
    h.done(h.lastOf('t1', LLM_CHAT), answer('{"town":"Oslo"}'));
    const repair = (h.lastOf('t1', LLM_CHAT).input as ChatInput).messages;
    expect(repair.at(-2)).toEqual({ role: 'assistant', content: '{"town":"Oslo"}' });
    expect(repair.at(-1)!.content).toMatch(/did not match the required JSON Schema: .*city/);
    h.done(h.lastOf('t1', LLM_CHAT), answer('not json'));
    expect(h.endings()).toMatchObject([{ type: 'task.error', error: { code: 'output_invalid' } }]);
  });

  it('accepts a repaired answer', () => {
    const h = harness({ output_schema: schema });
    h.actor.send({ type: 'TASK', task: task('t1') });
    h.done(h.lastOf('t1', LLM_CHAT), answer('nope'));
    h.done(h.lastOf('t1', LLM_CHAT), answer('{"city":"Bergen"}'));
    expect(h.endings()).toMatchObject([{ type: 'task.done', output: { output: { city: 'Bergen' } } }]);
  });
});

describe('llm machine: threads and the context window', () => {
  const turn = (i: number, words: number) => [
    { role: 'user' as const, content: `question ${i} ${'w '.repeat(words)}`, tokens: null },
    { role: 'assistant' as const, content: `answer ${i}`, tokens: 5 },
  ];

  it('reads the thread, replays it before the prompt, and returns the turns to append', () => {
    const h = harness({ system: 'sys' });
    h.actor.send({ type: 'TASK', task: task('t1', {}, { thread_id: 'th' }) });
    const read = h.lastOf('t1', THREAD_READ);
    expect(read.input).toEqual({ thread_id: 'th', limit: 200 });
    h.done(read, { messages: [...turn(1, 1), ...turn(2, 1)] });
    const input = h.lastOf('t1', LLM_CHAT).input as ChatInput;
    expect(input.messages.map((m) => m.content)).toEqual(['sys', 'question 1 w ', 'answer 1', 'question 2 w ', 'answer 2', 'prompt of t1']);
    h.done(h.lastOf('t1', LLM_CHAT), answer('three'));
    expect(h.endings()).toMatchObject([
      {
        type: 'task.done',
        output: {
          messages: [
            { role: 'user', content: 'prompt of t1', tokens: null },
            { role: 'assistant', content: 'three', tokens: 2 },
          ],
        },
      },
    ]);
  });

  it('leaves out the oldest whole turns that do not fit num_ctx, never the system prompt, and says so', () => {
    const h = harness({ system: 'keep me', options: { num_ctx: 400 }, memory: { reserve_tokens: 100 } });
    h.actor.send({ type: 'TASK', task: task('t1', {}, { thread_id: 'th' }) });
    const history = [...turn(1, 600), ...turn(2, 10), ...turn(3, 10)];
    h.done(h.lastOf('t1', THREAD_READ), { messages: history });
    const input = h.lastOf('t1', LLM_CHAT).input as ChatInput;
    expect(input.messages[0]).toEqual({ role: 'system', content: 'keep me' });
    expect(input.messages.map((m) => m.content).join('|')).not.toContain('question 1');
    expect(input.messages.map((m) => m.content)).toContain('answer 3');
    const details = h.emitted.filter((e) => e.type === 'task.details').at(-1);
    h.done(h.lastOf('t1', LLM_CHAT), answer('ok'));
    const final = h.emitted.filter((e) => e.type === 'task.details').at(-1);
    expect(final ?? details).toMatchObject({ details: { context: { omitted_messages: 2, history_messages: 4 } } });
  });

  it('fails context_overflow when the prompt alone does not fit', () => {
    const h = harness({ options: { num_ctx: 256 } });
    h.actor.send({ type: 'TASK', task: { ...task('t1'), prompt: 'x'.repeat(2000) } });
    expect(h.endings()).toMatchObject([{ type: 'task.error', error: { code: 'context_overflow' } }]);
  });

  it('fits whole turns: a turn is kept with everything that followed its user message', () => {
    const history = [...turn(1, 1), ...turn(2, 1)];
    const budget = estimateTokens(history[2]!) + estimateTokens(history[3]!);
    expect(fitHistory(history, 0, budget)).toMatchObject({ omitted: 2, kept: history.slice(2) });
    expect(fitHistory(history, 0, budget - 1)).toMatchObject({ omitted: 4, kept: [] });
    expect(fitHistory(history, budget + 1, budget)).toBeUndefined();
  });
});
