// The gateway's REST behaviour, driven through the pure dispatcher (no sockets) against a real
// in-process bus on which this file serves the runtime subjects with small responders.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AgentRecord, LoadedModel, TaskRecord, TaskRequest, TaskResult } from '../../runtime/protocol/index.js';
import type { GatewayDeps } from '../../gateway/deps.js';
import { createDispatcher, type Dispatcher } from '../../gateway/dispatch.js';
import { constantRoute } from '../../gateway/router.js';
import { ROUTES } from '../../gateway/routes/index.js';
import type { Bus, Subscription } from '../../runtime/bus/bus.js';
import { createMemoryBus } from '../../runtime/bus/memory.js';
import type { Cache } from '../../runtime/cache/cache.js';
import { createMemoryCache } from '../../runtime/cache/memory.js';
import { systemClock } from '../../runtime/clock.js';
import { loadConfig, type Config } from '../../runtime/config.js';
import { AuroraError } from '../../runtime/errors.js';
import { createLogger, type Logger } from '../../runtime/logger.js';
import { createMetrics } from '../../runtime/metrics.js';
import { serve } from '../../runtime/rpc.js';
import { createSubjects, type Subjects } from '../../runtime/subjects.js';
import type { BatchItemBody, ErrorBody, HealthBody, ReadyBody } from '../helpers/http-bodies.js';
import { uniqueNamespace } from '../helpers/services.js';
import { TEST_KINDS } from '../helpers/kinds.js';

