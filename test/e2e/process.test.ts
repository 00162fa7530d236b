// Aurora as a process: killed with SIGKILL mid-task and started again on the same database, stopped
// with SIGTERM while a task runs, and (with Redis) losing and regaining its cache. Every server
// here is node dist/bin/aurora.js; the fake Ollama and a private redis-server run from the test.
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { startFakeOllama, type FakeOllama } from '../fixtures/fake-ollama.js';
import {
  client,
  describeModes,
  privateRedis,
  startAurora,
  StreamClient,
  tempDir,
  type AuroraProcess,
  type RedisProcess,
  type TaskEvent,
  type TempDir,
} from '../helpers/e2e.js';
import type { ReadyBody, TaskResultBody } from '../helpers/http-bodies.js';
import { uniqueNamespace } from '../helpers/services.js';

await describeModes('Server process', (mode) => {
  let fake: FakeOllama;
  let dir: TempDir;
  const servers: AuroraProcess[] = [];
  const sockets: StreamClient[] = [];
  let redis: RedisProcess | undefined;

  /** Same DATABASE_PATH and namespace for every start within one test: a restart, not a new node. */
  const envFor = (dbName: string, namespace: string, extra: Record<string, string> = {}) => ({
    ...mode.env,
    DATABASE_PATH: dir.file(dbName),
    OLLAMA_HOST: fake.url,
    AURORA_NAMESPACE: namespace,
    FAULT_INJECTION_ENABLED: 'true',
    SUPERVISOR_BACKOFF_BASE_MS: '0',
    SUPERVISOR_BACKOFF_MAX_MS: '0',
    ...extra,
  });
  const start = async (env: Record<string, string>) => {
    const server = await startAurora(env);
    servers.push(server);
    return server;
  };
  const watch = async (server: AuroraProcess, query: string) => {
    const s = await StreamClient.connect(`${server.wsUrl}?${query}`);
    sockets.push(s);
    return s;
  };

  beforeAll(async () => {
    fake = await startFakeOllama();
    dir = tempDir();
  });

  afterEach(async () => {
    fake.setFault(null);
    await Promise.all(sockets.splice(0).map((s) => s.close()));
    await Promise.all(servers.splice(0).map((s) => s.kill('SIGKILL')));
    await redis?.close();
    redis = undefined;
  });

  afterAll(async () => {
    await fake?.close();
    dir?.remove();
  });

  it('after SIGKILL mid-task, a restart on the same database brings the agent back and reports the task interrupted', async () => {
    const namespace = uniqueNamespace('e2e_proc');
    const first = await start(envFor('restart.db', namespace));
    const api1 = client(first.url);
    expect((await api1.post('/api/v1/agents/', { name: 'survivor', description: 'outlives its process' })).status).toBe(201);
    const events = await watch(first, 'agents=survivor&types=task.*');
    fake.setFault({ kind: 'stall', afterTokens: 1 });
    const execution = api1.post('/api/v1/tasks/execute', { agent: 'survivor', prompt: 'never finished' }).then(
      (res) => `answered ${res.status}`,
      () => 'connection lost',
    );
    const started = await events.next<TaskEvent>((m) => m.type === 'task.token', 'the first token');
    const taskId: string = started.task_id;

    expect(await first.kill('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
    expect(await execution).toBe('connection lost');
    fake.setFault(null);

    const second = await start(envFor('restart.db', namespace));
    const api2 = client(second.url);
    const agent = await api2.get('/api/v1/agents/survivor');
    expect(agent.status, agent.text).toBe(200);
    expect(agent.body).toMatchObject({ name: 'survivor', description: 'outlives its process', status: 'idle' });
    const task = await api2.get(`/api/v1/tasks/${taskId}`);
    expect(task.body).toMatchObject({
      task_id: taskId,
      agent: 'survivor',
      status: 'failed',
      error_code: 'interrupted',
      error: expect.stringMatching(/.+/),
      result: null,
      completed_at: expect.any(String),
    });
    expect((await api2.get('/api/v1/tasks/?agent=survivor&status=running')).body).toEqual([]);
    const again = await api2.post<TaskResultBody>('/api/v1/tasks/execute', { agent: 'survivor', prompt: 'alive again' });
    expect({ status: again.status, result: again.body.result }).toEqual({ status: 200, result: 'alive again' });
    expect(await second.stop()).toEqual({ code: 0, signal: null });
  });

  it('on SIGTERM lets the task in flight finish and answer, then exits 0', async () => {
    const server = await start(envFor('sigterm.db', uniqueNamespace('e2e_proc')));
    const api = client(server.url);
    expect((await api.post('/api/v1/agents/', { name: 'finisher' })).status).toBe(201);
    const events = await watch(server, 'agents=finisher');
    fake.setFault({ kind: 'slow', tokenDelayMs: 50 });
    const execution = api.post<TaskResultBody>('/api/v1/tasks/execute', { agent: 'finisher', prompt: 'one two three four five six' });
    await events.next((m) => m.type === 'task.token', 'the first token');

    const exit = server.stop();
    const answer = await execution;
    expect({ status: answer.status, result: answer.body.result }).toEqual({ status: 200, result: 'one two three four five six' });
    expect(await exit).toEqual({ code: 0, signal: null });
    expect(await events.closed).toEqual({ code: 1001, reason: 'server shutting down' });
    expect(server.logs.some((l) => l.msg === 'shutting down' && l.signal === 'SIGTERM')).toBe(true);
  });

  if (mode.redisUrl !== undefined) {
    it('reports not ready with cache:false while Redis is gone, keeps serving, and is ready again when it returns', async () => {
      redis = await privateRedis();
      const server = await start(envFor('redis.db', uniqueNamespace('e2e_proc'), { REDIS_URL: redis.url }));
      const api = client(server.url);
      expect((await server.waitForLog((l) => l.msg === 'aurora started')).cache).toBe(redis.url);
      const ready = await api.get('/health/ready');
      expect(ready.status, ready.text).toBe(200);

      await redis.kill();
      await server.waitForLog((l) => l.msg?.startsWith('Redis unavailable') === true, 'the Redis outage');
      const down = await api.get('/health/ready');
      expect(down.status, down.text).toBe(503);
      expect(down.body).toMatchObject({
        status: 'not_ready',
        checks: { database: true, bus: true, cache: false, llm: true },
        detail: 'Not ready: cache',
      });
      // A cache outage costs misses, not service.
      expect((await api.post('/api/v1/agents/', { name: 'cacheless' })).status).toBe(201);
      expect((await api.post<TaskResultBody>('/api/v1/tasks/execute', { agent: 'cacheless', prompt: 'no cache needed' })).body.result).toBe('no cache needed');
      expect((await api.get('/api/v1/models/')).status).toBe(200);

      const mark = server.logs.length;
      await redis.start();
      await server.waitForLog((l) => l.msg === 'Redis is back', 'Redis coming back', mark);
      const back = await api.get<ReadyBody>('/health/ready');
      expect(back.status, back.text).toBe(200);
      expect(back.body.checks).toEqual({ database: true, bus: true, cache: true, llm: true });
    });
  }
});
