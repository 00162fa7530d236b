// The REST API end to end: Aurora runs as its own process (one per mode), the fake Ollama server
// runs here, and every request goes over a real socket. Each endpoint and each error path of the
// gateway issue, with the paths, fields and messages of docs/api.md.
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { startFakeOllama, type FakeOllama } from '../fixtures/fake-ollama.js';
import {
  client,
  describeModes,
  metricSum,
  startAurora,
  StreamClient,
  tempDir,
  type Api,
  type AuroraProcess,
  type HttpReply,
  type StreamEvent,
  type TaskEvent,
  type TempDir,
} from '../helpers/e2e.js';
import type {
  AgentBody,
  BatchFailureBody,
  BatchItemBody,
  ErrorBody,
  FailedTaskRecordBody,
  ModelMapBody,
  ReadyBody,
  TaskRecordBody,
  TaskResultBody,
} from '../helpers/http-bodies.js';
import { uniqueNamespace } from '../helpers/services.js';

const MAX_BODY_BYTES = 4096;
const MAILBOX_SIZE = 2;
const BATCH_MAX_TASKS = 4;
const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

const agentBody = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  agent_type: 'llm',
  model_name: 'llama2',
  provider: 'ollama',
  description: `agent ${name}`,
  config: {},
  ...extra,
});

