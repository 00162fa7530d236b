// An agent that spent its restart budget stays `failed` across a restart of the process (issue 17,
// item 11): a new process is not an operator's judgement that the agent is fit again. It refuses
// tasks with agent_failed until POST /api/v1/agents/{name}/restart, which brings it back for good
// (the next process starts it normally). Agents that were fine come back as usual.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOllama, type FakeOllama } from '../fixtures/fake-ollama.js';
import { client, startAurora, StreamClient, tempDir, type Api, type AuroraProcess, type StreamEvent, type TempDir } from '../helpers/e2e.js';

interface AgentBody {
  name: string;
  status: string;
}
interface ErrorBody {
  detail: string;
}

describe('A failed agent across a process restart', () => {
  let fake: FakeOllama;
  let dir: TempDir;
  let server: AuroraProcess | undefined;
  let api: Api;

  const start = async () => {
    server = await startAurora({
      DATABASE_PATH: dir.file('aurora.db'),
      OLLAMA_HOST: fake.url,
      FAULT_INJECTION_ENABLED: 'true',
      SUPERVISOR_MAX_RESTARTS: '0',
    });
    api = client(server.url);
  };

  beforeAll(async () => {
    fake = await startFakeOllama();
    dir = tempDir();
    await start();
  });

  afterAll(async () => {
    await server?.stop();
    await fake?.close();
    dir?.remove();
  });

  const statusOf = async (name: string) => (await api.get<AgentBody>(`/api/v1/agents/${name}`)).body.status;

  it('stays failed after a restart, refuses tasks until an operator restarts it, and then stays healthy', async () => {
    for (const name of ['broken', 'healthy']) expect((await api.post('/api/v1/agents/', { name })).status).toBe(201);
    const events = await StreamClient.connect(`${server!.wsUrl}?agents=broken&types=agent.status`);
    // With SUPERVISOR_MAX_RESTARTS=0 the first crash spends the budget.
    expect((await api.post('/api/v1/agents/broken/fault')).status).toBe(202);
    await events.next<StreamEvent>((m) => m.type === 'agent.status' && m.payload.status === 'failed', 'agent.status failed');
    await events.close();
    expect(await statusOf('broken')).toBe('failed');

    await server!.stop();
    await start();
    await server!.waitForLog((l) => l.msg?.startsWith('agent restored as failed') === true && l.agent === 'broken', 'the restored-as-failed line');
    expect(await statusOf('broken')).toBe('failed');
    expect(await statusOf('healthy')).toBe('idle');
    const refused = await api.post<ErrorBody>('/api/v1/tasks/execute', { agent: 'broken', prompt: 'hello' });
    expect(refused.status, refused.text).toBe(409);
    expect(refused.body.detail).toContain('restart it');
    const failedPage = await api.get<{ agents: AgentBody[] }>('/api/v1/agents/?status=failed');
    expect(failedPage.body.agents.map((a) => a.name)).toEqual(['broken']);
    expect((await api.post('/api/v1/tasks/execute', { agent: 'healthy', prompt: 'hello' })).status).toBe(200);

    // The operator's restart brings it back, and a later process starts it as usual.
    expect((await api.post('/api/v1/agents/broken/restart')).status).toBe(200);
    expect((await api.post('/api/v1/tasks/execute', { agent: 'broken', prompt: 'back again' })).status).toBe(200);
    await server!.stop();
    await start();
    expect(await statusOf('broken')).toBe('idle');
    expect((await api.post('/api/v1/tasks/execute', { agent: 'broken', prompt: 'still fine' })).status).toBe(200);
  });
});
