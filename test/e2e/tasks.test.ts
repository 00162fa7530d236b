// Tasks for real clients, end to end: asynchronous submit, and Idempotency-Key on the routes that
// do work (a retry replays the first answer or joins the running task; the fake Ollama counts the
// model calls, so "not run twice" is observed, not assumed). Aurora as its own process per mode.
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { startFakeOllama, type FakeOllama } from '../fixtures/fake-ollama.js';
import { client, describeModes, startAurora, StreamClient, tempDir, type Api, type AuroraProcess, type TempDir } from '../helpers/e2e.js';
import { uniqueNamespace } from '../helpers/services.js';

interface Submitted {
  task_id: string;
  status: string;
}
interface TaskBody {
  task_id: string;
  result: string;
  status: string;
}
interface ErrorBody {
  detail: string;
}

await describeModes('tasks for real clients', (mode) => {
  let fake: FakeOllama;
  let dir: TempDir;
  let server: AuroraProcess;
  let api: Api;
  let namespace: string;

  const start = async () => {
    server = await startAurora({
      ...mode.env,
      DATABASE_PATH: dir.file('aurora.db'),
      OLLAMA_HOST: fake.url,
      AURORA_NAMESPACE: namespace,
    });
    api = client(server.url);
  };

  beforeAll(async () => {
    fake = await startFakeOllama();
    dir = tempDir();
    namespace = uniqueNamespace('e2e_tasks');
    await start();
    expect((await api.post('/api/v1/agents/', { name: 'worker' })).status).toBe(201);
  });

  afterAll(async () => {
    await server?.stop();
    await fake?.close();
    dir?.remove();
  });

  beforeEach(() => {
    fake.setFault(null);
    fake.setLatency(0);
  });

  const chatCount = () => fake.chats().filter((c) => c.messages.length > 0).length;
  const withKey = (key: string) => ({ headers: { 'idempotency-key': key } });

  it('submits a task asynchronously: 202 with its id and Location, then its progress on GET and the stream', async () => {
    const socket = await StreamClient.connect(`${server.wsUrl}?agents=worker&types=task.completed`);
    fake.setLatency(50);
    const res = await api.post<Submitted>('/api/v1/tasks', { agent: 'worker', prompt: 'later please' });
    expect(res.status, res.text).toBe(202);
    expect(res.body).toEqual({ task_id: expect.any(String), status: 'queued' });
    expect(res.headers.get('location')).toBe(`/api/v1/tasks/${res.body.task_id}`);
    const done = await socket.next((m) => m.type === 'task.completed' && m.task_id === res.body.task_id, 'task.completed');
    expect(done.task_id).toBe(res.body.task_id);
    const record = await api.get<{ status: string; result: string }>(`/api/v1/tasks/${res.body.task_id}`);
    expect(record.body).toMatchObject({ status: 'completed', result: 'later please' });
    socket.ws.close();
    const unknown = await api.post<ErrorBody>('/api/v1/tasks', { agent: 'nobody', prompt: 'x' });
    expect(unknown.status).toBe(404);
  });

  it('replays an execute retried with the same Idempotency-Key instead of running it again', async () => {
    const before = chatCount();
    const first = await api.post<TaskBody>('/api/v1/tasks/execute', { agent: 'worker', prompt: 'once only' }, withKey('exec-1'));
    expect(first.status, first.text).toBe(200);
    const again = await api.post<TaskBody>('/api/v1/tasks/execute', { agent: 'worker', prompt: 'once only' }, withKey('exec-1'));
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(chatCount()).toBe(before + 1);
    const other = await api.post<ErrorBody>('/api/v1/tasks/execute', { agent: 'worker', prompt: 'something else' }, withKey('exec-1'));
    expect(other.status).toBe(422);
    expect(other.body.detail).toContain('different request');
    expect(chatCount()).toBe(before + 1);
  });

  it('joins the running task when a retry arrives before the first answer', async () => {
    fake.setLatency(300);
    const before = chatCount();
    const first = api.post<TaskBody>('/api/v1/tasks/execute', { agent: 'worker', prompt: 'slow one' }, withKey('exec-join'));
    await fake.waitForRequest('/api/chat', fake.requests.filter((r) => r.path === '/api/chat').length + 1);
    const retry = await api.post<TaskBody>('/api/v1/tasks/execute', { agent: 'worker', prompt: 'slow one' }, withKey('exec-join'));
    const original = await first;
    expect(original.status, original.text).toBe(200);
    expect(retry.status, retry.text).toBe(200);
    expect(retry.body.task_id).toBe(original.body.task_id);
    expect(retry.body.result).toBe(original.body.result);
    expect(chatCount()).toBe(before + 1);
  });

  it('makes submit, batch and agent create safe to retry', async () => {
    const a = await api.post<Submitted>('/api/v1/tasks', { agent: 'worker', prompt: 'submit once' }, withKey('sub-1'));
    const b = await api.post<Submitted>('/api/v1/tasks', { agent: 'worker', prompt: 'submit once' }, withKey('sub-1'));
    expect(a.status).toBe(202);
    expect(b.status).toBe(202);
    expect(b.body.task_id).toBe(a.body.task_id);
    const batch = { tasks: [{ agent: 'worker', prompt: 'b1' }, { agent: 'worker', prompt: 'b2' }] };
    const firstBatch = await api.post<TaskBody[]>('/api/v1/tasks/execute/batch', batch, withKey('batch-1'));
    const secondBatch = await api.post<TaskBody[]>('/api/v1/tasks/execute/batch', batch, withKey('batch-1'));
    expect(secondBatch.body.map((t) => t.task_id)).toEqual(firstBatch.body.map((t) => t.task_id));
    const created = await api.post('/api/v1/agents/', { name: 'made-once' }, withKey('agent-1'));
    const recreated = await api.post('/api/v1/agents/', { name: 'made-once' }, withKey('agent-1'));
    expect(created.status).toBe(201);
    expect(recreated.status).toBe(201);
    expect(recreated.body).toEqual(created.body);
    // Without the key the duplicate is what it always was.
    expect((await api.post('/api/v1/agents/', { name: 'made-once' })).status).toBe(409);
  });

  it('refuses a malformed key and changes nothing', async () => {
    const before = chatCount();
    for (const key of ['has space', 'x'.repeat(256), 'tab\there']) {
      const res = await api.post<ErrorBody>('/api/v1/tasks/execute', { agent: 'worker', prompt: 'p' }, withKey(key));
      expect(res.status, key).toBe(400);
      expect(res.body.detail).toContain('idempotency-key');
    }
    expect(chatCount()).toBe(before);
  });

  it('remembers keys across a restart of the process', async () => {
    const first = await api.post<TaskBody>('/api/v1/tasks/execute', { agent: 'worker', prompt: 'survive' }, withKey('exec-restart'));
    expect(first.status).toBe(200);
    await server.stop();
    await start();
    const before = chatCount();
    const again = await api.post<TaskBody>('/api/v1/tasks/execute', { agent: 'worker', prompt: 'survive' }, withKey('exec-restart'));
    expect(again.status).toBe(200);
    expect(again.body.task_id).toBe(first.body.task_id);
    expect(chatCount()).toBe(before);
  });
});