await describeModes('REST API', (mode) => {
  let fake: FakeOllama;
  let dir: TempDir;
  let server: AuroraProcess;
  let api: Api;
  const sockets: StreamClient[] = [];

  /** A WebSocket watching the server's events: how tests learn task ids and wait for states. */
  const watch = async (query: string) => {
    const s = await StreamClient.connect(`${server.wsUrl}?${query}`);
    sockets.push(s);
    return s;
  };
  const createAgent = async (name: string, extra: Record<string, unknown> = {}) => {
    const res = await api.post<AgentBody>('/api/v1/agents/', agentBody(name, extra));
    expect(res.status, res.text).toBe(201);
    return res.body;
  };
  const chatPrompts = () =>
    fake.requests
      .filter((r) => r.path === '/api/chat')
      .map((r) => ((r.body as { messages: { role: string; content: string }[] }).messages.at(-1)?.content ?? ''));

  beforeAll(async () => {
    fake = await startFakeOllama();
    dir = tempDir();
    server = await startAurora({
      ...mode.env,
      DATABASE_PATH: dir.file('aurora.db'),
      OLLAMA_HOST: fake.url,
      AURORA_NAMESPACE: uniqueNamespace('e2e_rest'),
      // The seed's contract: an agent runs one task at a time (slots are covered in agents.test.ts).
      AGENT_MAX_CONCURRENCY: '1',
      FAULT_INJECTION_ENABLED: 'true',
      SUPERVISOR_MAX_RESTARTS: '1',
      SUPERVISOR_BACKOFF_BASE_MS: '0',
      SUPERVISOR_BACKOFF_MAX_MS: '0',
      AGENT_MAILBOX_SIZE: String(MAILBOX_SIZE),
      MAX_BODY_BYTES: String(MAX_BODY_BYTES),
      BATCH_MAX_TASKS: String(BATCH_MAX_TASKS),
    });
    api = client(server.url);
  });

  afterEach(async () => {
    fake.setFault(null);
    await fake.start();
    await Promise.all(sockets.splice(0).map((s) => s.close()));
  });

  afterAll(async () => {
    const exit = await server?.stop();
    await fake?.close();
    dir?.remove();
    expect(exit).toEqual({ code: 0, signal: null });
  });

  // ------------------------------------------------------------ service and probes

  it('answers GET / and the health probes', async () => {
    const root = await api.get('/');
    expect(root.status).toBe(200);
    expect(root.headers.get('content-type')).toBe('application/json');
    expect(root.headers.get('x-request-id')).toMatch(/.+/);
    expect(root.body).toEqual({ name: 'Aurora Pro AI', version: expect.any(String), status: 'running' });

    const health = await api.get('/health/');
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ status: 'healthy', timestamp: expect.stringMatching(ISO), service: 'aurora-pro-ai' });
    expect((await api.get('/health/live')).body).toEqual({ status: 'alive' });
    expect((await api.get('/health/startup')).body).toEqual({ status: 'started' });

    const ready = await api.get('/health/ready');
    expect(ready.status, ready.text).toBe(200);
    expect(ready.body).toEqual({
      status: 'ready',
      checks: { database: true, bus: true, cache: true, llm: true },
      timestamp: expect.stringMatching(ISO),
    });
  });

  it('keeps the client request id and makes one up otherwise', async () => {
    const res = await api.send('GET', '/health/live', undefined, { headers: { 'x-request-id': 'trace-42' } });
    expect(res.headers.get('x-request-id')).toBe('trace-42');
    const other = await api.get('/health/live');
    expect(other.headers.get('x-request-id')).not.toBe('trace-42');
  });

  // ------------------------------------------------------------ agents

  it('creates, lists, gets and deletes an agent with the contract fields and messages', async () => {
    const created = await api.post<AgentBody>('/api/v1/agents/', agentBody('my-agent', { description: 'My custom agent', config: { system: 'dry' } }));
    expect(created.status, created.text).toBe(201);
    expect(created.body).toEqual({
      name: 'my-agent',
      agent_id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
      description: 'My custom agent',
      status: 'idle',
      config: { system: 'dry' },
      created_at: expect.stringMatching(ISO),
      last_run: null,
      agent_type: 'llm',
      model_name: 'llama2',
      provider: 'ollama',
      running_tasks: 0,
      queued_tasks: 0,
      model_installed: true,
    });

    const got = await api.get<AgentBody>('/api/v1/agents/my-agent');
    expect(got.status).toBe(200);
    expect(got.body).toEqual({ ...created.body, status: 'idle' });

    for (const path of ['/api/v1/agents', '/api/v1/agents/']) {
      const list = await api.get<AgentBody[]>(path);
      expect(list.status).toBe(200);
      expect(list.body).toContainEqual({ ...created.body, status: 'idle' });
    }

    const duplicate = await api.post('/api/v1/agents', agentBody('my-agent'));
    expect(duplicate.status).toBe(409);
    expect(duplicate.body).toEqual({ detail: 'Agent my-agent already exists' });
    expect((await api.get<AgentBody>('/api/v1/agents/my-agent')).body.description).toBe('My custom agent');

    const deleted = await api.del('/api/v1/agents/my-agent');
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({ message: 'Agent my-agent deleted successfully' });

    expect(await api.get('/api/v1/agents/my-agent')).toMatchObject({ status: 404, body: { detail: 'Agent my-agent not found' } });
    expect(await api.del('/api/v1/agents/my-agent')).toMatchObject({ status: 404, body: { detail: 'Agent my-agent not found' } });
    expect((await api.get<AgentBody[]>('/api/v1/agents/')).body.map((a: { name: string }) => a.name)).not.toContain('my-agent');
  });

  it('fills the defaults of an agent created with a name only', async () => {
    const res = await api.post('/api/v1/agents/', { name: 'minimal.agent_1' });
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({ name: 'minimal.agent_1', agent_type: 'llm', provider: 'ollama', model_name: 'llama2', description: '', config: {} });
    expect((await api.del('/api/v1/agents/minimal.agent_1')).status).toBe(200);
  });

  it('refuses invalid agents with 400 naming the field, and creates nothing', async () => {
    const cases: [unknown, string][] = [
      [agentBody('bad name!'), `name: must match pattern "${NAME_PATTERN}"`],
      [agentBody('-leading-dash'), `name: must match pattern "${NAME_PATTERN}"`],
      [agentBody('x'.repeat(65)), `name: must match pattern "${NAME_PATTERN}"`],
      [agentBody('robot-agent', { agent_type: 'robot' }), 'Unknown agent_type: robot'],
      [agentBody('openai-agent', { provider: 'openai' }), 'Unknown provider: openai'],
      [{ agent_type: 'llm' }, 'name is required'],
      [{ name: 42 }, 'name: must be string'],
      [agentBody('cfg-agent', { config: 'none' }), 'config: must be object'],
      [agentBody('typo-agent', { model: 'llama2' }), 'model is not a known field'],
    ];
    for (const [body, detail] of cases) {
      const res = await api.post('/api/v1/agents/', body);
      expect({ status: res.status, body: res.body }, JSON.stringify(body)).toEqual({ status: 400, body: { detail } });
    }
    const names = (await api.get<AgentBody[]>('/api/v1/agents/')).body.map((a: { name: string }) => a.name);
    for (const name of ['robot-agent', 'openai-agent', 'cfg-agent', 'typo-agent']) expect(names).not.toContain(name);
  });

  it('answers 404 for an unknown agent on every agent route', async () => {
    const detail = { detail: 'Agent ghost not found' };
    expect(await api.get('/api/v1/agents/ghost')).toMatchObject({ status: 404, body: detail });
    expect(await api.del('/api/v1/agents/ghost')).toMatchObject({ status: 404, body: detail });
    expect(await api.post('/api/v1/agents/ghost/restart')).toMatchObject({ status: 404, body: detail });
    expect(await api.post('/api/v1/agents/ghost/fault')).toMatchObject({ status: 404, body: detail });
    expect(await api.post('/api/v1/tasks/execute', { agent: 'ghost', prompt: 'hi' })).toMatchObject({ status: 404, body: detail });
  });

  it('deleting an agent ends its running and queued tasks with a clear error', async () => {
    await createAgent('doomed');
    const events = await watch('agents=doomed&types=task.*');
    fake.setFault({ kind: 'stall', afterTokens: 0 });
    const running = api.post('/api/v1/tasks/execute', { agent: 'doomed', prompt: 'first' });
    await events.next((m) => m.type === 'task.started', 'task.started');
    const queued = api.post('/api/v1/tasks/execute', { agent: 'doomed', prompt: 'second' });
    await events.until('two task.queued', (ms) => (ms.filter((m) => m.type === 'task.queued').length === 2 ? true : undefined));

    expect((await api.del('/api/v1/agents/doomed')).status).toBe(200);
    for (const res of await Promise.all([running, queued])) {
      expect({ status: res.status, body: res.body }).toEqual({ status: 409, body: { detail: 'Agent doomed was deleted' } });
    }
    const failed = await events.until('two task.failed', (ms) => {
      const f = ms.filter((m) => m.type === 'task.failed');
      return f.length === 2 ? f : undefined;
    });
    expect(failed.map((m) => m.payload)).toEqual([
      { code: 'agent_stopped', detail: 'Agent doomed was deleted' },
      { code: 'agent_stopped', detail: 'Agent doomed was deleted' },
    ]);
    // Changed on purpose (history outlives its agent): the deleted agent's tasks stay readable.
    const history = await api.get<TaskRecordBody[]>('/api/v1/tasks/?agent=doomed');
    expect(history.body.map((t) => t.task_id).sort()).toEqual(failed.map((m) => m.task_id).sort());
    expect(await api.get(`/api/v1/tasks/${failed[0]!.task_id}`)).toMatchObject({
      status: 200,
      body: { agent: 'doomed', status: 'failed', error_code: 'agent_stopped' },
    });
  });

  // ------------------------------------------------------------ models

  it('loads a model in Ollama (201), lists it, reports its status and unloads it', async () => {
    // tinyllama: no agent of this suite uses it, so only these requests load and unload it.
    const loadedInFake = () => fake.loadedModels().map((m) => m.name);
    expect(loadedInFake()).not.toContain('tinyllama:latest');
    const before = await api.get<ModelMapBody>('/api/v1/models/');
    expect(before.status).toBe(200);
    expect(before.body.models['model:ollama:tinyllama']).toBeUndefined();
    expect(before.body.count).toBe(Object.keys(before.body.models).length);

    const loaded = await api.post('/api/v1/models/load', { name: 'tinyllama', provider: 'ollama', config: {} });
    expect(loaded.status, loaded.text).toBe(201);
    expect(loaded.body).toEqual({ message: 'Model tinyllama loaded successfully', name: 'tinyllama', provider: 'ollama' });
    expect(loadedInFake()).toContain('tinyllama:latest');
    const warmed = fake.requests.filter((r) => r.path === '/api/generate').at(-1)!.body;
    expect(warmed).toMatchObject({ model: 'tinyllama', prompt: '' });

    for (const path of ['/api/v1/models', '/api/v1/models/']) {
      const list = await api.get<ModelMapBody>(path);
      expect(list.status).toBe(200);
      expect(list.body.models['model:ollama:tinyllama']).toEqual({ name: 'tinyllama', provider: 'ollama', loaded_at: expect.stringMatching(ISO) });
      expect(list.body.count).toBe(Object.keys(list.body.models).length);
      expect(list.body.count).toBe(before.body.count + 1);
    }

    const status = await api.get('/api/v1/models/tinyllama/status');
    expect(status.status).toBe(200);
    expect(status.body).toEqual({
      name: 'tinyllama',
      provider: 'ollama',
      installed: true,
      loaded: true,
      loaded_at: expect.stringMatching(ISO),
      size_bytes: 637_700_138,
      expires_at: expect.stringMatching(ISO),
    });

    const unloaded = await api.del('/api/v1/models/tinyllama');
    expect(unloaded.status).toBe(200);
    expect(unloaded.body).toEqual({ message: 'Model tinyllama unloaded successfully' });
    expect(loadedInFake()).not.toContain('tinyllama:latest');
    expect((await api.get<ModelMapBody>('/api/v1/models/')).body.models['model:ollama:tinyllama']).toBeUndefined();
    expect((await api.get('/api/v1/models/tinyllama/status?provider=ollama')).body).toMatchObject({
      installed: true,
      loaded: false,
      loaded_at: null,
      expires_at: null,
    });
  });

  it('answers 404 for unknown and not-loaded models, 400 for an unknown provider', async () => {
    expect(await api.post('/api/v1/models/load', { name: 'no-such-model' })).toMatchObject({
      status: 404,
      body: { detail: 'Model no-such-model not found; pull it with POST /api/v1/models/pull {"name":"no-such-model"} (or `ollama pull no-such-model`)' },
    });
    expect(await api.get('/api/v1/models/no-such-model/status')).toMatchObject({
      status: 404,
      body: { detail: 'Model no-such-model not found; pull it with POST /api/v1/models/pull {"name":"no-such-model"} (or `ollama pull no-such-model`)' },
    });
    expect(await api.del('/api/v1/models/tinyllama')).toMatchObject({ status: 404, body: { detail: 'Model tinyllama is not loaded' } });
    expect(await api.del('/api/v1/models/tinyllama?provider=openai')).toMatchObject({
      status: 400,
      body: { detail: 'Unknown provider: openai' },
    });
    expect(await api.post('/api/v1/models/load', { name: 'llama2', provider: 'openai' })).toMatchObject({
      status: 400,
      body: { detail: 'Unknown provider: openai' },
    });
    expect(await api.post('/api/v1/models/load', {})).toMatchObject({ status: 400, body: { detail: 'name is required' } });
    expect(fake.loadedModels().map((m) => m.name)).not.toContain('tinyllama:latest');
  });

  it('answers 503 with Retry-After for model requests while Ollama is unreachable', async () => {
    await fake.stop();
    const load = await api.post<ErrorBody>('/api/v1/models/load', { name: 'llama2' });
    expect(load.status, load.text).toBe(503);
    expect(load.body.detail).toContain('LLM provider unreachable at');
    expect(load.headers.get('retry-after')).toBe('5');
    const status = await api.get<ErrorBody>('/api/v1/models/llama2/status');
    expect(status.status, status.text).toBe(503);
    expect(status.body.detail).toContain('LLM provider unreachable at');
    const unload = await api.del('/api/v1/models/llama2');
    expect(unload.status, unload.text).toBe(503);
    await fake.start();
    expect((await api.post('/api/v1/models/load', { name: 'tinyllama' })).status).toBe(201);
    expect((await api.del('/api/v1/models/tinyllama')).status).toBe(200);
  });

  // ------------------------------------------------------------ tasks

  it('executes a task and answers with the result, task_id, duration_ms and tokens_used', async () => {
    await createAgent('worker');
    const res = await api.post<TaskResultBody>('/api/v1/tasks/execute', {
      agent: 'worker',
      prompt: 'hello brave new world',
      parameters: { system: 'be brief', temperature: 0.2, seed: 7 },
    });
    expect(res.status, res.text).toBe(200);
    // The fake echoes the system prompt then the user's words; it counts words as tokens.
    expect(res.body).toEqual({
      task_id: expect.stringMatching(/.+/),
      agent: 'worker',
      result: 'be brief hello brave new world',
      status: 'completed',
      model: 'llama2',
      provider: 'ollama',
      tokens_used: 12,
      prompt_tokens: 6,
      completion_tokens: 6,
      completed_at: expect.stringMatching(ISO),
      duration_ms: expect.any(Number),
      timings: {
        queued_ms: expect.any(Number),
        total_duration_ms: expect.any(Number),
        load_duration_ms: expect.any(Number),
        prompt_eval_duration_ms: expect.any(Number),
        eval_duration_ms: expect.any(Number),
      },
    });
    expect(res.body.duration_ms).toBeGreaterThanOrEqual(0);
    const sent = fake.requests.filter((r) => r.path === '/api/chat').at(-1)!.body as Record<string, unknown>;
    expect(sent).toMatchObject({
      model: 'llama2',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'hello brave new world' },
      ],
      options: { temperature: 0.2, seed: 7 },
    });

    const record = await api.get(`/api/v1/tasks/${res.body.task_id}`);
    expect(record.status).toBe(200);
    expect(record.body).toMatchObject({
      task_id: res.body.task_id,
      agent: 'worker',
      prompt: 'hello brave new world',
      parameters: { system: 'be brief', temperature: 0.2, seed: 7 },
      status: 'completed',
      result: 'be brief hello brave new world',
      error: null,
      error_code: null,
      model: 'llama2',
      provider: 'ollama',
      tokens_used: 12,
      created_at: expect.stringMatching(ISO),
      started_at: expect.stringMatching(ISO),
      completed_at: res.body.completed_at,
    });
    expect((await api.get<AgentBody>('/api/v1/agents/worker')).body.last_run).toBe(res.body.completed_at);
  });

  it('lists task history with agent, status and limit filters', async () => {
    await createAgent('historian');
    const first = await api.post<TaskResultBody>('/api/v1/tasks/execute', { agent: 'historian', prompt: 'one two three' });
    const second = await api.post<TaskResultBody>('/api/v1/tasks/execute', { agent: 'historian', prompt: 'four five six', parameters: { max_tokens: 2 } });
    expect(second.body.result).toBe('four five');

    const all = await api.get<TaskRecordBody[]>('/api/v1/tasks?agent=historian');
    expect(all.status).toBe(200);
    expect(all.body.map((t: { task_id: string }) => t.task_id)).toEqual([second.body.task_id, first.body.task_id]);
    expect((await api.get<TaskRecordBody[]>('/api/v1/tasks/?agent=historian&limit=1')).body.map((t: { task_id: string }) => t.task_id)).toEqual([
      second.body.task_id,
    ]);
    expect((await api.get('/api/v1/tasks/?agent=historian&status=completed')).body).toHaveLength(2);
    expect((await api.get('/api/v1/tasks/?agent=historian&status=failed')).body).toEqual([]);
    const completed = await api.get<TaskRecordBody[]>('/api/v1/tasks/?status=completed&limit=1000');
    expect(completed.body.every((t: { status: string }) => t.status === 'completed')).toBe(true);

    expect(await api.get('/api/v1/tasks/?status=done')).toMatchObject({
      status: 400,
      body: { detail: 'status: must be one of queued, running, completed, failed, cancelled' },
    });
    expect(await api.get('/api/v1/tasks/?limit=0')).toMatchObject({
      status: 400,
      body: { detail: 'limit: must be an integer between 1 and 1000' },
    });
    expect(await api.get('/api/v1/tasks/?limit=ten')).toMatchObject({ status: 400 });
    expect(await api.get('/api/v1/tasks/?agent=bad%20name')).toMatchObject({
      status: 400,
      body: { detail: `agent: must match pattern "${NAME_PATTERN}"` },
    });
    expect(await api.get('/api/v1/tasks/no-such-task')).toMatchObject({ status: 404, body: { detail: 'Task no-such-task not found' } });
  });

  it('maps task failures: LLM unreachable 503, LLM error 502, malformed LLM answer 502, timeout 504', async () => {
    await createAgent('unlucky');

    await fake.stop();
    const unreachable = await api.post<ErrorBody>('/api/v1/tasks/execute', { agent: 'unlucky', prompt: 'anyone there' });
    expect(unreachable.status, unreachable.text).toBe(503);
    expect(unreachable.body.detail).toContain('LLM provider unreachable at');
    expect(unreachable.headers.get('retry-after')).toBe('5');
    await fake.start();

    fake.setFault({ kind: 'http500' });
    const llmError = await api.post<ErrorBody>('/api/v1/tasks/execute', { agent: 'unlucky', prompt: 'try again' });
    expect(llmError.status, llmError.text).toBe(502);
    expect(llmError.body.detail).toContain('LLM provider error (HTTP 500)');

    // A model server that breaks its protocol fails the task; the agent is not crashed or restarted.
    const restarts = async () => metricSum((await api.get('/metrics')).text, 'aurora_supervisor_restarts_total', { agent: 'unlucky' });
    const restartsBefore = await restarts();
    fake.setFault({ kind: 'malformed', afterTokens: 1 });
    const garbled = await api.post('/api/v1/tasks/execute', { agent: 'unlucky', prompt: 'garble this answer' });
    expect(garbled.status, garbled.text).toBe(502);
    expect(garbled.body).toEqual({ detail: expect.stringContaining('malformed response from the LLM provider') });
    expect((await api.get<{ status: string }>('/api/v1/agents/unlucky')).body.status).toBe('idle');
    expect(await restarts()).toBe(restartsBefore);

    fake.setFault({ kind: 'stall', afterTokens: 1 });
    const abortsBefore = fake.abortedStreams;
    const slow = await api.post<ErrorBody>('/api/v1/tasks/execute', { agent: 'unlucky', prompt: 'take your time', parameters: { timeout_ms: 300 } });
    expect(slow.status, slow.text).toBe(504);
    const timedOut = /^Task (\S+) timed out after 300 ms$/.exec(slow.body.detail);
    expect(timedOut, slow.body.detail).not.toBeNull();
    // The abandoned request to Ollama is closed, not left running.
    await fake.waitForClientAbort(abortsBefore + 1);

    fake.setFault(null);
    const history = await api.get<FailedTaskRecordBody[]>('/api/v1/tasks/?agent=unlucky');
    expect(history.body.map((t: { error_code: string }) => t.error_code)).toEqual(['timeout', 'llm_bad_response', 'llm_error', 'llm_unavailable']);
    expect((await api.get(`/api/v1/tasks/${timedOut![1]}`)).body).toMatchObject({ status: 'failed', error_code: 'timeout' });
    // The agent is still healthy after all that.
    expect((await api.post<TaskResultBody>('/api/v1/tasks/execute', { agent: 'unlucky', prompt: 'fine now' })).body.result).toBe('fine now');
  });

  it('answers 429 with Retry-After when the mailbox is full', async () => {
    await createAgent('busy');
    const events = await watch('agents=busy&types=task.*');
    fake.setFault({ kind: 'stall', afterTokens: 0 });
    const accepted: Promise<HttpReply<ErrorBody>>[] = [];
    for (let i = 0; i <= MAILBOX_SIZE; i++) accepted.push(api.post<ErrorBody>('/api/v1/tasks/execute', { agent: 'busy', prompt: `job ${i}` }));
    // One running, MAILBOX_SIZE waiting: the mailbox is full.
    const queuedIds = await events.until('a full mailbox', (ms) => {
      const queued = ms.filter((m) => m.type === 'task.queued');
      return queued.length === MAILBOX_SIZE + 1 && ms.some((m) => m.type === 'task.started') ? queued.map((m) => m.task_id) : undefined;
    });

    const refused = await api.post('/api/v1/tasks/execute', { agent: 'busy', prompt: 'one too many' });
    expect(refused.status, refused.text).toBe(429);
    expect(refused.body).toEqual({ detail: `Agent busy has ${MAILBOX_SIZE} tasks queued; try again later` });
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(metricSum((await api.get('/metrics')).text, 'aurora_mailbox_depth')).toBe(MAILBOX_SIZE);

    for (const id of queuedIds) {
      const cancelled = await api.post(`/api/v1/tasks/${id}/cancel`);
      expect(cancelled.body).toEqual({ task_id: id, status: 'cancelled' });
    }
    for (const res of await Promise.all(accepted)) {
      expect(res.status).toBe(409);
      expect(res.body.detail).toMatch(/^Task \S+ was cancelled$/);
    }
  });

  it('cancels a running task: the Ollama request is closed and history says cancelled', async () => {
    await createAgent('cancellable');
    const events = await watch('agents=cancellable&types=task.*');
    fake.setFault({ kind: 'stall', afterTokens: 1 });
    const abortsBefore = fake.abortedStreams;
    const execution = api.post('/api/v1/tasks/execute', { agent: 'cancellable', prompt: 'a long story' });
    const token = await events.next<TaskEvent>((m) => m.type === 'task.token', 'the first token');
    const taskId: string = token.task_id;
    expect((await api.get<TaskRecordBody>(`/api/v1/tasks/${taskId}`)).body.status).toBe('running');
    expect((await api.get<AgentBody>('/api/v1/agents/cancellable')).body.status).toBe('running');

    const cancelled = await api.post(`/api/v1/tasks/${taskId}/cancel`);
    expect(cancelled.status, cancelled.text).toBe(200);
    expect(cancelled.body).toEqual({ task_id: taskId, status: 'cancelled' });
    const answer = await execution;
    expect({ status: answer.status, body: answer.body }).toEqual({ status: 409, body: { detail: `Task ${taskId} was cancelled` } });
    await fake.waitForClientAbort(abortsBefore + 1);
    await events.next((m) => m.type === 'task.cancelled' && m.task_id === taskId, 'task.cancelled');

    expect((await api.get(`/api/v1/tasks/${taskId}`)).body).toMatchObject({ status: 'cancelled', error_code: 'task_cancelled', result: null });
    expect(await api.post(`/api/v1/tasks/${taskId}/cancel`)).toMatchObject({
      status: 409,
      body: { detail: `Task ${taskId} is already cancelled` },
    });
    expect(await api.post('/api/v1/tasks/no-such-task/cancel')).toMatchObject({ status: 404, body: { detail: 'Task no-such-task not found' } });
  });

  it('answers 409 for an agent whose restart budget is spent, until an operator restarts it', async () => {
    await createAgent('fragile');
    const events = await watch('agents=fragile&types=supervisor.*,agent.status');
    const first = await api.post('/api/v1/agents/fragile/fault');
    expect(first.status, first.text).toBe(202);
    expect(first.body).toEqual({ message: 'Fault injected into agent fragile', name: 'fragile' });
    await events.next((m) => m.type === 'supervisor.restart', 'supervisor.restart');
    // SUPERVISOR_MAX_RESTARTS=1: the second crash within the period spends the budget.
    expect((await api.post('/api/v1/agents/fragile/fault')).status).toBe(202);
    await events.next<StreamEvent>((m) => m.type === 'agent.status' && m.payload.status === 'failed', 'agent.status failed');

    expect((await api.get<AgentBody>('/api/v1/agents/fragile')).body.status).toBe('failed');
    const refused = await api.post('/api/v1/tasks/execute', { agent: 'fragile', prompt: 'are you there' });
    expect({ status: refused.status, body: refused.body }).toEqual({
      status: 409,
      body: { detail: 'Agent fragile has failed; restart it to run tasks' },
    });
    expect(await api.post('/api/v1/agents/fragile/fault')).toMatchObject({ status: 409 });

    const restarted = await api.post('/api/v1/agents/fragile/restart');
    expect(restarted.status, restarted.text).toBe(200);
    expect(restarted.body).toMatchObject({ name: 'fragile', status: 'idle' });
    expect((await api.post<TaskResultBody>('/api/v1/tasks/execute', { agent: 'fragile', prompt: 'back again' })).body.result).toBe('back again');
  });

  it('runs a batch: one result per input in input order, completed and failed mixed', async () => {
    await createAgent('batch-a');
    await createAgent('batch-b');
    const promptsBefore = chatPrompts().length;
    const res = await api.post<[BatchItemBody, BatchItemBody, BatchItemBody, BatchItemBody]>('/api/v1/tasks/execute/batch', {
      tasks: [
        { agent: 'batch-a', prompt: 'first for a' },
        { agent: 'ghost', prompt: 'nobody home' },
        { agent: 'batch-b', prompt: 'only for b', parameters: {} },
        { agent: 'batch-a', prompt: 'second for a' },
      ],
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual([
      expect.objectContaining({ agent: 'batch-a', status: 'completed', result: 'first for a', tokens_used: 6 }),
      { task_id: expect.any(String), agent: 'ghost', status: 'failed', error: 'Agent ghost not found', error_code: 'agent_not_found' },
      expect.objectContaining({ agent: 'batch-b', status: 'completed', result: 'only for b' }),
      expect.objectContaining({ agent: 'batch-a', status: 'completed', result: 'second for a' }),
    ]);
    expect(new Set(res.body.map((r: { task_id: string }) => r.task_id)).size).toBe(4);
    // One agent's tasks reach Ollama in input order.
    const sent = chatPrompts().slice(promptsBefore);
    expect(sent.filter((p) => p.endsWith('for a'))).toEqual(['first for a', 'second for a']);

    const later = await api.get<TaskRecordBody[]>('/api/v1/tasks/?agent=batch-a');
    expect(later.body.map((t: { task_id: string }) => t.task_id).sort()).toEqual([res.body[0].task_id, res.body[3].task_id].sort());
  });

  it('runs batch tasks for different agents at once and one agent\'s tasks one at a time', async () => {
    await createAgent('lane-a');
    await createAgent('lane-b');
    const events = await watch('agents=lane-*&types=task.*');
    // Every task stalls after one token, so what runs at the same time stays visible.
    fake.setFault({ kind: 'stall', afterTokens: 1 });
    const batch = api.post<BatchFailureBody[]>('/api/v1/tasks/execute/batch', {
      tasks: [
        { agent: 'lane-a', prompt: 'a first' },
        { agent: 'lane-b', prompt: 'b only' },
        { agent: 'lane-a', prompt: 'a second' },
      ],
    });
    const started = await events.until('both agents running', (ms) => {
      const s = ms.filter((m) => m.type === 'task.started');
      return new Set(s.map((m) => m.agent)).size === 2 ? s : undefined;
    });
    expect(started).toHaveLength(2);
    const queued = await api.get<TaskRecordBody[]>('/api/v1/tasks/?agent=lane-a&status=queued');
    expect(queued.body.map((t: { prompt: string }) => t.prompt)).toEqual(['a second']);
    const running = await api.get<TaskRecordBody[]>('/api/v1/tasks/?status=running');
    expect(running.body.map((t: { prompt: string }) => t.prompt).sort()).toEqual(['a first', 'b only']);

    for (const id of [queued.body[0]!.task_id, ...started.map((m) => m.task_id as string)]) {
      expect((await api.post(`/api/v1/tasks/${id}/cancel`)).status).toBe(200);
    }
    const res = await batch;
    expect(res.status).toBe(200);
    expect(res.body.map((r: { agent: string; status: string; error_code: string }) => [r.agent, r.status, r.error_code])).toEqual([
      ['lane-a', 'failed', 'task_cancelled'],
      ['lane-b', 'failed', 'task_cancelled'],
      ['lane-a', 'failed', 'task_cancelled'],
    ]);
  });

  it('fails only the batch items whose task fails', async () => {
    await createAgent('batch-c');
    fake.setFault({ kind: 'http500' });
    const res = await api.post('/api/v1/tasks/execute/batch', {
      tasks: [
        { agent: 'batch-c', prompt: 'doomed' },
        { agent: 'nobody', prompt: 'doomed too' },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual([
      { task_id: expect.any(String), agent: 'batch-c', status: 'failed', error: expect.stringContaining('HTTP 500'), error_code: 'llm_error' },
      { task_id: expect.any(String), agent: 'nobody', status: 'failed', error: 'Agent nobody not found', error_code: 'agent_not_found' },
    ]);
  });

  it('refuses a batch over the cap, an empty batch and a malformed item with 400, running nothing', async () => {
    await createAgent('batch-d');
    const promptsBefore = chatPrompts().length;
    const tooMany = Array.from({ length: BATCH_MAX_TASKS + 1 }, (_, i) => ({ agent: 'batch-d', prompt: `task ${i}` }));
    expect(await api.post('/api/v1/tasks/execute/batch', { tasks: tooMany })).toMatchObject({
      status: 400,
      body: { detail: `tasks: at most ${BATCH_MAX_TASKS} tasks per batch, got ${BATCH_MAX_TASKS + 1}` },
    });
    expect(await api.post('/api/v1/tasks/execute/batch', { tasks: [] })).toMatchObject({
      status: 400,
      body: { detail: 'tasks: must NOT have fewer than 1 items' },
    });
    expect(
      await api.post('/api/v1/tasks/execute/batch', { tasks: [{ agent: 'batch-d', prompt: 'fine' }, { agent: 'batch-d', prompt: 7 }] }),
    ).toMatchObject({ status: 400, body: { detail: 'tasks[1].prompt: must be string' } });
    expect(await api.post('/api/v1/tasks/execute/batch', { task: [] })).toMatchObject({ status: 400, body: { detail: 'tasks is required' } });
    expect(chatPrompts().length).toBe(promptsBefore);
    expect((await api.get('/api/v1/tasks/?agent=batch-d')).body).toEqual([]);
  });

  // ------------------------------------------------------------ request errors

  it('answers malformed requests with 400/413/404/405 and {"detail"}, and stays up', async () => {
    await createAgent('strict');
    const post = (body: unknown) => api.post('/api/v1/tasks/execute', body);
    const cases: [Promise<HttpReply>, number, string][] = [
      [api.post('/api/v1/tasks/execute', undefined, { raw: '{"agent": "strict", "prompt": ' }), 400, 'Invalid JSON body'],
      [api.post('/api/v1/tasks/execute'), 400, 'Request body is required'],
      [post({ agent: 'strict' }), 400, 'prompt is required'],
      [post({ agent: 'strict', prompt: 5 }), 400, 'prompt: must be string'],
      [post({ agent: 'strict', prompt: '' }), 400, 'prompt: must NOT have fewer than 1 characters'],
      [post({ agent: 'strict', prompt: 'hi', model: 'llama2' }), 400, 'model is not a known field'],
      [post({ agent: 'strict', prompt: 'hi', parameters: { temperature: 'hot' } }), 400, 'parameters.temperature: must be number'],
      [post({ agent: 'strict', prompt: 'hi', parameters: { temperature: 3 } }), 400, 'parameters.temperature: must be <= 2'],
      [post({ agent: 'strict', prompt: 'hi', parameters: { max_tokens: 1.5 } }), 400, 'parameters.max_tokens: must be integer'],
      [post({ agent: 'strict', prompt: 'hi', parameters: { timeout_ms: 0 } }), 400, 'parameters.timeout_ms: must be >= 1'],
      [post({ agent: 'strict', prompt: 'hi', parameters: { top_kk: 3 } }), 400, 'parameters.top_kk is not a known field'],
      [post([]), 400, 'Request body: must be object'],
      [post({ agent: 'strict', prompt: 'x'.repeat(MAX_BODY_BYTES) }), 413, `Request body exceeds ${MAX_BODY_BYTES} bytes`],
      [api.get('/api/v1/nothing-here'), 404, 'Not Found'],
      [api.get('/api/v2/agents/'), 404, 'Not Found'],
      [api.send('PUT', '/api/v1/agents/'), 405, 'Method Not Allowed'],
      [api.send('PUT', '/api/v1/agents/strict'), 405, 'Method Not Allowed'],
      [api.get('/api/v1/tasks/execute/batch'), 405, 'Method Not Allowed'],
      [api.get('/api/v1/agents/%E0%A4%A'), 400, 'Invalid percent-encoding in path'],
    ];
    for (const [pending, status, detail] of cases) {
      const res = await pending;
      expect({ status: res.status, body: res.body }).toEqual({ status, body: { detail } });
      expect(res.headers.get('content-type')).toBe('application/json');
    }
    expect((await api.send('PUT', '/api/v1/agents/')).headers.get('allow')).toBe('GET, POST');
    expect((await api.send('DELETE', '/metrics')).headers.get('allow')).toBe('GET');
    // None of that ran a task or hurt the server.
    expect((await api.get('/api/v1/tasks/?agent=strict')).body).toEqual([]);
    expect((await api.get('/health/live')).status).toBe(200);
    expect((await api.post<TaskResultBody>('/api/v1/tasks/execute', { agent: 'strict', prompt: 'still here' })).body.result).toBe('still here');
  });

  // ------------------------------------------------------------ metrics

  it('serves Prometheus metrics labelled by route template', async () => {
    await createAgent('measured');
    await api.post('/api/v1/tasks/execute', { agent: 'measured', prompt: 'count these tokens' });
    await api.get('/api/v1/agents/measured');
    await api.get('/api/v1/no/such/route/for/metrics');
    const res = await api.get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = res.text;
    expect(metricSum(text, 'aurora_http_requests_total', { method: 'GET', route: '/api/v1/agents/:name', status: '200' })).toBeGreaterThanOrEqual(1);
    expect(metricSum(text, 'aurora_http_requests_total', { route: 'unmatched', status: '404' })).toBeGreaterThanOrEqual(1);
    expect(metricSum(text, 'aurora_http_request_duration_seconds_count', { route: '/api/v1/tasks/execute' })).toBeGreaterThanOrEqual(1);
    // Raw paths never become labels.
    expect(text).not.toContain('route="/api/v1/agents/measured"');
    expect(text).not.toContain('/no/such/route');
    expect(metricSum(text, 'aurora_tasks_total', { outcome: 'completed' })).toBeGreaterThanOrEqual(1);
    expect(metricSum(text, 'aurora_task_duration_seconds_count', { outcome: 'completed' })).toBeGreaterThanOrEqual(1);
    expect(metricSum(text, 'aurora_tokens_total', { direction: 'completion' })).toBeGreaterThanOrEqual(3);
    for (const name of ['aurora_mailbox_depth', 'aurora_ws_clients', 'aurora_supervisor_children']) {
      expect(text).toMatch(new RegExp(`^${name}(\\{| )`, 'm'));
    }
    // prom-client's process metrics, under Aurora's prefix.
    expect(text).toMatch(/^aurora_process_\w*cpu_user_seconds_total /m);
  });

  // ------------------------------------------------------------ readiness

  it('reports not ready (503, failing check named) while Ollama is down, ready again when it returns', async () => {
    await fake.stop();
    const down = await api.get('/health/ready');
    expect(down.status, down.text).toBe(503);
    expect(down.body).toEqual({
      status: 'not_ready',
      checks: { database: true, bus: true, cache: true, llm: false },
      timestamp: expect.stringMatching(ISO),
      detail: 'Not ready: llm',
    });
    expect((await api.get('/health/live')).status).toBe(200);
    await fake.start();
    const up = await api.get<ReadyBody>('/health/ready');
    expect(up.status, up.text).toBe(200);
    expect(up.body.checks).toEqual({ database: true, bus: true, cache: true, llm: true });
  });
});
