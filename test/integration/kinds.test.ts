// A kind defined in test/ (test/fixtures/kinds/relay.ts) runs end to end through the generic host,
// registry, gateway and stream: Aurora started in-process with the catalog plus `relay`, its real
// uWS gateway, the real bus (in-process and NATS), SQLite, and the fake Ollama server. Nothing in
// actors/, supervisors/ or gateway/ names `relay`.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AGENT_KINDS } from '../../actors/catalog.js';
import { startAurora, type Aurora } from '../../bin/aurora.js';
import { loadConfig } from '../../runtime/config.js';
import { silentLogger } from '../../runtime/logger.js';
import { startFakeOllama, type FakeOllama } from '../fixtures/fake-ollama.js';
import { relayKind } from '../fixtures/kinds/relay.js';
import { client, describeModes, StreamClient, taskEvents, tempDir, type Api, type TempDir } from '../helpers/e2e.js';
import { uniqueNamespace } from '../helpers/services.js';

interface ChatBody {
  messages: { role: string; content: string }[];
}

await describeModes('an agent kind defined outside actors/', (mode) => {
  let fake: FakeOllama;
  let dir: TempDir;
  let aurora: Aurora;
  let api: Api;
  let wsUrl: string;

  beforeAll(async () => {
    fake = await startFakeOllama();
    dir = tempDir();
    const config = loadConfig({
      env: { ...mode.env },
      overrides: {
        port: 0,
        databasePath: dir.file('aurora.db'),
        ollamaHost: fake.url,
        namespace: uniqueNamespace('kinds'),
      },
    });
    aurora = await startAurora(config, silentLogger, { kinds: [...AGENT_KINDS, relayKind] });
    const base = `127.0.0.1:${aurora.gateway.port}`;
    api = client(`http://${base}`);
    wsUrl = `ws://${base}/api/v1/stream`;
  });

  afterAll(async () => {
    await aurora?.stop();
    await fake?.close();
    dir?.remove();
  });

  const lastUserMessages = (from: number) =>
    fake.requests
      .slice(from)
      .filter((r) => r.path === '/api/chat')
      .map((r) => (r.body as ChatBody).messages.at(-1)!.content);

  it('validates the agent config against the kind schema, naming the field', async () => {
    const wrongType = await api.post('/api/v1/agents/', { name: 'relay-bad', agent_type: 'relay', config: { hops: 'two' } });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body).toEqual({ detail: 'config.hops: must be integer' });
    const unknown = await api.post('/api/v1/agents/', { name: 'relay-bad', agent_type: 'relay', config: { hopz: 2 } });
    expect(unknown.body).toEqual({ detail: 'config.hopz is not a known field' });
    expect((await api.get('/api/v1/agents/relay-bad')).status).toBe(404);
  });

  it('creates an agent of the kind with its config defaults filled in', async () => {
    const res = await api.post('/api/v1/agents/', { name: 'relay-1', agent_type: 'relay', config: { hops: 3 } });
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({ name: 'relay-1', agent_type: 'relay', config: { hops: 3, prefix: 'Relay ' } });
  });

  it("runs a task through the kind's machine, its effects and its own events, over REST and the stream", async () => {
    const socket = await StreamClient.connect(`${wsUrl}?agents=relay-1&types=relay.*,task.completed`);
    const from = fake.requests.length;
    const res = await api.post('/api/v1/tasks/execute', { agent: 'relay-1', prompt: 'hello there' });
    expect(res.status, res.text).toBe(200);
    // Each hop asked the model with the prefix and the previous answer (the fake echoes the prompt).
    expect(lastUserMessages(from)).toEqual(['hello there', 'Relay hello there', 'Relay Relay hello there']);
    expect(res.body).toMatchObject({ agent: 'relay-1', status: 'completed', result: 'Relay Relay hello there' });
    const taskId = (res.body as { task_id: string }).task_id;
    await socket.next((m) => m.type === 'task.completed' && m.task_id === taskId, 'task.completed');
    const events = taskEvents(socket.messages, taskId);
    expect(events.map((e) => [e.type, (e.payload as { hop?: number }).hop])).toEqual([
      ['relay.hop', 1],
      ['relay.hop', 2],
      ['relay.hop', 3],
      ['task.completed', undefined],
    ]);
    socket.ws.close();
    const record = await api.get(`/api/v1/tasks/${taskId}`);
    expect(record.body).toMatchObject({ status: 'completed', result: 'Relay Relay hello there' });
  });

  it('runs as many tasks at once as the kind has slots, and cancels one without touching the other', async () => {
    const created = await api.post('/api/v1/agents/', { name: 'relay-2', agent_type: 'relay', config: { hops: 1 } });
    expect(created.status, created.text).toBe(201);
    fake.setFault({ kind: 'stall', afterTokens: 0 });
    try {
      const chats = fake.requests.filter((r) => r.path === '/api/chat').length;
      const first = api.post('/api/v1/tasks/execute', { agent: 'relay-2', prompt: 'one' });
      const second = api.post('/api/v1/tasks/execute', { agent: 'relay-2', prompt: 'two' });
      // Both calls are in flight at once: the host gave the machine both tasks.
      await fake.waitForRequest('/api/chat', chats + 2);
      expect((await api.get('/api/v1/agents/relay-2')).body).toMatchObject({ status: 'running' });
      const running = await api.get<{ task_id: string; prompt: string }[]>('/api/v1/tasks/?agent=relay-2&status=running');
      expect(running.body.map((t) => t.prompt).sort()).toEqual(['one', 'two']);
      const one = running.body.find((t) => t.prompt === 'one')!;
      const aborted = fake.abortedStreams;
      expect((await api.post(`/api/v1/tasks/${one.task_id}/cancel`)).status).toBe(200);
      await fake.waitForClientAbort(aborted + 1);
      expect((await first).status).toBe(409);
      const still = await api.get<{ prompt: string }[]>('/api/v1/tasks/?agent=relay-2&status=running');
      expect(still.body.map((t) => t.prompt)).toEqual(['two']);
      fake.setFault(null);
      const two = still.body as unknown as { task_id: string }[];
      expect((await api.post(`/api/v1/tasks/${two[0]!.task_id}/cancel`)).status).toBe(200);
      expect((await second).status).toBe(409);
    } finally {
      fake.setFault(null);
    }
  });

  it('publishes kind events the gateway knows, and refuses subscriptions to types no kind declares', async () => {
    await expect(StreamClient.connect(`${wsUrl}?types=nosuch.*`)).rejects.toThrow('HTTP 400');
    const socket = await StreamClient.connect(`${wsUrl}?types=relay.hop`);
    socket.ws.close();
    const docs = await api.get<{ info: { description: string } }>('/openapi.json');
    expect(docs.body.info.description).toContain('### `relay`');
    expect(docs.body.info.description).toContain('`relay.hop`');
  });
});
