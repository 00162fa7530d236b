// Model pulls end to end: Aurora as its own process (one per mode), REST and the WebSocket stream
// from outside, the fake Ollama streaming /api/pull progress the way Ollama does. Every wait is for
// an answer, an event or a request the fake saw.
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { startFakeOllama, type FakeOllama } from '../fixtures/fake-ollama.js';
import { client, describeModes, startAurora, StreamClient, tempDir, type Api, type AuroraProcess, type StreamEvent, type TempDir } from '../helpers/e2e.js';
import type { ErrorBody, PullBody } from '../helpers/http-bodies.js';
import { uniqueNamespace } from '../helpers/services.js';

/** The control-request budget of this server: what a load with "pull": true waits for the pull. */
const BUS_REQUEST_TIMEOUT_MS = 2_000;
/** Lines of one pull in the fake: manifest, 9 for the weights, 2 for each of 3 small layers, verify, write, success. */
const PULL_LINES = 19;

await describeModes('model pulls', (mode) => {
  let fake: FakeOllama;
  let dir: TempDir;
  let server: AuroraProcess;
  let api: Api;
  let socket: StreamClient;

  beforeAll(async () => {
    fake = await startFakeOllama();
    dir = tempDir();
    server = await startAurora({
      ...mode.env,
      DATABASE_PATH: dir.file('aurora.db'),
      OLLAMA_HOST: fake.url,
      AURORA_NAMESPACE: uniqueNamespace('e2e_models'),
      BUS_REQUEST_TIMEOUT_MS: String(BUS_REQUEST_TIMEOUT_MS),
      // Listings stay cached (the default TTL): a completed pull must be what makes them fresh.
    });
    api = client(server.url);
    socket = await StreamClient.connect(`${server.wsUrl}?types=model.pull.*`);
  });

  afterAll(async () => {
    await socket?.close();
    await server?.stop();
    await fake?.close();
    dir?.remove();
  });

  beforeEach(() => {
    fake.setFault(null);
    fake.setPullStepDelay(0);
    fake.setRegistry(null);
  });

  const pull = (name: string, extra: Record<string, unknown> = {}) => api.post<PullBody & ErrorBody>('/api/v1/models/pull', { name, ...extra });
  const started = async (name: string): Promise<PullBody> => {
    const res = await pull(name);
    expect(res.status, res.text).toBe(202);
    return res.body;
  };
  const eventsOf = (id: string, type?: string): StreamEvent[] =>
    socket.events.filter((e) => e.payload.pull_id === id && (type === undefined || e.type === type));
  const nextEvent = (id: string, type: string): Promise<PullBody> =>
    socket.next((m) => m.type === type && m.payload?.pull_id === id, `${type} of ${id}`).then((m) => m.payload as unknown as PullBody);
  const pullRequests = (model?: string) =>
    fake.requests.filter((r) => r.path === '/api/pull' && (model === undefined || (r.body as { name?: string }).name === model)).length;

  it('pulls a model with progress on the stream and in GET; it then shows installed and loads', async () => {
    // About a second of pulling: several progress events at the 250 ms pace.
    fake.setPullStepDelay(60);
    const before = await api.get<ErrorBody>('/api/v1/models/mistral/status');
    expect(before.status, before.text).toBe(404);

    const res = await pull('mistral');
    expect(res.status, res.text).toBe(202);
    const id = res.body.pull_id;
    expect(res.headers.get('location')).toBe(`/api/v1/models/pulls/${id}`);
    expect(res.body).toMatchObject({ name: 'mistral', provider: 'ollama', status: 'running', error: null, finished_at: null });
    const meanwhile = await api.get<PullBody>(`/api/v1/models/pulls/${id}`);
    expect(meanwhile.status).toBe(200);
    expect(meanwhile.body.pull_id).toBe(id);

    const done = await nextEvent(id, 'model.pull.completed');
    expect(done).toMatchObject({ status: 'completed', percent: 100, error: null });
    expect(done.total_bytes).toBeGreaterThan(1_000_000_000);
    expect(done.completed_bytes).toBe(done.total_bytes);
    const progress = eventsOf(id, 'model.pull.progress').map((e) => e.payload as unknown as PullBody);
    expect(progress.length).toBeGreaterThanOrEqual(3);
    expect(progress[0]!.detail).toBe('pulling manifest');
    for (let i = 1; i < progress.length; i++) {
      expect(progress[i]!.percent).toBeGreaterThan(progress[i - 1]!.percent);
      expect(progress[i]!.completed_bytes).toBeGreaterThanOrEqual(progress[i - 1]!.completed_bytes);
    }
    expect(progress.every((p) => p.status === 'running' && p.percent < 100)).toBe(true);

    const record = await api.get<PullBody>(`/api/v1/models/pulls/${id}`);
    expect(record.body).toEqual(done);
    expect(record.body.finished_at).not.toBeNull();
    const status = await api.get<{ installed: boolean }>('/api/v1/models/mistral/status');
    expect(status.status, status.text).toBe(200);
    expect(status.body.installed).toBe(true);
    const loaded = await api.post('/api/v1/models/load', { name: 'mistral' });
    expect(loaded.status, loaded.text).toBe(201);
    expect(fake.loadedModels().map((m) => m.name)).toContain('mistral:latest');
  });

  it('joins a second pull of the same model while the first runs: same pull_id, one pull in Ollama', async () => {
    fake.setPullStepDelay(30);
    const first = await started('phi3');
    const second = await pull('phi3:latest');
    expect(second.status, second.text).toBe(202);
    expect(second.body.pull_id).toBe(first.pull_id);
    expect(second.headers.get('location')).toBe(`/api/v1/models/pulls/${first.pull_id}`);
    await nextEvent(first.pull_id, 'model.pull.completed');
    expect(pullRequests('phi3')).toBe(1);
    expect(pullRequests('phi3:latest')).toBe(0);
    // Once it has ended, a pull of the model is a new one.
    const again = await started('phi3');
    expect(again.pull_id).not.toBe(first.pull_id);
    await nextEvent(again.pull_id, 'model.pull.completed');
  });

  it('cancels a running pull: cancelled at once, the request to Ollama closed, nothing installed', async () => {
    fake.setPullStepDelay(200);
    const { pull_id } = await started('gemma');
    // The first progress event follows Ollama's first line: the fake is answering by now.
    await nextEvent(pull_id, 'model.pull.progress');
    const aborted = fake.abortedStreams;

    const res = await api.del<PullBody>(`/api/v1/models/pulls/${pull_id}`);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ pull_id, status: 'cancelled', error_code: 'pull_cancelled' });
    await fake.waitForClientAbort(aborted + 1);
    expect(await nextEvent(pull_id, 'model.pull.cancelled')).toEqual(res.body);
    expect((await api.get<PullBody>(`/api/v1/models/pulls/${pull_id}`)).body).toEqual(res.body);
    expect(fake.installedModels()).not.toContain('gemma:latest');
    // Cancelling again answers the record as it is.
    const twice = await api.del<PullBody>(`/api/v1/models/pulls/${pull_id}`);
    expect(twice.status).toBe(200);
    expect(twice.body).toEqual(res.body);
  });

  it('fails a pull that loses Ollama mid-way, with the reason; nothing is left running', async () => {
    fake.setPullStepDelay(200);
    const { pull_id } = await started('qwen2');
    await nextEvent(pull_id, 'model.pull.progress');
    await fake.stop();
    const failed = await nextEvent(pull_id, 'model.pull.failed');
    expect(failed).toMatchObject({ status: 'failed', error_code: 'llm_error' });
    expect(failed.error).toMatch(/connection to the LLM provider was lost/);
    expect(failed.finished_at).not.toBeNull();
    expect((await api.get<PullBody>(`/api/v1/models/pulls/${pull_id}`)).body).toEqual(failed);
    const late = await api.del<ErrorBody>(`/api/v1/models/pulls/${pull_id}`);
    expect(late.status).toBe(409);
    expect(late.body.detail).toContain('failed');

    await fake.start();
    fake.setPullStepDelay(0);
    const again = await started('qwen2');
    expect(again.pull_id).not.toBe(pull_id);
    expect(await nextEvent(again.pull_id, 'model.pull.completed')).toMatchObject({ status: 'completed' });
  });

  it('refuses bad names and providers with 400 {"detail"}, and starts nothing', async () => {
    const asked = pullRequests();
    for (const name of ['../etc', '/abs', 'a b', 'library/../etc', 'a//b', 'x'.repeat(257), '', 'tab\there']) {
      const res = await pull(name);
      expect(res.status, `${JSON.stringify(name)}: ${res.text}`).toBe(400);
      expect(Object.keys(res.body)).toEqual(['detail']);
    }
    const loadPulling = await api.post<ErrorBody>('/api/v1/models/load', { name: '../etc', pull: true });
    expect(loadPulling.status, loadPulling.text).toBe(400);
    expect(loadPulling.body.detail).toContain('not a model name that can be pulled');
    const provider = await pull('mistral', { provider: 'nowhere' });
    expect(provider.status).toBe(400);
    expect(provider.body.detail).toBe('Unknown provider: nowhere');
    expect((await pull('mistral', { stream: true })).status).toBe(400);
    expect((await api.get<ErrorBody>('/api/v1/models/pulls/no-such-pull')).status).toBe(404);
    expect((await api.del<ErrorBody>('/api/v1/models/pulls/no-such-pull')).status).toBe(404);
    expect(pullRequests()).toBe(asked);
  });

  it('loads with "pull": true: pulls a missing model first, pulls nothing for an installed one', async () => {
    fake.setPullStepDelay(10);
    const res = await api.post('/api/v1/models/load', { name: 'codellama', pull: true });
    expect(res.status, res.text).toBe(201);
    expect(pullRequests('codellama')).toBe(1);
    expect(fake.loadedModels().map((m) => m.name)).toContain('codellama:latest');

    const asked = pullRequests();
    expect((await api.post('/api/v1/models/load', { name: 'llama2', pull: true })).status).toBe(201);
    expect(pullRequests()).toBe(asked);
  });

  it('answers a load whose pull fails with the pull\'s error: a model the registry lacks is 404', async () => {
    fake.setRegistry(['llama2']);
    const res = await api.post<ErrorBody>('/api/v1/models/load', { name: 'no-such-model', pull: true });
    expect(res.status, res.text).toBe(404);
    expect(res.body.detail).toContain('pull model manifest: file does not exist');
    expect(fake.installedModels()).not.toContain('no-such-model:latest');
  });

  it('answers 202 with the pull when it outlasts what a load may wait, and the load works once it completes', async () => {
    // Longer than BUS_REQUEST_TIMEOUT_MS in all.
    fake.setPullStepDelay(Math.ceil((BUS_REQUEST_TIMEOUT_MS * 1.5) / PULL_LINES));
    const res = await api.post<PullBody>('/api/v1/models/load', { name: 'starcoder', pull: true });
    expect(res.status, res.text).toBe(202);
    expect(res.body).toMatchObject({ name: 'starcoder', status: 'running' });
    expect(res.headers.get('location')).toBe(`/api/v1/models/pulls/${res.body.pull_id}`);
    await nextEvent(res.body.pull_id, 'model.pull.completed');
    expect((await api.post('/api/v1/models/load', { name: 'starcoder', pull: true })).status).toBe(201);
    expect(pullRequests('starcoder')).toBe(1);
  });

  it('runs at most MODEL_PULL_MAX_CONCURRENT (2) pulls: a third model is refused with 429, joining still works', async () => {
    fake.setPullStepDelay(200);
    const a = await started('alpha');
    const b = await started('beta');
    const third = await pull('gamma');
    expect(third.status, third.text).toBe(429);
    expect(third.body.detail).toContain('MODEL_PULL_MAX_CONCURRENT');
    expect(third.headers.get('retry-after')).not.toBeNull();
    expect((await started('alpha')).pull_id).toBe(a.pull_id);
    for (const { pull_id } of [a, b]) expect((await api.del<PullBody>(`/api/v1/models/pulls/${pull_id}`)).body.status).toBe('cancelled');
    expect((await pull('gamma')).status).toBe(202);
  });

  it('leaves no pull running after its process dies or stops: the next start, or the stop, marks it failed (interrupted)', async () => {
    fake.setPullStepDelay(200);
    const env = {
      ...mode.env,
      DATABASE_PATH: dir.file('restarts.db'),
      OLLAMA_HOST: fake.url,
      AURORA_NAMESPACE: uniqueNamespace('e2e_pull_restart'),
    };
    /** Starts a pull and waits until Ollama is answering it. */
    const pullOn = async (node: AuroraProcess, name: string): Promise<string> => {
      const count = pullRequests() + 1;
      const res = await client(node.url).post<PullBody>('/api/v1/models/pull', { name });
      expect(res.status, res.text).toBe(202);
      await fake.waitForRequest('/api/pull', count);
      return res.body.pull_id;
    };

    const killed = await startAurora(env);
    const lost = await pullOn(killed, 'orphan');
    await killed.kill('SIGKILL');
    const stopped = await startAurora(env);
    const stoppedApi = client(stopped.url);
    expect((await stoppedApi.get<PullBody>(`/api/v1/models/pulls/${lost}`)).body).toMatchObject({
      status: 'failed',
      error_code: 'interrupted',
    });

    const cut = await pullOn(stopped, 'cut-short');
    await stopped.stop();
    const last = await startAurora(env);
    try {
      const record = await client(last.url).get<PullBody>(`/api/v1/models/pulls/${cut}`);
      expect(record.body).toMatchObject({ status: 'failed', error_code: 'interrupted' });
      expect(record.body.error).toContain('pull again to resume');
    } finally {
      await last.stop();
    }
  });
});
