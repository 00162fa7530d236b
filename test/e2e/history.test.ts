// Pagination, history that outlives its agent, and the event log, end to end: Aurora as its own
// process (one per mode), driven over HTTP and WebSocket from outside, the fake Ollama server here.
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { startFakeOllama, type FakeOllama } from '../fixtures/fake-ollama.js';
import {
  client,
  describeModes,
  startAurora,
  StreamClient,
  tempDir,
  type Api,
  type AuroraProcess,
  type HttpReply,
  type StreamEvent,
  type TempDir,
} from '../helpers/e2e.js';
import type {
  AgentBody,
  AgentPageBody,
  ErrorBody,
  EventPageBody,
  TaskRecordBody,
  TaskResultBody,
  ThreadBody,
} from '../helpers/http-bodies.js';
import { uniqueNamespace } from '../helpers/services.js';

const AGENTS_LIST_MAX = 3;

/** The target of a `Link: <…>; rel="next"` header, or undefined without one. */
function nextLink(reply: HttpReply): string | undefined {
  const link = reply.headers.get('link');
  if (link === null) return undefined;
  const m = /^<([^>]+)>; rel="next"$/.exec(link);
  expect(m, `Link header "${link}"`).not.toBeNull();
  return m![1];
}

await describeModes('pagination, history and the event log', (mode) => {
  let fake: FakeOllama;
  let dir: TempDir;
  let server: AuroraProcess;
  let api: Api;
  const sockets: StreamClient[] = [];

  beforeAll(async () => {
    fake = await startFakeOllama();
    dir = tempDir();
    server = await startAurora({
      ...mode.env,
      DATABASE_PATH: dir.file('aurora.db'),
      OLLAMA_HOST: fake.url,
      AURORA_NAMESPACE: uniqueNamespace('e2e_history'),
      AGENTS_LIST_MAX: String(AGENTS_LIST_MAX),
      FAULT_INJECTION_ENABLED: 'true',
      SUPERVISOR_MAX_RESTARTS: '1',
      SUPERVISOR_BACKOFF_BASE_MS: '0',
      SUPERVISOR_BACKOFF_MAX_MS: '0',
    });
    api = client(server.url);
  });

  afterEach(async () => {
    await Promise.all(sockets.splice(0).map((s) => s.close()));
  });

  afterAll(async () => {
    await server?.stop();
    await fake?.close();
    dir?.remove();
  });

  const watch = async (query: string) => {
    const s = await StreamClient.connect(`${server.wsUrl}?${query}`);
    sockets.push(s);
    return s;
  };
  const create = async (name: string, extra: Record<string, unknown> = {}) => {
    const res = await api.post<AgentBody>('/api/v1/agents/', { name, ...extra });
    expect(res.status, res.text).toBe(201);
    return res.body;
  };
  const execute = async (agent: string, prompt: string, extra: Record<string, unknown> = {}) => {
    const res = await api.post<TaskResultBody & ErrorBody>('/api/v1/tasks/execute', { agent, prompt, ...extra });
    return res;
  };
  const newThread = async (agent: string) => {
    const res = await api.post<ThreadBody>(`/api/v1/agents/${agent}/threads`, {});
    expect(res.status, res.text).toBe(201);
    return res.body;
  };
  /** Crashes the agent twice: with SUPERVISOR_MAX_RESTARTS=1 it is then `failed`. */
  const fail = async (agent: string) => {
    const events = await watch(`agents=${agent}&types=supervisor.*,agent.status`);
    expect((await api.post(`/api/v1/agents/${agent}/fault`)).status).toBe(202);
    await events.next((m) => m.type === 'supervisor.restart', 'supervisor.restart');
    expect((await api.post(`/api/v1/agents/${agent}/fault`)).status).toBe(202);
    await events.next<StreamEvent>((m) => m.type === 'agent.status' && m.payload.status === 'failed', 'agent.status failed');
  };

  // First in the file: the plain array holds the oldest agents, which are these.
  it('answers GET /api/v1/agents/ as the plain array up to AGENTS_LIST_MAX, with a Link to the page form beyond', async () => {
    for (let i = 0; i < 5; i++) await create(`list-${i}`, i >= 3 ? { model_name: 'mistral' } : {});
    const plain = await api.get<AgentBody[]>('/api/v1/agents/');
    expect(plain.status).toBe(200);
    expect(plain.body.map((a) => a.name)).toEqual(['list-0', 'list-1', 'list-2']);
    const link = nextLink(plain)!;
    expect(link).toMatch(new RegExp(`^/api/v1/agents/\\?limit=${AGENTS_LIST_MAX}&cursor=[A-Za-z0-9_-]+$`));
    expect(plain.headers.get('x-next-cursor')).toBe(new URLSearchParams(link.split('?')[1]).get('cursor'));
    const rest = await api.get<AgentPageBody>(link);
    expect(rest.body).toEqual({ agents: [expect.objectContaining({ name: 'list-3' }), expect.objectContaining({ name: 'list-4' })], next_cursor: null });
    expect(nextLink(rest)).toBeUndefined();
    expect(rest.headers.get('x-next-cursor')).toBeNull();

    // The page form: every agent once, two at a time, each page announcing the next.
    const seen: string[] = [];
    let path: string | undefined = '/api/v1/agents/?limit=2';
    while (path !== undefined) {
      const page: HttpReply<AgentPageBody> = await api.get<AgentPageBody>(path);
      expect(page.status, page.text).toBe(200);
      seen.push(...page.body.agents.map((a) => a.name));
      path = nextLink(page);
      expect(page.body.next_cursor === null).toBe(path === undefined);
    }
    expect(seen).toEqual(['list-0', 'list-1', 'list-2', 'list-3', 'list-4']);

    const mistral = await api.get<AgentPageBody>('/api/v1/agents/?model=mistral');
    expect(mistral.body.agents.map((a) => a.name)).toEqual(['list-3', 'list-4']);
    expect(mistral.body.agents[0]).toMatchObject({ status: 'idle', running_tasks: 0, queued_tasks: 0 });
    expect((await api.get<AgentPageBody>('/api/v1/agents/?kind=llm&limit=10')).body.agents).toHaveLength(5);
    expect((await api.get<AgentPageBody>('/api/v1/agents/?kind=robot')).body).toEqual({ agents: [], next_cursor: null });

    await fail('list-1');
    const failed = await api.get<AgentPageBody>('/api/v1/agents/?status=failed');
    expect(failed.body.agents.map((a) => [a.name, a.status])).toEqual([['list-1', 'failed']]);
    const idle = await api.get<AgentPageBody>('/api/v1/agents/?status=idle&limit=2');
    expect(idle.body.agents.map((a) => a.name)).toEqual(['list-0', 'list-2']);
    const idleRest = await api.get<AgentPageBody>(nextLink(idle)!);
    expect(idleRest.body.agents.map((a) => a.name)).toEqual(['list-3', 'list-4']);
    expect((await api.post('/api/v1/agents/list-1/restart')).status).toBe(200);
  });

  it('pages task history as a plain array, the next page in Link and X-Next-Cursor', async () => {
    await create('pager');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await execute('pager', `task ${i}`);
      expect(res.status, res.text).toBe(200);
      ids.unshift(res.body.task_id);
    }
    const walked: string[][] = [];
    let path: string | undefined = '/api/v1/tasks/?agent=pager&limit=2';
    while (path !== undefined) {
      const page: HttpReply<TaskRecordBody[]> = await api.get<TaskRecordBody[]>(path);
      expect(page.status, page.text).toBe(200);
      expect(Array.isArray(page.body)).toBe(true);
      walked.push(page.body.map((t) => t.task_id));
      path = nextLink(page);
      if (path !== undefined) {
        expect(path).toMatch(/^\/api\/v1\/tasks\/\?agent=pager&limit=2&cursor=/);
        expect(page.headers.get('x-next-cursor')).toBe(new URLSearchParams(path.split('?')[1]).get('cursor'));
        // A task written between two pages neither repeats nor hides one.
        expect((await execute('pager', 'in between')).status).toBe(200);
      }
    }
    expect(walked).toEqual([ids.slice(0, 2), ids.slice(2, 4), ids.slice(4)]);
  });

  it("keeps a deleted agent's tasks and threads readable by id and ?agent=, and ?purge=true removes them", async () => {
    const keeper = await create('keeper');
    const thread = await newThread('keeper');
    const first = await execute('keeper', 'remember me', { thread_id: thread.thread_id });
    const second = await execute('keeper', 'and me');
    expect([first.status, second.status]).toEqual([200, 200]);

    expect(await api.del('/api/v1/agents/keeper')).toMatchObject({ status: 200, body: { message: 'Agent keeper deleted successfully' } });
    expect((await api.get('/api/v1/agents/keeper')).status).toBe(404);
    const task = await api.get<TaskRecordBody>(`/api/v1/tasks/${first.body.task_id}`);
    expect(task).toMatchObject({ status: 200, body: { agent: 'keeper', agent_id: keeper.agent_id, status: 'completed', result: first.body.result } });
    const byAgent = await api.get<TaskRecordBody[]>('/api/v1/tasks/?agent=keeper');
    expect(byAgent.body.map((t) => t.task_id)).toEqual([second.body.task_id, first.body.task_id]);
    const kept = await api.get<ThreadBody>(`/api/v1/threads/${thread.thread_id}`);
    expect(kept).toMatchObject({ status: 200, body: { agent: 'keeper', agent_id: keeper.agent_id, message_count: 2 } });

    await create('purged');
    const purgedThread = await newThread('purged');
    const purgedTask = await execute('purged', 'forget me', { thread_id: purgedThread.thread_id });
    expect(purgedTask.status).toBe(200);
    // A flag that deletes history is refused unless it is exactly true or false, and nothing goes.
    expect(await api.del('/api/v1/agents/purged?purge=yes')).toMatchObject({ status: 400, body: { detail: 'purge: must be true or false' } });
    expect((await api.get('/api/v1/agents/purged')).status).toBe(200);
    const purged = await api.del('/api/v1/agents/purged?purge=true');
    expect(purged).toMatchObject({
      status: 200,
      body: { message: 'Agent purged deleted successfully with its history: 1 task and 1 thread', tasks_deleted: 1, threads_deleted: 1 },
    });
    expect((await api.get(`/api/v1/tasks/${purgedTask.body.task_id}`)).status).toBe(404);
    expect((await api.get(`/api/v1/threads/${purgedThread.thread_id}`)).status).toBe(404);
    expect((await api.get('/api/v1/tasks/?agent=purged')).body).toEqual([]);
    // The other agent's history is untouched.
    expect((await api.get<TaskRecordBody[]>('/api/v1/tasks/?agent=keeper')).body).toHaveLength(2);
  });

  it('does not let an agent created again under the same name adopt the old history', async () => {
    const old = await create('phoenix');
    const oldThread = await newThread('phoenix');
    const oldTask = await execute('phoenix', 'first life', { thread_id: oldThread.thread_id });
    expect(oldTask.status).toBe(200);
    expect((await api.del('/api/v1/agents/phoenix')).status).toBe(200);

    const reborn = await create('phoenix');
    expect(reborn.agent_id).not.toBe(old.agent_id);
    const refused = await execute('phoenix', 'continue', { thread_id: oldThread.thread_id });
    expect({ status: refused.status, body: refused.body }).toEqual({
      status: 404,
      body: { detail: `Thread ${oldThread.thread_id} not found for agent phoenix` },
    });
    expect((await api.get<{ threads: unknown[] }>('/api/v1/agents/phoenix/threads')).body.threads).toEqual([]);
    const newTask = await execute('phoenix', 'second life');
    expect(newTask.status).toBe(200);

    const ids = async (query: string) => (await api.get<TaskRecordBody[]>(`/api/v1/tasks/?${query}`)).body.map((t) => t.task_id);
    expect(await ids('agent=phoenix')).toEqual([newTask.body.task_id, oldTask.body.task_id]);
    expect(await ids(`agent_id=${old.agent_id}`)).toEqual([oldTask.body.task_id]);
    expect(await ids(`agent_id=${reborn.agent_id}`)).toEqual([newTask.body.task_id]);
    // Purging the new agent leaves the old one's history alone.
    expect((await api.del('/api/v1/agents/phoenix?purge=true')).body).toMatchObject({ tasks_deleted: 1, threads_deleted: 0 });
    expect(await ids('agent=phoenix')).toEqual([oldTask.body.task_id]);
  });

  it('reads supervisor crashes and restarts, lifecycle and model events from the event log, by type, agent, time and cursor', async () => {
    const since = new Date().toISOString();
    await create('crashy');
    const events = await watch('agents=crashy&types=supervisor.*');
    expect((await api.post('/api/v1/agents/crashy/fault')).status).toBe(202);
    await events.next((m) => m.type === 'supervisor.restart', 'supervisor.restart');
    expect((await api.post('/api/v1/models/load', { name: 'llama2' })).status).toBe(201);

    const page = (query: string) => api.get<EventPageBody>(`/api/v1/events?${query}`);
    const types = async (query: string) => (await page(query)).body.events.map((e) => e.type);
    const all = await page('agent=crashy');
    expect(all.status, all.text).toBe(200);
    expect(all.body.events.map((e) => e.type)).toEqual(['supervisor.restart', 'supervisor.crash', 'agent.created']);
    const [restart, crash] = all.body.events;
    expect(restart!.id).toBeGreaterThan(crash!.id);
    expect(crash).toMatchObject({ agent: 'crashy', payload: { supervisor: 'agents', child: 'crashy', kind: 'llm' } });
    expect(Date.parse(crash!.time)).toBeGreaterThanOrEqual(Date.parse(since));

    expect(await types('agent=crashy&type=supervisor.*')).toEqual(['supervisor.restart', 'supervisor.crash']);
    expect(await types('agent=crashy&type=supervisor.crash')).toEqual(['supervisor.crash']);
    expect(await types(`agent=crashy&since=${encodeURIComponent(since)}`)).toHaveLength(3);
    expect(await types('agent=crashy&since=2999-01-01T00:00:00Z')).toEqual([]);
    expect((await types('type=model.*')).slice(0, 1)).toEqual(['model.loaded']);
    // Task events are never written to the log: the tasks table is their record.
    expect(await types('type=task.*')).toEqual([]);

    // One at a time, following the Link: the same events, in the same order.
    const walked: string[] = [];
    let path: string | undefined = '/api/v1/events?agent=crashy&limit=1';
    while (path !== undefined) {
      const p: HttpReply<EventPageBody> = await api.get<EventPageBody>(path);
      walked.push(...p.body.events.map((e) => e.type));
      path = nextLink(p);
      expect(p.body.next_cursor === null).toBe(path === undefined);
    }
    expect(walked).toEqual(['supervisor.restart', 'supervisor.crash', 'agent.created']);
  });

  it('refuses a bad cursor, limit or filter with 400 naming the parameter, and changes nothing', async () => {
    const before = [await api.get('/api/v1/agents/?limit=1000'), await api.get('/api/v1/tasks/?limit=1000')].map((r) => r.text);
    const tasksCursor = (await api.get('/api/v1/tasks/?limit=1')).headers.get('x-next-cursor')!;
    expect(tasksCursor).not.toBeNull();
    const cases: [string, RegExp][] = [
      ['/api/v1/agents/?cursor=not-a-cursor', /^cursor: /],
      [`/api/v1/agents/?cursor=${tasksCursor}`, /^cursor: /],
      [`/api/v1/events?cursor=${tasksCursor}`, /^cursor: /],
      ['/api/v1/tasks/?cursor=%00', /^cursor: /],
      [`/api/v1/tasks/?cursor=${'A'.repeat(600)}`, /^cursor: /],
      ['/api/v1/agents/list-0/threads?cursor=e30', /^cursor: /],
      ['/api/v1/agents/?limit=0', /^limit: must be an integer between 1 and 1000$/],
      ['/api/v1/agents/?limit=1001', /^limit: /],
      ['/api/v1/events?limit=ten', /^limit: /],
      ['/api/v1/agents/list-0/threads?limit=-1', /^limit: /],
      ['/api/v1/agents/?status=asleep', /^status: must be one of idle, running, restarting, failed, stopped$/],
      ['/api/v1/agents/?kind=', /^kind: /],
      ['/api/v1/events?type=supervisor', /^type: /],
      ['/api/v1/events?type=*', /^type: /],
      ['/api/v1/events?since=yesterday', /^since: /],
      ['/api/v1/events?agent=bad%20name', /^agent: /],
      ['/api/v1/tasks/?agent_id=', /^agent_id: /],
    ];
    for (const [path, detail] of cases) {
      const res = await api.get<ErrorBody>(path);
      expect(res.status, path).toBe(400);
      expect(res.body.detail, path).toMatch(detail);
    }
    const after = [await api.get('/api/v1/agents/?limit=1000'), await api.get('/api/v1/tasks/?limit=1000')].map((r) => r.text);
    expect(after).toEqual(before);
  });
});
