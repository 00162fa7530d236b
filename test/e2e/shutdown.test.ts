// No acknowledged task is lost or left `running`: across a SIGTERM under load (tasks finish in the
// grace period or are cancelled and recorded) and across a SIGKILL followed by a restart (tasks the
// dead process held are recorded as interrupted).
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { startFakeOllama, type FakeOllama } from '../fixtures/fake-ollama.js';
import { client, describeModes, startAurora, StreamClient, tempDir, type AuroraProcess, type TempDir } from '../helpers/e2e.js';
import { uniqueNamespace } from '../helpers/services.js';

const AGENTS = ['s1', 's2', 's3', 's4'];
const TASKS_PER_AGENT = 8;

interface Outcome {
  status: number | 'connection lost';
  body: { task_id?: string; result?: string; detail?: string } | undefined;
}

await describeModes('Shutdown under load', (mode) => {
  let fake: FakeOllama;
  let dir: TempDir;
  const servers: AuroraProcess[] = [];
  const sockets: StreamClient[] = [];

  const start = async (db: string, namespace: string, extra: Record<string, string> = {}) => {
    const server = await startAurora({
      ...mode.env,
      DATABASE_PATH: dir.file(db),
      OLLAMA_HOST: fake.url,
      AURORA_NAMESPACE: namespace,
      // One task at a time per agent, so the load outlasts the grace period as the tests intend.
      AGENT_MAX_CONCURRENCY: '1',
      ...extra,
    });
    servers.push(server);
    return server;
  };

  /** Fires every task at once and resolves each to what its client saw. */
  const load = (server: AuroraProcess): Promise<Outcome>[] => {
    const api = client(server.url);
    const out: Promise<Outcome>[] = [];
    for (let i = 0; i < TASKS_PER_AGENT; i++) {
      for (const agent of AGENTS) {
        out.push(
          api.post<NonNullable<Outcome['body']>>('/api/v1/tasks/execute', { agent, prompt: `task ${i} for ${agent}` }).then(
            (res) => ({ status: res.status, body: res.body }),
            () => ({ status: 'connection lost' as const, body: undefined }),
          ),
        );
      }
    }
    return out;
  };

  beforeAll(async () => {
    fake = await startFakeOllama();
    dir = tempDir();
  });
  afterEach(async () => {
    fake.setFault(null);
    await Promise.all(sockets.splice(0).map((s) => s.close()));
    await Promise.all(servers.splice(0).map((s) => s.kill('SIGKILL')));
  });
  afterAll(async () => {
    await fake?.close();
    dir?.remove();
  });

  it('SIGTERM under load: every accepted task ends completed or cancelled, as its client was told, and the process exits 0', async () => {
    const namespace = uniqueNamespace('e2e_term');
    const server = await start('term.db', namespace, { SHUTDOWN_GRACE_MS: '400' });
    const api = client(server.url);
    for (const name of AGENTS) expect((await api.post('/api/v1/agents/', { name })).status).toBe(201);
    const events = await StreamClient.connect(`${server.wsUrl}?types=task.queued,task.completed`);
    sockets.push(events);
    fake.setFault({ kind: 'slow', tokenDelayMs: 25 });

    const outcomes = load(server);
    await events.next((m) => m.type === 'task.completed', 'a first completed task');
    const exit = server.stop();
    const seen = await Promise.all(outcomes);
    expect(await exit).toEqual({ code: 0, signal: null });

    // Every client got an answer: a result, a cancellation recorded as such, or a refusal before acceptance.
    const completed = seen.filter((o) => o.status === 200);
    const cancelled = seen.filter((o) => o.status === 409);
    const refused = seen.filter((o) => o.status === 503);
    expect(completed.length + cancelled.length + refused.length, JSON.stringify(seen)).toBe(seen.length);
    expect(completed.length).toBeGreaterThan(0);
    expect(cancelled.length, 'the grace period is shorter than the load').toBeGreaterThan(0);
    for (const c of cancelled) expect(c.body?.detail).toBe('Task cancelled: Aurora shut down before it finished');

    const after = await start('term.db', namespace);
    const history = (await client(after.url).get('/api/v1/tasks/?limit=1000')).body as { task_id: string; status: string; result: string | null }[];
    expect(history.filter((t) => t.status === 'queued' || t.status === 'running')).toEqual([]);
    expect(history.filter((t) => t.status === 'completed')).toHaveLength(completed.length);
    expect(history.filter((t) => t.status === 'cancelled')).toHaveLength(cancelled.length);
    expect(history).toHaveLength(completed.length + cancelled.length);
    for (const c of completed) {
      expect(history.find((t) => t.task_id === c.body!.task_id)).toMatchObject({ status: 'completed', result: c.body!.result });
    }
  });

  it('SIGKILL under load, then a restart: every accepted task is completed or recorded interrupted, none left running', async () => {
    const namespace = uniqueNamespace('e2e_kill');
    const server = await start('kill.db', namespace);
    const api = client(server.url);
    for (const name of AGENTS) expect((await api.post('/api/v1/agents/', { name })).status).toBe(201);
    const events = await StreamClient.connect(`${server.wsUrl}?types=task.queued,task.completed`);
    sockets.push(events);
    fake.setFault({ kind: 'slow', tokenDelayMs: 25 });

    const outcomes = load(server);
    await events.next((m) => m.type === 'task.completed', 'a first completed task');
    expect(await server.kill('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
    const seen = await Promise.all(outcomes);
    const accepted = new Set(events.messages.filter((m) => m.type === 'task.queued').map((m) => m.task_id as string));
    fake.setFault(null);

    const after = await start('kill.db', namespace);
    const history = (await client(after.url).get('/api/v1/tasks/?limit=1000')).body as { task_id: string; status: string; error_code: string | null; result: string | null }[];
    expect(history.filter((t) => t.status === 'queued' || t.status === 'running')).toEqual([]);
    for (const id of accepted) {
      const task = history.find((t) => t.task_id === id);
      expect(task, `accepted task ${id} is in the history`).toBeDefined();
      expect(task!.status === 'completed' || (task!.status === 'failed' && task!.error_code === 'interrupted'), JSON.stringify(task)).toBe(true);
    }
    expect(history.some((t) => t.error_code === 'interrupted')).toBe(true);
    for (const o of seen.filter((s) => s.status === 200)) {
      expect(history.find((t) => t.task_id === o.body!.task_id)).toMatchObject({ status: 'completed', result: o.body!.result });
    }
  });
});
