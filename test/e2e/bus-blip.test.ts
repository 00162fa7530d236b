// A NATS restart under load (issue 18): requests made while the bus is down fail at once with
// 503; tasks in flight across a short blip get their real outcome once it is back; an outage
// longer than BUS_BLIP_GRACE_MS ends every waiting client with a 503 that names the task; nothing
// runs twice (the fake Ollama counts the model calls); stream sockets hear of the gap. On a private
// nats-server that the test kills and starts again, never the shared one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOllama, type FakeOllama } from '../fixtures/fake-ollama.js';
import { client, startAurora, StreamClient, tempDir, type Api, type AuroraProcess, type HttpReply, type TempDir } from '../helpers/e2e.js';
import { privateNats, type NatsProcess } from '../helpers/private-nats.js';
import { uniqueNamespace } from '../helpers/services.js';

interface TaskBody {
  task_id: string;
  result: string;
  status: string;
  detail?: string;
}

const AGENTS = ['b0', 'b1', 'b2', 'b3'];
/** Long enough that the tasks are still running when NATS is killed. */
const MODEL_LATENCY_MS = 2_500;

describe('Task requests across a NATS restart', () => {
  let fake: FakeOllama;
  let dir: TempDir;
  let nats: NatsProcess;
  let server: AuroraProcess;
  let api: Api;

  beforeAll(async () => {
    fake = await startFakeOllama();
    dir = tempDir();
    nats = await privateNats();
    server = await startAurora({
      NATS_URL: nats.url,
      AURORA_NAMESPACE: uniqueNamespace('e2e_blip'),
      DATABASE_PATH: dir.file('blip.db'),
      OLLAMA_HOST: fake.url,
      // Long enough for the client to reconnect after a quick restart (its dial wait is 2 s).
      BUS_BLIP_GRACE_MS: '8000',
    });
    api = client(server.url);
    for (const name of AGENTS) expect((await api.post('/api/v1/agents/', { name })).status).toBe(201);
  });

  afterAll(async () => {
    await server?.kill('SIGKILL');
    await nats?.close();
    await fake?.close();
    dir?.remove();
  });

  /** Model calls per prompt (load requests carry no messages). */
  const chatsOf = (prompt: string) => fake.chats().filter((c) => c.messages.some((m) => m.content === prompt)).length;
  const chatRequests = () => fake.requests.filter((r) => r.path === '/api/chat').length;

  /** Starts `n` tasks with keys, and resolves once every one of them is at the model. */
  async function startTasks(tag: string, n: number): Promise<{ prompts: string[]; keys: string[]; replies: Promise<HttpReply<TaskBody>>[] }> {
    const before = chatRequests();
    const prompts = Array.from({ length: n }, (_, i) => `${tag} prompt ${i}`);
    const keys = prompts.map((_, i) => `${tag}-key-${i}`);
    const replies = prompts.map((prompt, i) =>
      api.post<TaskBody>('/api/v1/tasks/execute', { agent: AGENTS[i % AGENTS.length], prompt }, { headers: { 'idempotency-key': keys[i]! } }),
    );
    await fake.waitForRequest('/api/chat', before + n);
    return { prompts, keys, replies };
  }

  async function killNats(): Promise<void> {
    const from = server.logs.length;
    await nats.kill();
    await server.waitForLog((l) => l.msg === 'NATS disconnected; reconnecting', 'the disconnect', from);
  }

  async function restartNats(): Promise<void> {
    const from = server.logs.length;
    await nats.start();
    await server.waitForLog((l) => l.msg === 'NATS reconnected', 'the reconnect', from);
  }

  it('answers new requests with 503 at once while NATS is down, and tasks in flight with their real outcome once it is back, each run once', async () => {
    fake.setLatency(MODEL_LATENCY_MS);
    const stream = await StreamClient.connect(`${server.wsUrl}?agents=b*`);
    const { prompts, keys, replies } = await startTasks('blip', 12);

    await killNats();
    // Requests sent during the outage: refused at once, saying to come back.
    for (const agent of AGENTS) {
      const refused = await api.post<TaskBody>('/api/v1/tasks/execute', { agent, prompt: 'during the outage' });
      expect(refused.status, refused.text).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('2');
      expect(refused.body.detail).toContain('disconnected');
    }
    const listing = await api.get<TaskBody>('/api/v1/tasks/');
    expect(listing.status).toBe(503);

    await restartNats();
    const answers = await Promise.all(replies);
    for (const [i, answer] of answers.entries()) {
      expect(answer.status, answer.text).toBe(200);
      expect(answer.body.status).toBe('completed');
      expect(answer.body.result).toContain(prompts[i]);
    }
    expect(new Set(answers.map((a) => a.body.task_id)).size).toBe(prompts.length);
    // The socket was told that events may be missing, with the seq where they start again.
    const gap = await stream.next((m) => m.type === 'replay.gap', 'a replay.gap after the reconnect');
    expect(gap.oldest_seq).toBeGreaterThan(0);
    await stream.close();

    // A retry with the same key replays the answer; nothing ran twice, the outage's requests not at all.
    fake.setLatency(0);
    for (const [i, key] of keys.entries()) {
      const again = await api.post<TaskBody>('/api/v1/tasks/execute', { agent: AGENTS[i % AGENTS.length], prompt: prompts[i] }, { headers: { 'idempotency-key': key } });
      expect(again.status, again.text).toBe(200);
      expect(again.body.task_id).toBe(answers[i]!.body.task_id);
    }
    for (const prompt of prompts) expect(chatsOf(prompt)).toBe(1);
    expect(chatsOf('during the outage')).toBe(0);
  });

  it('ends every waiting client with a 503 naming its task when NATS stays down past the grace window; the task ran once and a retry joins it', async () => {
    fake.setLatency(MODEL_LATENCY_MS);
    const { prompts, keys, replies } = await startTasks('outage', 8);

    await killNats();
    // NATS stays down until every client has its answer: none waits for the task timeout.
    const answers = await Promise.all(replies);
    const taskIds: string[] = [];
    for (const answer of answers) {
      expect(answer.status, answer.text).toBe(503);
      expect(answer.body.detail).toContain('outcome is unknown');
      const location = answer.headers.get('location');
      expect(location).toMatch(/^\/api\/v1\/tasks\/[^/]+$/);
      expect(answer.body.detail).toContain(`GET ${location}`);
      taskIds.push(location!.split('/').pop()!);
    }

    await restartNats();
    fake.setLatency(0);
    for (const [i, taskId] of taskIds.entries()) {
      const record = await api.get<TaskBody>(`/api/v1/tasks/${taskId}`);
      expect(record.status, record.text).toBe(200);
      const retry = await api.post<TaskBody>('/api/v1/tasks/execute', { agent: AGENTS[i % AGENTS.length], prompt: prompts[i] }, { headers: { 'idempotency-key': keys[i]! } });
      expect(retry.status, retry.text).toBe(200);
      expect(retry.body.task_id).toBe(taskId);
      expect(retry.body.status).toBe('completed');
      expect(retry.headers.get('idempotent-replayed')).toBe('true');
    }
    for (const prompt of prompts) expect(chatsOf(prompt)).toBe(1);
  });
});