const T0 = '2025-01-01T00:00:00.000Z';

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** The runtime side, as small as the tests need: registry, models, tasks, agents, health. */
function fakeRuntime(bus: Bus, subjects: Subjects) {
  const agents = new Map<string, AgentRecord>();
  const tasks = new Map<string, TaskRecord>();
  const models: LoadedModel[] = [{ name: 'llama2', provider: 'ollama', loaded_at: T0 }];
  const received: TaskRequest[] = [];
  const hooks: { onTask?: (req: TaskRequest) => Promise<void> | void } = {};
  const health = { database: true, llm: true };
  const subs: Subscription[] = [];
  const on = <Req, Res>(subject: string, handler: (req: Req) => Res | Promise<Res>) =>
    subs.push(serve<Req, Res>(bus, subject, handler));

  const mustGet = (name: string) => {
    const a = agents.get(name);
    if (!a) throw new AuroraError('agent_not_found', `Agent ${name} not found`);
    return a;
  };

  on(subjects.registry('create'), (def: Omit<AgentRecord, 'status' | 'created_at' | 'last_run'>) => {
    if (agents.has(def.name)) throw new AuroraError('agent_exists', `Agent ${def.name} already exists`);
    const rec: AgentRecord = { ...def, agent_id: `id-of-${def.name}`, status: 'idle', created_at: T0, last_run: null };
    agents.set(def.name, rec);
    return { ...rec, internal_secret: 'must not leak' };
  });
  on(subjects.registry('get'), ({ name }: { name: string }) => mustGet(name));
  on(subjects.registry('list'), ({ limit }: { limit: number }) => ({ agents: [...agents.values()].slice(0, limit), next_cursor: null }));
  on(subjects.registry('delete'), ({ name }: { name: string }) => {
    const { agent_id } = mustGet(name);
    agents.delete(name);
    return { name, agent_id, tasks_deleted: null, threads_deleted: null };
  });
  on(subjects.registry('restart'), ({ name }: { name: string }) => ({ ...mustGet(name), status: 'idle' }));
  on(subjects.registry('fault'), () => {
    throw new AuroraError('fault_injection_disabled', 'Fault injection is disabled');
  });
  on(subjects.models('list'), () => models);
  on(subjects.models('load'), ({ name, provider }: { name: string; provider: string }) => {
    const m = { name, provider, loaded_at: T0 };
    models.push(m);
    return m;
  });
  on(subjects.models('unload'), ({ name, provider }: { name: string; provider: string }) => {
    const i = models.findIndex((m) => m.name === name && m.provider === provider);
    if (i < 0) throw new AuroraError('model_not_loaded', `Model ${name} is not loaded`);
    models.splice(i, 1);
    return { name, provider };
  });
  on(subjects.models('status'), ({ name, provider }: { name: string; provider: string }) => ({
    name,
    provider,
    installed: true,
    loaded: models.some((m) => m.name === name),
    loaded_at: T0,
    size_bytes: 3_825_819_519,
    expires_at: null,
  }));
  on(subjects.tasks('get'), ({ task_id }: { task_id: string }) => {
    const t = tasks.get(task_id);
    if (!t) throw new AuroraError('task_not_found', `Task ${task_id} not found`);
    return t;
  });
  on(subjects.tasks('list'), (q: { agent?: string; status?: string; limit: number }) => ({
    tasks: [...tasks.values()].filter((t) => (q.agent === undefined || t.agent === q.agent) && (q.status === undefined || t.status === q.status)).slice(0, q.limit),
    next_cursor: null,
  }));
  on(subjects.tasks('cancel'), ({ task_id }: { task_id: string }) => {
    const t = tasks.get(task_id);
    if (!t) throw new AuroraError('task_not_found', `Task ${task_id} not found`);
    if (t.status === 'completed') throw new AuroraError('task_finished', `Task ${task_id} already finished`);
    return { task_id, status: 'cancelled' };
  });
  on(subjects.health(), () => health);
  on(subjects.agentAny(), async (req: TaskRequest): Promise<TaskResult> => {
    received.push(req);
    mustGet(req.agent);
    await hooks.onTask?.(req);
    if (req.prompt === 'fail') throw new AuroraError('llm_error', 'model exploded');
    if (req.prompt === 'busy') throw new AuroraError('queue_full', `Agent ${req.agent} mailbox is full`);
    if (req.prompt === 'defect') throw new TypeError('undefined is not a function');
    const result: TaskResult = {
      task_id: req.task_id,
      agent: req.agent,
      result: `Processed: ${req.prompt}`,
      status: 'completed',
      model: 'llama2',
      provider: 'ollama',
      tokens_used: 5,
      prompt_tokens: 2,
      completion_tokens: 3,
      completed_at: T0,
      duration_ms: 12,
      timings: { queued_ms: 1, total_duration_ms: 10, load_duration_ms: null, prompt_eval_duration_ms: 2, eval_duration_ms: 8 },
    };
    tasks.set(req.task_id, {
      task_id: req.task_id,
      agent: req.agent,
      agent_id: mustGet(req.agent).agent_id,
      prompt: req.prompt,
      parameters: req.parameters,
      status: 'completed',
      result: result.result,
      error: null,
      error_code: null,
      model: 'llama2',
      provider: 'ollama',
      tokens_used: 5,
      created_at: T0,
      started_at: T0,
      completed_at: T0,
      duration_ms: 12,
      timings: result.timings,
      thread_id: null,
      details: {},
    });
    return result;
  });
  return { agents, tasks, models, received, hooks, health, close: () => subs.forEach((s) => s.unsubscribe()) };
}

/** `T`: the body the test expects (the dispatcher's JSON, parsed); text answers are strings. */
interface Answer<T = unknown> {
  status: number;
  headers: Readonly<Record<string, string>>;
  body: T;
}

let bus: Bus;
let subjects: Subjects;
let config: Config;
let logLines: string[];
let logger: Logger;
let deps: GatewayDeps;
let dispatcher: Dispatcher;
let runtime: ReturnType<typeof fakeRuntime>;

function makeDeps(overrides: Partial<GatewayDeps> = {}): GatewayDeps {
  return {
    bus,
    subjects,
    config,
    kinds: TEST_KINDS,
    metrics: createMetrics({ defaultMetrics: false }),
    logger,
    cache: createMemoryCache(),
    clock: systemClock,
    startedAt: Date.now(),
    version: '9.9.9-test',
    ...overrides,
  };
}

