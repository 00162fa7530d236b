// Workflow runs end to end: Aurora as its own process (one per mode), the fake Ollama server
// answering the steps (it echoes the last user message unless a script says otherwise), driven
// over HTTP and the WebSocket stream.
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { startFakeOllama, type FakeOllama } from '../fixtures/fake-ollama.js';
import { client, describeModes, startAurora, StreamClient, tempDir, type Api, type AuroraProcess, type TempDir } from '../helpers/e2e.js';
import { uniqueNamespace } from '../helpers/services.js';

interface Step {
  path: string[];
  status: string;
  attempts: number;
  output?: unknown;
  error: string | null;
  error_code: string | null;
  task_id: string | null;
}
interface Run {
  run_id: string;
  status: string;
  output?: unknown;
  error: string | null;
  error_code: string | null;
  steps: Step[];
}

await describeModes('workflow runs', (mode) => {
  let fake: FakeOllama;
  let dir: TempDir;
  let server: AuroraProcess;
  let api: Api;
  const sockets: StreamClient[] = [];
  let serial = 0;

  const env = () => ({
    ...mode.env,
    DATABASE_PATH: dir.file('aurora.db'),
    OLLAMA_HOST: fake.url,
    AURORA_NAMESPACE: namespace,
  });
  const namespace = uniqueNamespace('e2e_wf');

  beforeAll(async () => {
    fake = await startFakeOllama();
    dir = tempDir();
    server = await startAurora(env());
    api = client(() => server.url);
    for (const name of ['writer', 'critic']) {
      const res = await api.post('/api/v1/agents/', { name, agent_type: 'llm', provider: 'ollama', model_name: 'llama2', description: name, config: {} });
      expect(res.status, res.text).toBe(201);
    }
  });

  afterEach(async () => {
    fake.clearScripts();
    fake.setLatency(0);
    fake.setFault(null);
    await Promise.all(sockets.splice(0).map((s) => s.close()));
  });

  afterAll(async () => {
    await server?.stop();
    await fake?.close();
    dir?.remove();
  });

  const define = async (graph: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<string> => {
    const name = `wf${++serial}`;
    const res = await api.post('/api/v1/workflows', { name, description: 'test', graph, ...extra });
    expect(res.status, res.text).toBe(201);
    return name;
  };
  const run = async (name: string, input: unknown, mode: 'wait' | 'background' = 'wait') =>
    api.post<Run>(`/api/v1/workflows/${name}/runs`, { input, mode });
  const chatsWith = (prefix: string) => fake.chats().filter((c) => c.messages.some((m) => m.role === 'user' && m.content.startsWith(prefix)));

  it('runs a three-step pipeline, each step seeing the previous output', async () => {
    const name = await define({
      type: 'sequence',
      id: 'main',
      steps: [
        { type: 'agent', id: 'draft', agent: 'writer', input: 'draft about {{ input.topic }}' },
        { type: 'agent', id: 'review', agent: 'critic', input: 'review: {{ steps.draft.output }}' },
        { type: 'agent', id: 'final', agent: 'writer', input: 'final: {{ steps.review.output }}' },
      ],
    });
    const res = await run(name, { topic: 'otters' });
    expect(res.status, res.text).toBe(200);
    expect(res.body.status).toBe('completed');
    expect(res.body.output).toContain('final: review: draft about otters');
    expect(res.body.steps.map((s) => s.path.join('/'))).toEqual(['main/draft', 'main/review', 'main/final']);
    expect(res.body.steps.every((s) => s.status === 'completed' && s.attempts === 1)).toBe(true);
    const again = await api.get<Run>(`/api/v1/runs/${res.body.run_id}`);
    expect(again.body).toMatchObject({ run_id: res.body.run_id, status: 'completed' });
  });

  it('joins a retried run with the same Idempotency-Key instead of running it again', async () => {
    const name = await define({ type: 'agent', id: 'once', agent: 'writer', input: 'idem {{ input.n }}' });
    fake.setLatency(500);
    const headers = { 'idempotency-key': `run-${name}` };
    const before = chatsWith('idem 7').length;
    const [first, retry] = await Promise.all([
      api.post<Run>(`/api/v1/workflows/${name}/runs`, { input: { n: 7 } }, { headers }),
      new Promise((r) => setTimeout(r, 100)).then(() => api.post<Run>(`/api/v1/workflows/${name}/runs`, { input: { n: 7 } }, { headers })),
    ]);
    expect(first.status, first.text).toBe(200);
    expect(retry.status, retry.text).toBe(200);
    expect(retry.body.run_id).toBe(first.body.run_id);
    expect(chatsWith('idem 7').length).toBe(before + 1);
    const other = await api.post(`/api/v1/workflows/${name}/runs`, { input: { n: 8 } }, { headers });
    expect(other.status, other.text).toBe(422);
  });

  it('streams a background run and its steps under one run filter', async () => {
    const name = await define({
      type: 'sequence',
      id: 'main',
      steps: [{ type: 'agent', id: 'only', agent: 'writer', input: 'stream {{ input.word }}' }],
    });
    fake.setLatency(300);
    const started = await run(name, { word: 'kingfisher' }, 'background');
    expect(started.status, started.text).toBe(202);
    expect(started.headers.get('location')).toBe(`/api/v1/runs/${started.body.run_id}`);
    const socket = await StreamClient.connect(`${server.wsUrl}?runs=${started.body.run_id}&since=0`);
    sockets.push(socket);
    await socket.until('the run completed', (ms) => ms.find((m) => m.type === 'task.completed' && m.task_id === started.body.run_id));
    const events = socket.events;
    const tokens = events.filter((m) => m.type === 'task.token');
    expect(tokens.length).toBeGreaterThan(0);
    for (const t of tokens) expect((t as unknown as { path: string[] }).path).toEqual(['main', 'only']);
    expect(events.some((m) => m.type === 'run.step')).toBe(true);
  });

  it('fail_fast cancels the sibling branches down to their Ollama calls; settle returns every outcome', async () => {
    const graph = (onError: string, bad: Record<string, unknown>) => ({
      type: 'parallel',
      id: 'fan',
      on_error: onError,
      branches: [{ type: 'agent', id: 'slow', agent: 'writer', input: 'slow branch' }, { type: 'agent', id: 'bad', agent: 'critic', ...bad }],
    });
    // Both branches stall in Ollama; the bad one runs out of time first, and its sibling is stopped.
    fake.setFault({ kind: 'stall', afterTokens: 1 });
    const aborted = fake.abortedStreams;
    const fast = await run(await define(graph('fail_fast', { input: 'bad branch', timeout_ms: 500 })), {});
    expect(fast.status, fast.text).toBe(200);
    expect(fast.body.status).toBe('failed');
    expect(fast.body.error_code).toBe('timeout');
    await fake.waitForClientAbort(aborted + 2);
    expect(fast.body.steps.find((s) => s.path.at(-1) === 'slow')?.status).toBe('cancelled');
    fake.setFault(null);
    const settled = await run(await define(graph('settle', { input: 'bad {{ input.missing }}' })), {});
    expect(settled.body.status, settled.text).toBe('completed');
    const outcomes = settled.body.output as { status: string; error?: string }[];
    expect(outcomes.map((o) => o.status)).toEqual(['completed', 'failed']);
    expect(outcomes[1]!.error).toContain('input.missing');
  });

  it('maps over 20 items with at most 4 in flight, results in input order', async () => {
    const name = await define({
      type: 'map',
      id: 'each',
      items: 'input.items',
      max_concurrency: 4,
      node: { type: 'agent', id: 'one', agent: 'writer', input: 'item {{ item }}' },
    });
    fake.setLatency(50);
    fake.resetMaxInFlight();
    const items = Array.from({ length: 20 }, (_, i) => `n${i}`);
    const res = await run(name, { items });
    expect(res.body.status, res.text).toBe('completed');
    expect((res.body.output as string[]).map((o) => o.trim())).toEqual(items.map((i) => `item ${i}`));
    expect(fake.maxInFlightChats).toBeLessThanOrEqual(4);
    expect(fake.maxInFlightChats).toBeGreaterThan(1);
  });

  it('stops a router that would hand off forever at max_handoffs', async () => {
    const name = await define({
      type: 'router',
      id: 'desk',
      agent: 'critic',
      input: 'route {{ input.q }}',
      max_handoffs: 3,
      routes: { again: { type: 'agent', id: 'work', agent: 'writer', input: 'work' } },
    });
    fake.script({ match: (c) => c.format !== undefined, reply: { content: '{"route":"again"}' }, times: Infinity });
    const res = await run(name, { q: 'loop' });
    expect(res.body.status).toBe('failed');
    expect(res.body.error_code).toBe('max_handoffs_exceeded');
    expect(res.body.error).toContain('max_handoffs 3');
  });

  it('cancel of a run with a nested run stops everything below it', async () => {
    const inner = await define({ type: 'agent', id: 'inner', agent: 'writer', input: 'inner {{ input.x }}' });
    const outer = await define({ type: 'agent', id: 'outer', agent: `wf.${inner}`, input: '{"x": "{{ input.x }}"}' });
    // The inner workflow has never run: its agent (wf.<inner>) is made when the outer run first needs it.
    fake.setFault({ kind: 'stall', afterTokens: 1 });
    const aborted = fake.abortedStreams;
    const started = await run(outer, { x: 'deep' }, 'background');
    await fake.waitForRequest('/api/chat', fake.requests.filter((r) => r.path === '/api/chat').length + 1);
    const cancelled = await api.post<Run>(`/api/v1/runs/${started.body.run_id}/cancel`);
    expect(cancelled.status, cancelled.text).toBe(200);
    await fake.waitForClientAbort(aborted + 1);
    const tasks = await api.get<{ status: string; trace?: { lineage: string[] } }[]>('/api/v1/tasks/?limit=50');
    const below = tasks.body.filter((t) => t.trace?.lineage.includes(started.body.run_id) === true);
    expect(below.length).toBeGreaterThan(0);
    await expect.poll(async () => (await api.get<Run>(`/api/v1/runs/${started.body.run_id}`)).body.status).toBe('cancelled');
    for (const t of (await api.get<{ status: string; trace?: { lineage: string[] } }[]>('/api/v1/tasks/?limit=50')).body) {
      if (t.trace?.lineage.includes(started.body.run_id) === true) expect(['cancelled', 'failed']).toContain(t.status);
    }
  });

  it.each([
    ['SIGKILL', 2],
    ['SIGTERM', 1],
  ] as const)('resumes a run after %s: completed steps are not run again', async (signal, attempts) => {
    const name = await define({
      type: 'sequence',
      id: 'main',
      steps: [
        { type: 'agent', id: 'first', agent: 'writer', input: 'first-step {{ input.k }}' },
        { type: 'agent', id: 'second', agent: 'critic', input: 'second-step {{ steps.first.output }}', retry: { attempts: 2 } },
      ],
    });
    // The first step completes; the second's first chat never answers, so it is in flight when the process goes.
    fake.script({ match: (c) => c.messages.some((m) => m.content.startsWith(`second-step first-step ${signal}`)), reply: { stall: true } });
    const before = chatsWith(`first-step ${signal}`).length;
    const secondBefore = chatsWith('second-step').length;
    const started = await run(name, { k: signal }, 'background');
    await expect.poll(() => chatsWith('second-step').length, { timeout: 30_000 }).toBeGreaterThan(secondBefore);
    await server.kill(signal);
    server = await startAurora(env());
    await expect.poll(async () => (await api.get<Run>(`/api/v1/runs/${started.body.run_id}`)).body.status, { timeout: 30_000 }).toBe('completed');
    expect(chatsWith(`first-step ${signal}`).length).toBe(before + 1);
    const final = (await api.get<Run>(`/api/v1/runs/${started.body.run_id}`)).body;
    const second = final.steps.find((s) => s.path.at(-1) === 'second')!;
    // Killed, the step in flight counts as a failed attempt; stopped gracefully, it was stopped and runs afresh.
    expect(second.attempts).toBe(attempts);
  }, 90_000);
});
