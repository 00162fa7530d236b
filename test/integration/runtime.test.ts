// The runtime core end to end on a real bus (in-process and NATS), real SQLite files and the fake
// Ollama server: agents run tasks, stream tokens, crash, get restarted, fail, and come back.
import { afterAll, afterEach, beforeAll, beforeEach, describe as group, expect, it } from 'vitest';
import type { AgentRecord, AuroraEvent, TaskResult } from '../../runtime/protocol/index.js';
import { AuroraError } from '../../runtime/errors.js';
import { openStore } from '../../runtime/store/index.js';
import { startFakeOllama, type FakeOllama } from '../fixtures/fake-ollama.js';
import { startTestNode, tempDbPath, type BusKind, type TestNode } from '../helpers/runtime.js';
import { describeWithService, NATS_URL } from '../helpers/services.js';

const agentDef = (name: string, model_name = 'llama2') => ({
  name,
  agent_type: 'llm',
  model_name,
  provider: 'ollama',
  description: `test agent ${name}`,
  config: {},
});

const task = (agent: string, prompt: string, parameters = {}) => ({
  task_id: crypto.randomUUID(),
  agent,
  prompt,
  parameters,
});

async function rejection(p: Promise<unknown>): Promise<AuroraError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof AuroraError) return err;
    throw err;
  }
  throw new Error('expected the promise to reject');
}

function restartCount(node: TestNode, agent: string): number {
  const values = (node.metrics.supervisorRestarts as unknown as { hashMap: Record<string, { value: number; labels: Record<string, string> }> })
    .hashMap;
  return Object.values(values)
    .filter((v) => v.labels.agent === agent)
    .reduce((sum, v) => sum + v.value, 0);
}