async function send<T = unknown>(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
  d: Dispatcher = dispatcher,
): Promise<Answer<T>> {
  const q = path.indexOf('?');
  const url = q < 0 ? path : path.slice(0, q);
  const query = q < 0 ? '' : path.slice(q + 1);
  // A body goes out as JSON, as every real client must say (a test may override the type).
  const sent = body === undefined ? headers : { 'content-type': 'application/json', ...headers };
  const exchange = d.begin({ method, url, query, headers: sent });
  const bytes = body === undefined ? null : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  const out = await exchange.run(bytes);
  const isJson = out.headers['content-type'] === 'application/json';
  return { status: out.status, headers: out.headers, body: (isJson ? JSON.parse(out.body) : out.body) as T };
}

beforeEach(() => {
  bus = createMemoryBus();
  subjects = createSubjects(uniqueNamespace('gw'));
  config = loadConfig({ env: {}, overrides: { maxBodyBytes: 4096, batchMaxTasks: 3, busRequestTimeoutMs: 2000 } });
  logLines = [];
  logger = createLogger('debug', {}, (line) => logLines.push(line));
  runtime = fakeRuntime(bus, subjects);
  deps = makeDeps();
  dispatcher = createDispatcher(deps);
});

afterEach(async () => {
  runtime.close();
  await bus.drain();
});

async function createAgent(name: string, extra: Record<string, unknown> = {}) {
  const res = await send('POST', '/api/v1/agents/', { name, ...extra });
  expect(res.status).toBe(201);
  return res.body as AgentRecord;
}

describe('routing', () => {
  it('answers 404 Not Found for an unknown path', async () => {
    const res = await send('GET', '/api/v1/nothing-here');
    expect(res).toMatchObject({ status: 404, body: { detail: 'Not Found' } });
  });

  it('answers 405 with an Allow header listing the methods the path supports', async () => {
    const res = await send('PUT', '/api/v1/agents/x');
    expect(res.status).toBe(405);
    expect(res.body).toEqual({ detail: 'Method Not Allowed' });
    expect(res.headers.allow).toBe('DELETE, GET, PATCH');
  });

  it('serves collection paths with and without the trailing slash', async () => {
    await createAgent('a1');
    const withSlash = await send('GET', '/api/v1/agents/');
    const without = await send('GET', '/api/v1/agents');
    expect(withSlash.status).toBe(200);
    expect(without.body).toEqual(withSlash.body);
  });

  it('prefers a literal segment over a parameter: POST /tasks/execute is not GET /tasks/:id', async () => {
    const res = await send('DELETE', '/api/v1/tasks/execute');
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET, POST');
  });

  it('decodes percent-encoded path segments and answers 400 on a bad encoding', async () => {
    await createAgent('a.b');
    expect((await send<AgentRecord>('GET', '/api/v1/agents/a%2Eb')).body.name).toBe('a.b');
    const bad = await send('GET', '/api/v1/agents/%E0%A4%A');
    expect(bad).toMatchObject({ status: 400, body: { detail: 'Invalid percent-encoding in path' } });
  });
});

describe('constant answers', () => {
  it('offers the probes that never vary, with the body and headers the pipeline gives them', async () => {
    expect(dispatcher.constantAnswers.map((c) => c.path)).toEqual(['/health/live', '/health/startup']);
    const live = dispatcher.constantAnswers[0]!;
    const out = live.answer('req-7', '', '')!;
    const piped = await dispatcher.begin({ method: 'GET', url: '/health/live', query: '', headers: { 'x-request-id': 'req-7' } }).run(null);
    expect(out).toEqual(piped);
    expect(JSON.parse(out.body)).toEqual({ status: 'alive' });
    // A query string is the pipeline's to validate.
    expect(live.answer('', '', 'a=1')).toBeNull();
  });

  it('leaves a constant route that needs a token to the pipeline', () => {
    config = loadConfig({ env: {}, overrides: { authEnabled: true, jwtSecret: 'x'.repeat(32) } });
    const routes = [
      constantRoute({ method: 'GET', path: '/open', answer: { status: 200, body: { status: 'a' } }, responses: { 200: 'Alive' } }),
      constantRoute({ method: 'GET', path: '/scoped', scope: 'agents:read', answer: { status: 200, body: { status: 'b' } }, responses: { 200: 'Alive' } }),
    ];
    expect(createDispatcher(makeDeps(), { routes }).constantAnswers.map((c) => c.path)).toEqual(['/open']);
  });
});

