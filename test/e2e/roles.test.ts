// AURORA_ROLE: the gateway and the actor node as two processes that share only a NATS namespace.
// The gateway holds no agent state, so everything it answers came over the bus from the node.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startFakeOllama, type FakeOllama } from '../fixtures/fake-ollama.js';
import { client, metricSum, startAurora, StreamClient, taskEvents, tempDir, type AuroraProcess, type TempDir } from '../helpers/e2e.js';
import type { ReadyBody, TaskResultBody } from '../helpers/http-bodies.js';
import { describeWithService, NATS_URL, uniqueNamespace } from '../helpers/services.js';

await describeWithService('NATS', NATS_URL, 'Split roles: a gateway process and a node process', () => {
  let fake: FakeOllama;
  let dir: TempDir;
  let node: AuroraProcess;
  let gateway: AuroraProcess;
  const namespace = uniqueNamespace('e2e_roles');

  beforeAll(async () => {
    fake = await startFakeOllama();
    dir = tempDir();
    const shared = { NATS_URL, AURORA_NAMESPACE: namespace, OLLAMA_HOST: fake.url };
    node = await startAurora({ ...shared, AURORA_ROLE: 'node', DATABASE_PATH: dir.file('node.db') });
    // The gateway is given no database: it must never open one.
    gateway = await startAurora({ ...shared, AURORA_ROLE: 'gateway', DATABASE_PATH: dir.file('gateway-must-not-exist/x.db') });
  });

  afterAll(async () => {
    await gateway?.kill('SIGKILL');
    await node?.kill('SIGKILL');
    await fake?.close();
    dir?.remove();
  });

  it('serves the whole API from the gateway while agents, tasks and their events live in the node', async () => {
    const api = client(gateway.url);
    expect((await api.get('/health/ready')).status).toBe(200);
    const stream = await StreamClient.connect(`${gateway.wsUrl}?agents=split-agent`);
    try {
      expect((await api.post('/api/v1/agents/', { name: 'split-agent' })).status).toBe(201);
      const run = await api.post<TaskResultBody>('/api/v1/tasks/execute', { agent: 'split-agent', prompt: 'across two processes' });
      expect({ status: run.status, result: run.body.result }).toEqual({ status: 200, result: 'across two processes' });
      await stream.next((m) => m.type === 'task.completed' && m.task_id === run.body.task_id, 'task.completed on the gateway');
      const types = taskEvents(stream.messages, run.body.task_id).map((m) => m.type);
      expect(types).toEqual(['task.queued', 'task.started', 'task.token', 'task.token', 'task.token', 'task.completed']);
      expect((await api.get(`/api/v1/tasks/${run.body.task_id}`)).body).toMatchObject({ status: 'completed', result: 'across two processes' });
    } finally {
      await stream.close();
    }
    const started = await gateway.waitForLog((l) => l.msg === 'aurora started');
    expect(started).toMatchObject({ role: 'gateway' });
    expect(started.store).toBe('none');
    expect(existsSync(dir.file('gateway-must-not-exist'))).toBe(false);
  });

  it('gives the node only its probes and /metrics, where its supervisor and task metrics are', async () => {
    const ops = client(node.url);
    expect((await ops.get('/health/ready')).status).toBe(200);
    expect((await ops.get('/api/v1/agents/')).status).toBe(404);
    const metrics = await ops.get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metricSum(metrics.text, 'aurora_tasks_total', { outcome: 'completed' })).toBeGreaterThanOrEqual(1);
    expect(metricSum((await client(gateway.url).get('/metrics')).text, 'aurora_tasks_total')).toBe(0);
  });

  it('reports the gateway not ready while no node answers on the bus, and ready again when one does', async () => {
    const api = client(gateway.url);
    await node.kill('SIGKILL');
    const down = await api.get<ReadyBody>('/health/ready');
    expect(down.status).toBe(503);
    // NATS is fine: what is down is the node behind it, and the node's own checks are unknown.
    expect(down.body.checks).toMatchObject({ bus: false, database: null, llm: null });
    expect(down.body.detail).toMatch(/^Not ready: bus \(connected, but no node answer(s|ed in time)\); database and llm unknown/);
    node = await startAurora({
      NATS_URL,
      AURORA_NAMESPACE: namespace,
      OLLAMA_HOST: fake.url,
      AURORA_ROLE: 'node',
      DATABASE_PATH: dir.file('node.db'),
    });
    expect((await api.get('/health/ready')).status).toBe(200);
    expect((await api.get('/api/v1/agents/split-agent')).body).toMatchObject({ name: 'split-agent' });
  });
});