function runtimeSuite(busKind: BusKind) {
  let fake: FakeOllama;
  let db: ReturnType<typeof tempDbPath>;
  let node: TestNode;
  const start = (overrides = {}) =>
    startTestNode({ busKind, natsUrl: NATS_URL, ollamaUrl: fake.url, dbPath: db.path, overrides: { faultInjection: true, ...overrides } });

  beforeAll(async () => {
    fake = await startFakeOllama();
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(async () => {
    fake.setFault(null);
    db = tempDbPath();
  });
  afterEach(async () => {
    await node?.stop();
    db.cleanup();
  });

  const runTask = (t: ReturnType<typeof task>) =>
    node.ask('agent.task', node.subjects.agentTask(t.agent), t, 15_000) as Promise<TaskResult>;

  it('runs a task and streams its tokens in order, then stores the result', async () => {
    node = await start();
    await node.ask('registry.create', node.subjects.registry('create'), agentDef('writer'));
    const rec = node.record();
    const t = task('writer', 'the quick brown fox', { system: 'be brief', max_tokens: 50, temperature: 0.2, seed: 7 });
    const result = await runTask(t);

    expect(result.result).toBe('be brief the quick brown fox');
    expect(result.model).toBe('llama2');
    expect(result.provider).toBe('ollama');
    expect(result.tokens_used).toBe(result.prompt_tokens + result.completion_tokens);
    expect(result.completion_tokens).toBe(6);
    await rec.until((es) => es.some((e) => e.type === 'task.completed' && e.task_id === t.task_id));
    const tokens = rec.events.filter((e) => e.type === 'task.token' && e.task_id === t.task_id);
    expect(tokens.map((e) => e.payload.index)).toEqual(tokens.map((_, i) => i));
    expect(tokens.map((e) => e.payload.token).join('')).toBe(result.result);
    const types = rec.events.filter((e) => e.task_id === t.task_id).map((e) => e.type);
    expect(types[0]).toBe('task.queued');
    expect(types[1]).toBe('task.started');
    expect(types.at(-1)).toBe('task.completed');

    const stored = node.store.tasks.get(t.task_id)!;
    expect(stored).toMatchObject({ status: 'completed', result: result.result, tokens_used: result.tokens_used, model: 'llama2' });
    const chat = fake.requests.find((r) => r.path === '/api/chat')!.body as { options: Record<string, unknown> };
    expect(chat.options).toMatchObject({ temperature: 0.2, num_predict: 50, seed: 7 });
    const agent = await node.ask('registry.get', node.subjects.registry('get'), { name: 'writer' });
    expect(agent.last_run).toBe(result.completed_at);
  });

  it('runs tasks for one agent one at a time in arrival order, and different agents concurrently', async () => {
    node = await start({ agentMaxConcurrency: 1 });
    await node.ask('registry.create', node.subjects.registry('create'), agentDef('a'));
    await node.ask('registry.create', node.subjects.registry('create'), agentDef('b'));
    fake.setFault({ kind: 'slow', tokenDelayMs: 5 });
    const rec = node.record();
    const ts = [task('a', 'one two'), task('a', 'three four'), task('b', 'five six'), task('a', 'seven')];
    const results = await Promise.all(ts.map(runTask));
    expect(results.map((r) => r.result)).toEqual(['one two', 'three four', 'five six', 'seven']);
    const starts = rec.events.filter((e) => e.type === 'task.started' || e.type === 'task.completed');
    const aOrder = starts.filter((e) => e.agent === 'a').map((e) => `${e.type}:${ts.findIndex((t) => t.task_id === e.task_id)}`);
    expect(aOrder).toEqual(['task.started:0', 'task.completed:0', 'task.started:1', 'task.completed:1', 'task.started:3', 'task.completed:3']);
    // b started before a's first task completed: agents do not wait for each other.
    const bStart = starts.findIndex((e) => e.agent === 'b' && e.type === 'task.started');
    const aFirstDone = starts.findIndex((e) => e.agent === 'a' && e.type === 'task.completed');
    expect(bStart).toBeLessThan(aFirstDone);
  });

  it('refuses a task beyond the mailbox bound with queue_full and keeps the accepted ones', async () => {
    node = await start({ mailboxSize: 2, agentMaxConcurrency: 1 });
    await node.ask('registry.create', node.subjects.registry('create'), agentDef('busy'));
    fake.setFault({ kind: 'stall', afterTokens: 1 });
    const rec = node.record();
    const first = runTask(task('busy', 'running'));
    await rec.until((es) => es.some((e) => e.type === 'task.started'));
    const queued = [runTask(task('busy', 'q1')), runTask(task('busy', 'q2'))];
    await rec.until((es) => es.filter((e) => e.type === 'task.queued').length === 3);
    const err = await rejection(runTask(task('busy', 'overflow')));
    expect(err.code).toBe('queue_full');
    fake.setFault(null);
    const cancel = await node.ask('tasks.list', node.subjects.tasks('list'), { agent: 'busy', status: 'running', limit: 5 });
    await node.ask('tasks.cancel', node.subjects.tasks('cancel'), { task_id: cancel.tasks[0]!.task_id });
    expect((await rejection(first)).code).toBe('task_cancelled');
    expect((await Promise.all(queued)).map((r) => r.result)).toEqual(['q1', 'q2']);
  });

  it('cancelling a running task closes the request to Ollama and records it as cancelled', async () => {
    node = await start();
    await node.ask('registry.create', node.subjects.registry('create'), agentDef('talker'));
    fake.setFault({ kind: 'stall', afterTokens: 2 });
    const rec = node.record();
    const t = task('talker', 'a long answer please');
    const pending = runTask(t);
    await rec.until((es) => es.filter((e) => e.type === 'task.token' && e.task_id === t.task_id).length >= 2);
    const aborted = fake.waitForClientAbort(1);
    const answer = await node.ask('tasks.cancel', node.subjects.tasks('cancel'), { task_id: t.task_id });
    expect(answer.status).toBe('cancelled');
    await aborted;
    expect((await rejection(pending)).code).toBe('task_cancelled');
    expect(node.store.tasks.get(t.task_id)).toMatchObject({ status: 'cancelled', error_code: 'task_cancelled' });
    // the agent is free again
    fake.setFault(null);
    expect((await runTask(task('talker', 'next'))).result).toBe('next');
  });

  it('a task that runs past its timeout fails with timeout and its Ollama request is closed', async () => {
    node = await start();
    await node.ask('registry.create', node.subjects.registry('create'), agentDef('slowpoke'));
    fake.setFault({ kind: 'stall', afterTokens: 1 });
    const aborted = fake.waitForClientAbort(1);
    const err = await rejection(runTask(task('slowpoke', 'never ends', { timeout_ms: 300 })));
    expect(err.code).toBe('timeout');
    await aborted;
  });

  it('an Ollama failure fails only the task: unknown model, HTTP 500, dropped connection', async () => {
    node = await start();
    await node.ask('registry.create', node.subjects.registry('create'), agentDef('ghost', 'no-such-model'));
    await node.ask('registry.create', node.subjects.registry('create'), agentDef('real'));
    expect((await rejection(runTask(task('ghost', 'hi')))).code).toBe('model_not_found');
    fake.setFault({ kind: 'http500' });
    expect((await rejection(runTask(task('real', 'hi')))).code).toBe('llm_error');
    fake.setFault({ kind: 'drop', afterTokens: 1 });
    expect((await rejection(runTask(task('real', 'hi there friend')))).code).toBe('llm_error');
    fake.setFault(null);
    expect(restartCount(node, 'real')).toBe(0);
    expect((await runTask(task('real', 'fine now'))).result).toBe('fine now');
  });

  it('a malformed stream fails only the task with llm_bad_response: the agent stays idle and nothing restarts', async () => {
    node = await start();
    await node.ask('registry.create', node.subjects.registry('create'), agentDef('fragile'));
    const rec = node.record();
    fake.setFault({ kind: 'malformed', afterTokens: 1 });
    const t = task('fragile', 'please break');
    const err = await rejection(runTask(t));
    expect(err.code).toBe('llm_bad_response');
    expect(err.status).toBe(502);
    expect(err.message).toMatch(/malformed response from the LLM provider/);
    expect(node.store.tasks.get(t.task_id)).toMatchObject({ status: 'failed', error_code: 'llm_bad_response' });
    const agent = await node.ask('registry.get', node.subjects.registry('get'), { name: 'fragile' });
    expect(agent.status).toBe('idle');
    fake.setFault(null);
    expect((await runTask(task('fragile', 'all good'))).result).toBe('all good');
    expect(restartCount(node, 'fragile')).toBe(0);
    expect(rec.events.filter((e) => e.type.startsWith('supervisor.'))).toEqual([]);
  });

  it('an Ollama that goes silent past the idle timeout fails the task with llm_timeout and its request is closed', async () => {
    node = await start({ ollamaIdleTimeoutMs: 200 });
    await node.ask('registry.create', node.subjects.registry('create'), agentDef('patient'));
    fake.setFault({ kind: 'stall', afterTokens: 1 });
    const aborted = fake.waitForClientAbort(fake.abortedStreams + 1);
    const t = task('patient', 'say something then stop');
    const err = await rejection(runTask(t));
    expect(err.code).toBe('llm_timeout');
    expect(err.status).toBe(504);
    await aborted;
    expect(node.store.tasks.get(t.task_id)).toMatchObject({ status: 'failed', error_code: 'llm_timeout' });
    expect(restartCount(node, 'patient')).toBe(0);
    fake.setFault(null);
    expect((await runTask(task('patient', 'fine now'))).result).toBe('fine now');
  });

  it('a crash mid-task fails the task clearly, the agent is restarted and the next task succeeds', async () => {
    node = await start();
    await node.ask('registry.create', node.subjects.registry('create'), agentDef('fragile'));
    const rec = node.record();
    fake.setFault({ kind: 'stall', afterTokens: 1 });
    const t = task('fragile', 'please break');
    const pending = runTask(t);
    await rec.until((es) => es.some((e) => e.type === 'task.token' && e.task_id === t.task_id));
    const aborted = fake.waitForClientAbort(fake.abortedStreams + 1);
    await node.ask('registry.fault', node.subjects.registry('fault'), { name: 'fragile' });
    const err = await rejection(pending);
    expect(err.code).toBe('agent_crashed');
    expect(err.message).toContain('fragile');
    // The crash closed the agent's request to Ollama.
    await aborted;
    await rec.until((es) => es.some((e) => e.type === 'supervisor.restart' && e.agent === 'fragile'));
    expect(rec.events.find((e) => e.type === 'supervisor.crash')).toMatchObject({ agent: 'fragile' });
    expect(restartCount(node, 'fragile')).toBe(1);
    expect(node.store.tasks.get(t.task_id)).toMatchObject({ status: 'failed', error_code: 'agent_crashed' });
    fake.setFault(null);
    expect((await runTask(task('fragile', 'all good'))).result).toBe('all good');
  });

  it('a task that asked for retries is run again after a crash instead of failing', async () => {
    node = await start();
    await node.ask('registry.create', node.subjects.registry('create'), agentDef('retrier'));
    // Only the first attempt's chat stalls; the retry is answered normally.
    fake.setFault({ kind: 'stall', afterTokens: 1, times: 1 });
    const rec = node.record();
    const t = task('retrier', 'try again', { retries: 1 });
    const pending = runTask(t);
    await rec.until((es) => es.some((e) => e.type === 'task.token' && e.task_id === t.task_id));
    await node.ask('registry.fault', node.subjects.registry('fault'), { name: 'retrier' });
    const result = await pending;
    await rec.until((es) => es.some((e) => e.type === 'supervisor.crash'));
    expect(result.result).toBe('try again');
    expect(rec.events.filter((e) => e.type === 'task.started' && e.task_id === t.task_id).map((e) => e.payload.attempt)).toEqual([1, 2]);
  });

  it('an injected crash is a supervisor event on the bus and an increment of the restart metric', async () => {
    node = await start();
    await node.ask('registry.create', node.subjects.registry('create'), agentDef('victim'));
    const rec = node.record();
    await node.ask('registry.fault', node.subjects.registry('fault'), { name: 'victim' });
    const events = await rec.until((es) => es.some((e) => e.type === 'supervisor.restart'));
    const crash = events.find((e) => e.type === 'supervisor.crash')!;
    expect(crash.agent).toBe('victim');
    expect(String(crash.payload.error)).toContain('Injected fault');
    expect(restartCount(node, 'victim')).toBe(1);
    expect(node.store.events.recent(10).some((e: AuroraEvent) => e.type === 'supervisor.crash' && e.agent === 'victim')).toBe(true);
    expect((await runTask(task('victim', 'still alive'))).result).toBe('still alive');
  });

  it('fault injection is refused when it is not enabled', async () => {
    node = await start({ faultInjection: false });
    await node.ask('registry.create', node.subjects.registry('create'), agentDef('safe'));
    const err = await rejection(node.ask('registry.fault', node.subjects.registry('fault'), { name: 'safe' }));
    expect(err.code).toBe('fault_injection_disabled');
  });

  it('a spent restart budget leaves the agent failed, refuses its tasks, spares other agents, and an operator restart revives it', async () => {
    node = await start({ supervision: { maxRestarts: 2, periodMs: 60_000 } });
    await node.ask('registry.create', node.subjects.registry('create'), agentDef('doomed'));
    await node.ask('registry.create', node.subjects.registry('create'), agentDef('bystander'));
    const rec = node.record();
    for (let i = 1; i <= 3; i++) {
      await node.ask('registry.fault', node.subjects.registry('fault'), { name: 'doomed' });
      await rec.until((es) => es.filter((e) => e.type === 'supervisor.crash').length === i);
    }
    await rec.until((es) => es.some((e) => e.type === 'agent.status' && e.agent === 'doomed' && e.payload.status === 'failed'));
    expect(rec.events.filter((e) => e.type === 'supervisor.restart')).toHaveLength(2);
    const failed = await node.ask('registry.get', node.subjects.registry('get'), { name: 'doomed' });
    expect(failed.status).toBe('failed');
    expect((await rejection(runTask(task('doomed', 'hello')))).code).toBe('agent_failed');
    expect((await runTask(task('bystander', 'unharmed'))).result).toBe('unharmed');

    const revived: AgentRecord = await node.ask('registry.restart', node.subjects.registry('restart'), { name: 'doomed' });
    expect(revived.status).toBe('idle');
    expect((await runTask(task('doomed', 'back again'))).result).toBe('back again');
  });

  it('deleting an agent fails its queued tasks with a clear error and forgets it', async () => {
    node = await start();
    await node.ask('registry.create', node.subjects.registry('create'), agentDef('doomed2'));
    fake.setFault({ kind: 'stall', afterTokens: 1 });
    const rec = node.record();
    const running = runTask(task('doomed2', 'first'));
    await rec.until((es) => es.some((e) => e.type === 'task.started'));
    const queued = runTask(task('doomed2', 'second'));
    await rec.until((es) => es.filter((e) => e.type === 'task.queued').length === 2);
    await node.ask('registry.delete', node.subjects.registry('delete'), { name: 'doomed2' });
    for (const p of [running, queued]) {
      const err = await rejection(p);
      expect(err.code).toBe('agent_stopped');
      expect(err.message).toBe('Agent doomed2 was deleted');
    }
    expect((await rejection(node.ask('registry.get', node.subjects.registry('get'), { name: 'doomed2' }))).code).toBe('agent_not_found');
    expect((await rejection(runTask(task('doomed2', 'x')))).code).toBe('agent_not_found');
  });

  it('the model manager loads, lists, reports and unloads models in Ollama, with clear errors', async () => {
    node = await start();
    const rec = node.record();
    const loaded = await node.ask('models.load', node.subjects.models('load'), { name: 'llama2', provider: 'ollama', config: {} });
    expect(loaded).toMatchObject({ name: 'llama2', provider: 'ollama' });
    expect(fake.loadedModels().map((m) => m.name)).toContain('llama2:latest');
    const list = await node.ask('models.list', node.subjects.models('list'), {});
    expect(list).toEqual([{ name: 'llama2', provider: 'ollama', loaded_at: loaded.loaded_at }]);
    const status = await node.ask('models.status', node.subjects.models('status'), { name: 'llama2', provider: 'ollama' });
    expect(status).toMatchObject({ installed: true, loaded: true, loaded_at: loaded.loaded_at });
    expect(node.store.models.list()).toEqual([loaded]);

    await node.ask('models.unload', node.subjects.models('unload'), { name: 'llama2', provider: 'ollama' });
    expect(fake.loadedModels()).toEqual([]);
    expect(await node.ask('models.list', node.subjects.models('list'), {})).toEqual([]);
    expect(node.store.models.list()).toEqual([]);
    await rec.until((es) => es.some((e) => e.type === 'model.unloaded'));
    expect(rec.events.map((e) => e.type).filter((t) => t.startsWith('model.'))).toEqual(['model.loaded', 'model.unloaded']);

    const notLoaded = await rejection(node.ask('models.unload', node.subjects.models('unload'), { name: 'llama2', provider: 'ollama' }));
    expect(notLoaded.code).toBe('model_not_loaded');
    const unknown = await rejection(node.ask('models.load', node.subjects.models('load'), { name: 'nope', provider: 'ollama', config: {} }));
    expect(unknown.code).toBe('model_not_found');
    await fake.stop();
    try {
      const down = await rejection(node.ask('models.status', node.subjects.models('status'), { name: 'llama2', provider: 'ollama' }));
      expect(down.code).toBe('llm_unavailable');
      const health = await node.ask('health.check', node.subjects.health(), {});
      expect(health).toEqual({ database: true, llm: false });
    } finally {
      await fake.start();
    }
  });

  it('caches the installed-model listing instead of asking Ollama every time', async () => {
    node = await start({ modelCacheTtlMs: 60_000 });
    const tagsCalls = () => fake.requests.filter((r) => r.path === '/api/tags').length;
    const before = tagsCalls();
    for (let i = 0; i < 3; i++) await node.ask('models.installed', node.subjects.models('installed'), {});
    expect(tagsCalls() - before).toBe(1);
  });

  it('a graceful stop lets queued and running tasks finish in the grace period and refuses new ones', async () => {
    node = await start();
    await node.ask('registry.create', node.subjects.registry('create'), agentDef('finisher'));
    fake.setFault({ kind: 'slow', tokenDelayMs: 10 });
    const rec = node.record();
    const ts = [task('finisher', 'one two three'), task('finisher', 'four five')];
    const pending = ts.map(runTask);
    await rec.until((es) => es.filter((e) => e.type === 'task.queued').length === 2);
    const stopping = node.runtime.stop(10_000);
    const refused = await rejection(runTask(task('finisher', 'too late')));
    expect(refused.code).toBe('unavailable');
    expect((await Promise.all(pending)).map((r) => r.result)).toEqual(['one two three', 'four five']);
    await stopping;
    for (const t of ts) expect(node.store.tasks.get(t.task_id)!.status).toBe('completed');
  });

  it('a graceful stop cancels and records what is still running when the grace period ends', async () => {
    node = await start();
    await node.ask('registry.create', node.subjects.registry('create'), agentDef('stuck'));
    fake.setFault({ kind: 'stall', afterTokens: 1 });
    const rec = node.record();
    const running = task('stuck', 'forever');
    const queued = task('stuck', 'behind it');
    const pending = [runTask(running), runTask(queued)];
    await rec.until((es) => es.filter((e) => e.type === 'task.queued').length === 2);
    const aborted = fake.waitForClientAbort(1);
    await node.runtime.stop(100);
    await aborted;
    for (const p of pending) expect((await rejection(p)).code).toBe('task_cancelled');
    expect(node.store.tasks.get(running.task_id)).toMatchObject({ status: 'cancelled', error_code: 'task_cancelled' });
    expect(node.store.tasks.get(queued.task_id)).toMatchObject({ status: 'cancelled' });
  });

  it('a new process brings stored agents back under supervision and marks orphaned tasks failed', async () => {
    // What a killed process leaves behind: an agent and a task stuck in `running`.
    const dead = openStore({ path: db.path });
    dead.agents.insert(agentDef('survivor'), new Date().toISOString());
    const orphan = task('survivor', 'was running');
    dead.tasks.insertQueued(orphan, new Date().toISOString());
    dead.tasks.markRunning(orphan.task_id, new Date().toISOString());
    dead.close();

    node = await start();
    expect(node.store.tasks.get(orphan.task_id)).toMatchObject({ status: 'failed', error_code: 'interrupted' });
    const { agents } = await node.ask('registry.list', node.subjects.registry('list'), { limit: 10 });
    expect(agents.map((a) => [a.name, a.status])).toEqual([['survivor', 'idle']]);
    expect((await runTask(task('survivor', 'alive again'))).result).toBe('alive again');
    const rec = node.record();
    await node.ask('registry.fault', node.subjects.registry('fault'), { name: 'survivor' });
    await rec.until((es) => es.some((e) => e.type === 'supervisor.restart' && e.agent === 'survivor'));
  });
}

group('runtime on the in-process bus', () => runtimeSuite('memory'));
await describeWithService('NATS', NATS_URL, 'runtime on NATS', () => runtimeSuite('nats'));