describe('request bodies', () => {
  it('answers 400 "Invalid JSON body" on malformed JSON', async () => {
    const res = await send('POST', '/api/v1/agents/', '{"name": ');
    expect(res).toMatchObject({ status: 400, body: { detail: 'Invalid JSON body' } });
  });

  it('answers 415 to a body not declared as JSON, before reading it as JSON', async () => {
    const plain = await send('POST', '/api/v1/agents/', { name: 'plain' }, { 'content-type': 'text/plain' });
    expect(plain).toMatchObject({ status: 415, body: { detail: 'Content-Type "text/plain" is not supported; send the body as application/json' } });
    const untyped = await dispatcher.begin({ method: 'POST', url: '/api/v1/agents/', query: '', headers: {} }).run(Buffer.from('{"name":"untyped"}'));
    expect({ status: untyped.status, body: JSON.parse(untyped.body) as unknown }).toEqual({
      status: 415,
      body: { detail: 'Content-Type is missing; send the body as application/json' },
    });
    expect((await send('GET', '/api/v1/agents/')).body).toEqual([]);
    const typed = await send('POST', '/api/v1/agents/', { name: 'typed' }, { 'content-type': 'application/json; charset=UTF-8' });
    expect(typed.status).toBe(201);
  });

  it('answers 400 to a body that starts with a byte-order mark', async () => {
    const res = await send('POST', '/api/v1/agents/', '\ufeff{"name":"bom"}');
    expect(res).toMatchObject({ status: 400, body: { detail: 'Request body starts with a UTF-8 byte-order mark (EF BB BF); send JSON without one' } });
  });

  it('with auth off, refuses a write from a foreign Origin with 403 and serves the same page origin', async () => {
    const foreign = await send('POST', '/api/v1/agents/', { name: 'csrf' }, { origin: 'https://evil.example', host: '127.0.0.1:8000' });
    expect(foreign.status).toBe(403);
    expect(foreign.body).toEqual({
      detail: 'Cross-origin request refused: Origin "https://evil.example" is not in CORS_ORIGINS, and with AUTH_ENABLED=false only listed origins may change state',
    });
    // Even a write without a body (no Content-Type to check) is refused.
    expect((await send('DELETE', '/api/v1/agents/csrf', undefined, { origin: 'null', host: '127.0.0.1:8000' })).status).toBe(403);
    expect((await send('GET', '/api/v1/agents/', undefined, { origin: 'https://evil.example', host: '127.0.0.1:8000' })).status).toBe(200);
    const own = await send('POST', '/api/v1/agents/', { name: 'docs-page' }, { origin: 'http://127.0.0.1:8000', host: '127.0.0.1:8000' });
    expect(own.status).toBe(201);
  });

  it('answers 400 when a body is required but empty', async () => {
    const res = await send('POST', '/api/v1/agents/', '');
    expect(res).toMatchObject({ status: 400, body: { detail: 'Request body is required' } });
  });

  it('answers 413 naming the byte cap when a body is larger than maxBodyBytes', async () => {
    const res = await send('POST', '/api/v1/tasks/execute', { agent: 'a1', prompt: 'x'.repeat(5000) });
    expect(res).toMatchObject({ status: 413, body: { detail: 'Request body exceeds 4096 bytes' } });
  });

  it('names the missing field', async () => {
    expect((await send<ErrorBody>('POST', '/api/v1/agents/', {})).body.detail).toBe('name is required');
    expect((await send<ErrorBody>('POST', '/api/v1/tasks/execute', { agent: 'a1' })).body.detail).toBe('prompt is required');
  });

  it('names the field that breaks its pattern or range', async () => {
    const bad = await send<ErrorBody>('POST', '/api/v1/agents/', { name: 'no spaces allowed' });
    expect(bad.status).toBe(400);
    expect(bad.body.detail).toMatch(/^name: must match pattern /);
    const hot = await send<ErrorBody>('POST', '/api/v1/tasks/execute', { agent: 'a1', prompt: 'hi', parameters: { temperature: 3 } });
    expect(hot.body.detail).toBe('parameters.temperature: must be <= 2');
    const frac = await send<ErrorBody>('POST', '/api/v1/tasks/execute', { agent: 'a1', prompt: 'hi', parameters: { max_tokens: 1.5 } });
    expect(frac.body.detail).toBe('parameters.max_tokens: must be integer');
  });

  it('refuses unknown fields by name, at the top level and in parameters', async () => {
    const top = await send('POST', '/api/v1/agents/', { name: 'a1', model: 'llama3' });
    expect(top).toMatchObject({ status: 400, body: { detail: 'model is not a known field' } });
    const param = await send('POST', '/api/v1/tasks/execute', { agent: 'a1', prompt: 'hi', parameters: { top_kk: 3 } });
    expect(param).toMatchObject({ status: 400, body: { detail: 'parameters.top_kk is not a known field' } });
  });

  it('rejects a body that is not a JSON object', async () => {
    const res = await send('POST', '/api/v1/agents/', [1, 2]);
    expect(res).toMatchObject({ status: 400, body: { detail: 'Request body: must be object' } });
  });
});

