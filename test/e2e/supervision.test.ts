// GET /api/v1/supervision end to end: the tree the node answers over the bus, and the restart an
// injected fault causes, seen both on the stream and in the next picture.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { SupervisionTree } from '../../runtime/protocol/index.js';
import { startFakeOllama, type FakeOllama } from '../fixtures/fake-ollama.js';
import { client, describeModes, startAurora, StreamClient, tempDir, type Api, type AuroraProcess, type TempDir } from '../helpers/e2e.js';
import { uniqueNamespace } from '../helpers/services.js';

const supervisorOf = (tree: SupervisionTree, id: string) => tree.supervisors.find((s) => s.id === id);

await describeModes('GET /api/v1/supervision', (mode) => {
  let fake: FakeOllama;
  let dir: TempDir;
  let server: AuroraProcess;
  let api: Api;

  beforeAll(async () => {
    fake = await startFakeOllama();
    dir = tempDir();
    server = await startAurora({
      ...mode.env,
      DATABASE_PATH: dir.file('aurora.db'),
      OLLAMA_HOST: fake.url,
      AURORA_NAMESPACE: uniqueNamespace('e2e_sup'),
      FAULT_INJECTION_ENABLED: 'true',
      SUPERVISOR_BACKOFF_BASE_MS: '0',
      SUPERVISOR_BACKOFF_MAX_MS: '0',
    });
    api = client(server.url);
  });

  afterAll(async () => {
    await server?.stop();
    await fake?.close();
    dir?.remove();
  });

  it('answers the tree: root with its services and the agents supervisor, each agent under it', async () => {
    expect((await api.post('/api/v1/agents/', { name: 'watched', model_name: 'llama2' })).status).toBe(201);
    const res = await api.get<SupervisionTree>('/api/v1/supervision');
    expect(res.status, res.text).toBe(200);
    const root = supervisorOf(res.body, 'root')!;
    expect(root).toMatchObject({ parent: null, state: 'running', strategy: 'one_for_one', budget: { scope: 'shared' } });
    expect(root.children.map((c) => c.id)).toEqual(expect.arrayContaining(['registry', 'supervision', 'agents']));
    const agents = supervisorOf(res.body, 'agents')!;
    expect(agents).toMatchObject({ parent: 'root', budget: { scope: 'per_child' } });
    expect(agents.children.find((c) => c.id === 'watched')).toEqual({
      id: 'watched',
      kind: 'llm',
      status: 'running',
      restart: 'permanent',
      restarts: 0,
      last_crash_reason: null,
      last_crash_error: null,
      last_crash_at: null,
    });
  });

  it('counts the restart an injected fault causes and keeps the crash that caused it', async () => {
    const stream = await StreamClient.connect(`${server.wsUrl}?types=supervisor.*&agents=watched`);
    try {
      expect((await api.post('/api/v1/agents/watched/fault')).status).toBe(202);
      await stream.next((m) => m.type === 'supervisor.restart', 'supervisor.restart');
      const tree = (await api.get<SupervisionTree>('/api/v1/supervision')).body;
      const child = supervisorOf(tree, 'agents')!.children.find((c) => c.id === 'watched')!;
      expect(child.restarts).toBe(1);
      expect(child.last_crash_reason).toBe('crash');
      expect(child.last_crash_error).toEqual(expect.any(String));
      expect(Date.parse(child.last_crash_at!)).not.toBeNaN();
    } finally {
      await stream.close();
    }
  });
});
