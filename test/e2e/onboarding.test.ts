// A first run, as a new user has it (issue 17, item 2): the start-up log says whether Ollama
// answers at OLLAMA_HOST, its version and its models; a task that cannot run says what to do
// (start Ollama or set OLLAMA_HOST; pull the missing model with the pull endpoint); and the
// expected failure is logged as a warning without a stack.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOllama, type FakeOllama } from '../fixtures/fake-ollama.js';
import { client, freePort, startAurora, StreamClient, tempDir, type Api, type AuroraProcess, type TempDir } from '../helpers/e2e.js';

interface ErrorBody {
  detail: string;
}

describe('Aurora started without Ollama', () => {
  let dir: TempDir;
  let server: AuroraProcess;
  let api: Api;
  let ollamaUrl: string;

  beforeAll(async () => {
    dir = tempDir();
    // A port nobody listens on: connecting to it is refused at once.
    ollamaUrl = `http://127.0.0.1:${await freePort()}`;
    server = await startAurora({ DATABASE_PATH: dir.file('aurora.db'), OLLAMA_HOST: ollamaUrl });
    api = client(server.url);
  });

  afterAll(async () => {
    await server?.stop();
    dir?.remove();
  });

  it('logs at start-up that Ollama does not answer at OLLAMA_HOST, and what to do', async () => {
    const line = await server.waitForLog((l) => l.msg?.startsWith('ollama does not answer') === true, 'the Ollama start-up line');
    expect(line).toMatchObject({
      level: 'warn',
      ollama: ollamaUrl,
      reason: expect.stringContaining('ECONNREFUSED'),
      remedy: expect.stringContaining('set OLLAMA_HOST'),
    });
    expect(line.remedy).toContain('start Ollama');
  });

  it('answers a task with the remedy in the detail, and logs the failure without a stack', async () => {
    expect((await api.post('/api/v1/agents/', { name: 'writer' })).status).toBe(201);
    const from = server.logs.length;
    const res = await api.post<ErrorBody>('/api/v1/tasks/execute', { agent: 'writer', prompt: 'Say hello' });
    expect(res.status, res.text).toBe(503);
    expect(res.body.detail).toContain(`LLM provider unreachable at ${ollamaUrl}`);
    expect(res.body.detail).toContain('start Ollama (`ollama serve`');
    expect(res.body.detail).toContain('set OLLAMA_HOST');
    const logged = await server.waitForLog((l) => l.msg === 'request failed' && l.code === 'llm_unavailable', 'the failed request', from);
    expect(logged.level).toBe('warn');
    expect(logged.detail).toBe(res.body.detail);
    const linesOfRequest = server.logs.slice(from).map((l) => JSON.stringify(l));
    expect(linesOfRequest.filter((l) => l.includes('"stack"'))).toEqual([]);
  });
});

describe('Aurora started with an Ollama that lacks the model', () => {
  let fake: FakeOllama;
  let dir: TempDir;
  let server: AuroraProcess;
  let api: Api;

  beforeAll(async () => {
    fake = await startFakeOllama({ models: ['tinyllama'], version: '0.9.1' });
    dir = tempDir();
    server = await startAurora({ DATABASE_PATH: dir.file('aurora.db'), OLLAMA_HOST: fake.url });
    api = client(server.url);
  });

  afterAll(async () => {
    await server?.stop();
    await fake?.close();
    dir?.remove();
  });

  it('logs at start-up that Ollama answers, with its version and models', async () => {
    const line = await server.waitForLog((l) => l.msg === 'ollama answers', 'the Ollama start-up line');
    expect(line).toMatchObject({ level: 'info', ollama: fake.url, version: '0.9.1', models: ['tinyllama:latest'] });
  });

  it('answers a task for a missing model with a detail that names the pull endpoint; after the pull the task runs', async () => {
    expect((await api.post('/api/v1/agents/', { name: 'writer', model_name: 'llama2' })).status).toBe(201);
    const missing = await api.post<ErrorBody>('/api/v1/tasks/execute', { agent: 'writer', prompt: 'Say hello' });
    expect(missing.status, missing.text).toBe(404);
    expect(missing.body.detail).toBe('Model llama2 not found; pull it with POST /api/v1/models/pull {"name":"llama2"} (or `ollama pull llama2`)');

    // Doing what the detail says works.
    const socket = await StreamClient.connect(`${server.wsUrl}?types=model.pull.*`);
    const pull = await api.post<{ pull_id: string }>('/api/v1/models/pull', { name: 'llama2' });
    expect(pull.status, pull.text).toBe(202);
    await socket.next((m) => m.type === 'model.pull.completed' && m.payload?.pull_id === pull.body.pull_id, 'model.pull.completed');
    socket.ws.close();
    const ran = await api.post<{ result: string }>('/api/v1/tasks/execute', { agent: 'writer', prompt: 'Say hello' });
    expect(ran.status, ran.text).toBe(200);
  });
});