describe('agents', () => {
  it('creates an agent with the documented defaults and answers 201 with the record', async () => {
    const res = await send('POST', '/api/v1/agents/', { name: 'my-agent' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      name: 'my-agent',
      agent_id: 'id-of-my-agent',
      description: '',
      status: 'idle',
      config: {},
      created_at: T0,
      last_run: null,
      agent_type: 'llm',
      model_name: 'llama2',
      provider: 'ollama',
    });
  });

  it('sends only the schema fields: what the runtime adds beyond them never leaves the gateway', async () => {
    const rec = await createAgent('a1', { config: { temperature: 0.2, nested: { k: [1] } } });
    expect(rec).not.toHaveProperty('internal_secret');
    expect(rec.config).toEqual({ temperature: 0.2, nested: { k: [1] } });
  });

  it('answers 400 for an unknown agent_type or provider, by value', async () => {
    expect((await send('POST', '/api/v1/agents/', { name: 'a1', agent_type: 'robot' })).body).toEqual({
      detail: 'Unknown agent_type: robot',
    });
    const p = await send('POST', '/api/v1/agents/', { name: 'a1', provider: 'openai' });
    expect(p).toMatchObject({ status: 400, body: { detail: 'Unknown provider: openai' } });
  });

  it('answers 409 for a duplicate name and 404 for an unknown one, with the runtime message', async () => {
    await createAgent('a1');
    const dup = await send('POST', '/api/v1/agents/', { name: 'a1' });
    expect(dup).toMatchObject({ status: 409, body: { detail: 'Agent a1 already exists' } });
    const missing = await send('GET', '/api/v1/agents/ghost');
    expect(missing).toMatchObject({ status: 404, body: { detail: 'Agent ghost not found' } });
  });

  it('lists, gets and deletes agents', async () => {
    await createAgent('a1');
    await createAgent('a2');
    expect((await send<AgentRecord[]>('GET', '/api/v1/agents/')).body.map((a: AgentRecord) => a.name)).toEqual(['a1', 'a2']);
    expect((await send<AgentRecord>('GET', '/api/v1/agents/a2')).body.name).toBe('a2');
    const del = await send('DELETE', '/api/v1/agents/a1');
    expect(del).toMatchObject({ status: 200, body: { message: 'Agent a1 deleted successfully' } });
    expect((await send('DELETE', '/api/v1/agents/a1')).status).toBe(404);
  });

  it('restarts an agent and passes the fault-injection refusal through as 403', async () => {
    await createAgent('a1');
    expect((await send('POST', '/api/v1/agents/a1/restart')).body).toMatchObject({ name: 'a1', status: 'idle' });
    const fault = await send('POST', '/api/v1/agents/a1/fault');
    expect(fault).toMatchObject({ status: 403, body: { detail: 'Fault injection is disabled' } });
  });
});

describe('models', () => {
  it('lists loaded models as a map keyed model:<provider>:<name> with a count', async () => {
    const res = await send('GET', '/api/v1/models/');
    expect(res.body).toEqual({
      models: { 'model:ollama:llama2': { name: 'llama2', provider: 'ollama', loaded_at: T0 } },
      count: 1,
    });
  });

  it('the list handler is pure: request in, response out', async () => {
    const listRoute = ROUTES.find((r) => r.method === 'GET' && r.path === '/api/v1/models/');
    const res = await listRoute!.handler({ params: {}, query: {}, body: undefined, headers: {} }, deps);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ count: 1 });
  });

  it('loads (201) and unloads a model with the documented messages', async () => {
    const load = await send('POST', '/api/v1/models/load', { name: 'mistral' });
    expect(load).toMatchObject({
      status: 201,
      body: { message: 'Model mistral loaded successfully', name: 'mistral', provider: 'ollama' },
    });
    const unload = await send('DELETE', '/api/v1/models/mistral?provider=ollama');
    expect(unload.body).toEqual({ message: 'Model mistral unloaded successfully' });
    expect((await send('DELETE', '/api/v1/models/mistral')).status).toBe(404);
  });

  it('reports one model status, and refuses an unknown provider by name', async () => {
    const res = await send('GET', '/api/v1/models/llama2%3A7b/status');
    expect(res.body).toMatchObject({ name: 'llama2:7b', provider: 'ollama', installed: true, expires_at: null });
    const bad = await send('GET', '/api/v1/models/llama2/status?provider=nope');
    expect(bad).toMatchObject({ status: 400, body: { detail: 'Unknown provider: nope' } });
  });
});

describe('tasks', () => {
  it('runs a task and answers with the TaskResult, a fresh task id and the parameters passed on', async () => {
    await createAgent('a1');
    const res = await send<TaskResult>('POST', '/api/v1/tasks/execute', {
      agent: 'a1',
      prompt: 'Hello',
      parameters: { temperature: 0.5, seed: 7 },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ result: 'Processed: Hello', status: 'completed', model: 'llama2', tokens_used: 5, agent: 'a1' });
    expect(res.body.task_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(runtime.received[0]).toEqual({
      task_id: res.body.task_id,
      agent: 'a1',
      prompt: 'Hello',
      parameters: { temperature: 0.5, seed: 7 },
    });
  });

  it('maps task errors through the error table, with Retry-After on 429', async () => {
    await createAgent('a1');
    const notFound = await send('POST', '/api/v1/tasks/execute', { agent: 'ghost', prompt: 'hi' });
    expect(notFound).toMatchObject({ status: 404, body: { detail: 'Agent ghost not found' } });
    const llm = await send('POST', '/api/v1/tasks/execute', { agent: 'a1', prompt: 'fail' });
    expect(llm).toMatchObject({ status: 502, body: { detail: 'model exploded' } });
    const busy = await send('POST', '/api/v1/tasks/execute', { agent: 'a1', prompt: 'busy' });
    expect(busy.status).toBe(429);
    expect(busy.headers['retry-after']).toBe('1');
  });

  it('runs a batch concurrently, sent in input order, answered in input order with per-item failures', async () => {
    await createAgent('a1');
    await createAgent('a2');
    // The first task finishes last: it waits until the third has reached the runtime.
    const thirdArrived = deferred();
    runtime.hooks.onTask = async (req) => {
      if (req.prompt === 'first') await thirdArrived.promise;
      if (req.prompt === 'third') thirdArrived.resolve();
    };
    const res = await send<BatchItemBody[]>('POST', '/api/v1/tasks/execute/batch', {
      tasks: [
        { agent: 'a1', prompt: 'first' },
        { agent: 'a2', prompt: 'fail' },
        { agent: 'a1', prompt: 'third' },
      ],
    });
    expect(res.status).toBe(200);
    expect(runtime.received.map((r) => r.prompt)).toEqual(['first', 'fail', 'third']);
    expect(res.body).toHaveLength(3);
    expect(res.body[0]).toMatchObject({ status: 'completed', result: 'Processed: first', agent: 'a1' });
    expect(res.body[1]).toEqual({
      task_id: runtime.received[1]!.task_id,
      agent: 'a2',
      status: 'failed',
      error: 'model exploded',
      error_code: 'llm_error',
    });
    expect(res.body[2]).toMatchObject({ status: 'completed', result: 'Processed: third' });
  });

  it('hides a defect in one batch item behind an opaque internal error and logs it', async () => {
    await createAgent('a1');
    const res = await send<BatchItemBody[]>('POST', '/api/v1/tasks/execute/batch', { tasks: [{ agent: 'a1', prompt: 'defect' }] });
    expect(res.body[0]).toMatchObject({ status: 'failed', error: 'Internal server error', error_code: 'internal' });
  });

  it('refuses an empty batch, an oversized batch, and an invalid item by its index', async () => {
    const empty = await send('POST', '/api/v1/tasks/execute/batch', { tasks: [] });
    expect(empty).toMatchObject({ status: 400, body: { detail: 'tasks: must NOT have fewer than 1 items' } });
    const task = { agent: 'a1', prompt: 'x' };
    const big = await send('POST', '/api/v1/tasks/execute/batch', { tasks: [task, task, task, task] });
    expect(big).toMatchObject({ status: 400, body: { detail: 'tasks: at most 3 tasks per batch, got 4' } });
    const item = await send('POST', '/api/v1/tasks/execute/batch', { tasks: [task, { agent: 'a1' }] });
    expect(item).toMatchObject({ status: 400, body: { detail: 'tasks[1].prompt is required' } });
  });

  it('gets, lists and cancels tasks by id', async () => {
    await createAgent('a1');
    const run = await send<TaskResult>('POST', '/api/v1/tasks/execute', { agent: 'a1', prompt: 'Hello' });
    const id = run.body.task_id as string;
    expect((await send('GET', `/api/v1/tasks/${id}`)).body).toMatchObject({ task_id: id, status: 'completed' });
    const listed = await send<TaskRecord[]>('GET', '/api/v1/tasks?agent=a1&status=completed&limit=10');
    expect(listed.body.map((t: TaskRecord) => t.task_id)).toEqual([id]);
    expect((await send('GET', '/api/v1/tasks/nope')).status).toBe(404);
    expect((await send('POST', `/api/v1/tasks/${id}/cancel`)).status).toBe(409);
  });

  it('answers 400 naming the query parameter that is out of range or unknown', async () => {
    expect((await send<ErrorBody>('GET', '/api/v1/tasks/?limit=0')).body.detail).toBe('limit: must be an integer between 1 and 1000');
    expect((await send<ErrorBody>('GET', '/api/v1/tasks/?limit=ten')).body.detail).toBe('limit: must be an integer between 1 and 1000');
    expect((await send<ErrorBody>('GET', '/api/v1/tasks/?status=done')).body.detail).toBe(
      'status: must be one of queued, running, completed, failed, cancelled',
    );
    expect((await send<ErrorBody>('GET', '/api/v1/tasks/?agent=bad%20name')).body.detail).toMatch(/^agent: must match pattern/);
  });
});

describe('health', () => {
  it('answers the root, health, live and startup probes', async () => {
    expect((await send('GET', '/')).body).toEqual({ name: 'Aurora Pro AI', version: '9.9.9-test', status: 'running' });
    const h = await send<HealthBody>('GET', '/health/');
    expect(h.body).toMatchObject({ status: 'healthy', service: 'aurora-pro-ai' });
    expect(Number.isNaN(Date.parse(h.body.timestamp))).toBe(false);
    expect((await send('GET', '/health/live')).body).toEqual({ status: 'alive' });
    expect((await send('GET', '/health/startup'))).toMatchObject({ status: 200, body: { status: 'started' } });
  });

  it('is ready when the runtime, the bus and the cache all answer', async () => {
    const res = await send('GET', '/health/ready');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'ready', checks: { database: true, bus: true, cache: true, llm: true } });
  });

  it('answers 503 listing the failing checks, with Retry-After', async () => {
    runtime.health.llm = false;
    const downCache: Cache = { ...createMemoryCache(), ping: async () => false };
    const d = createDispatcher(makeDeps({ cache: downCache }));
    const res = await send('GET', '/health/ready', undefined, {}, d);
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({
      status: 'not_ready',
      checks: { database: true, bus: true, cache: false, llm: false },
      detail: 'Not ready: cache, llm',
    });
    expect(res.headers['retry-after']).toBe('5');
  });

  it('blames only the bus when no node answers on it: the database and the LLM are unknown, not down', async () => {
    runtime.close();
    const res = await send<ReadyBody>('GET', '/health/ready');
    expect(res.status).toBe(503);
    expect(res.body.checks).toEqual({ database: null, bus: false, cache: true, llm: null });
    expect(res.body.detail).toBe(
      'Not ready: bus (connected, but no node answers); database and llm unknown: the node checks them over the bus',
    );
  });

  it('does not ask over a disconnected bus, and says it is not connected', async () => {
    let asked = 0;
    const disconnected = new Proxy(bus, {
      get: (target, key, receiver): unknown => {
        if (key === 'isConnected') return () => false;
        if (key === 'request') asked += 1;
        return Reflect.get(target, key, receiver) as unknown;
      },
    });
    const downCache: Cache = { ...createMemoryCache(), ping: async () => false };
    const d = createDispatcher(makeDeps({ bus: disconnected, cache: downCache }));
    const res = await send<ReadyBody>('GET', '/health/ready', undefined, {}, d);
    expect(res.status).toBe(503);
    expect(res.body.checks).toEqual({ database: null, bus: false, cache: false, llm: null });
    expect(res.body.detail).toBe('Not ready: bus (not connected), cache; database and llm unknown: the node checks them over the bus');
    expect(asked).toBe(0);
  });

  it('bounds a hanging cache ping with the check timeout', async () => {
    const hanging: Cache = { ...createMemoryCache(), ping: () => new Promise<boolean>(() => {}) };
    const fast = loadConfig({ env: {}, overrides: { busRequestTimeoutMs: 20 } });
    const d = createDispatcher(makeDeps({ cache: hanging, config: fast }));
    const res = await send<ReadyBody>('GET', '/health/ready', undefined, {}, d);
    expect(res.status).toBe(503);
    expect(res.body.checks.cache).toBe(false);
  });
});

describe('cross-cutting', () => {
  it('echoes a sane X-Request-Id and replaces one that is not', async () => {
    const kept = await send('GET', '/health/live', undefined, { 'x-request-id': 'req-123.abc' });
    expect(kept.headers['x-request-id']).toBe('req-123.abc');
    const replaced = await send('GET', '/health/live', undefined, { 'x-request-id': 'bad id\nwith newline' });
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const fresh = await send('GET', '/nowhere');
    expect(fresh.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers a defect with an opaque 500 and logs it with the request id', async () => {
    await createAgent('a1');
    const res = await send('POST', '/api/v1/tasks/execute', { agent: 'a1', prompt: 'defect' }, { 'x-request-id': 'trace-1' });
    expect(res).toMatchObject({ status: 500, body: { detail: 'Internal server error' } });
    // The runtime's `serve` turns the defect into `internal`; the gateway logs the 500 with the id.
    expect(logLines.some((l) => l.includes('"request_id":"trace-1"'))).toBe(true);
  });

  it('labels HTTP metrics with the route template, never the raw path', async () => {
    await send('GET', '/api/v1/agents/some-agent');
    await send('GET', '/totally/unknown/path');
    const text = await deps.metrics.registry.metrics();
    expect(text).toContain('aurora_http_requests_total{method="GET",route="/api/v1/agents/:name",status="404"} 1');
    expect(text).toContain('route="unmatched"');
    expect(text).not.toContain('some-agent');
    expect(text).not.toContain('/totally/unknown/path');
  });

  it('serves Prometheus text with the registry content type', async () => {
    const res = await send('GET', '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(deps.metrics.registry.contentType);
    expect(res.body).toContain('# HELP aurora_http_requests_total');
  });
});
