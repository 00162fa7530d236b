// The WebSocket event stream end to end: Aurora as its own process (one per mode), `ws` clients
// and REST calls from outside, the fake Ollama server here. Every wait is for a message.
import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { startFakeOllama, type FakeOllama } from '../fixtures/fake-ollama.js';
import {
  client,
  describeModes,
  metricSum,
  startAurora,
  StreamClient,
  taskEvents,
  tempDir,
  type Api,
  type AuroraProcess,
  type StreamEvent,
  type StreamMessage,
  type TaskResultMessage,
  type TempDir,
} from '../helpers/e2e.js';
import type { AgentBody, ErrorBody } from '../helpers/http-bodies.js';
import { uniqueNamespace } from '../helpers/services.js';

const REPLAY_SIZE = 64;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

await describeModes('WebSocket stream', (mode) => {
  let fake: FakeOllama;
  let dir: TempDir;
  let server: AuroraProcess;
  let api: Api;
  const sockets: StreamClient[] = [];

  const connect = async (query = '') => {
    const s = await StreamClient.connect(`${server.wsUrl}${query === '' ? '' : `?${query}`}`);
    sockets.push(s);
    return s;
  };
  /** Round trip through the socket's queue: everything the server meant to send before is in. */
  const barrier = async (s: StreamClient) => {
    const from = s.messages.length;
    s.send({ op: 'ping' });
    await s.next((m) => m.type === 'pong', 'pong', from);
  };
  const createAgent = async (name: string) => {
    const res = await api.post('/api/v1/agents/', { name, model_name: 'llama2' });
    expect(res.status, res.text).toBe(201);
  };
  const execute = async (agent: string, prompt: string) => {
    const res = await api.post('/api/v1/tasks/execute', { agent, prompt });
    expect(res.status, res.text).toBe(200);
    return res.body as { task_id: string; result: string };
  };
  const restarts = async (agent: string) => metricSum((await api.get('/metrics')).text, 'aurora_supervisor_restarts_total', { agent });

  beforeAll(async () => {
    fake = await startFakeOllama();
    dir = tempDir();
    server = await startAurora({
      ...mode.env,
      DATABASE_PATH: dir.file('aurora.db'),
      OLLAMA_HOST: fake.url,
      AURORA_NAMESPACE: uniqueNamespace('e2e_ws'),
      FAULT_INJECTION_ENABLED: 'true',
      SUPERVISOR_BACKOFF_BASE_MS: '0',
      SUPERVISOR_BACKOFF_MAX_MS: '0',
      EVENT_REPLAY_SIZE: String(REPLAY_SIZE),
    });
    api = client(server.url);
  });

  afterEach(async () => {
    fake.setFault(null);
    await Promise.all(sockets.splice(0).map((s) => s.close()));
  });

  afterAll(async () => {
    const exit = await server?.stop();
    await fake?.close();
    dir?.remove();
    expect(exit).toEqual({ code: 0, signal: null });
  });

  it("delivers one task's events in order, and the tokens joined equal the REST result", async () => {
    await createAgent('narrator');
    const ws = await connect('agents=narrator');
    const bystander = await connect('agents=someone-else');
    const tokensOnly = await connect('agents=narr*&types=task.token');

    // Tokens a few milliseconds apart, so the task visibly spans loop turns (running, then idle)
    // however the answer's bytes happen to arrive.
    fake.setFault({ kind: 'slow', tokenDelayMs: 3 });
    const result = await execute('narrator', 'once upon a time there was a fox');
    await ws.next((m) => m.type === 'task.completed' && m.task_id === result.task_id, 'task.completed');

    const events = taskEvents(ws.messages, result.task_id);
    const tokens = events.filter((e) => e.type === 'task.token');
    expect(tokens.length).toBeGreaterThan(1);
    expect(events.map((e) => e.type)).toEqual(['task.queued', 'task.started', ...tokens.map(() => 'task.token'), 'task.completed']);
    expect(tokens.map((e) => e.payload.token).join('')).toBe(result.result);
    expect(tokens.map((e) => e.payload.index)).toEqual(tokens.map((_, i) => i));
    for (const e of events) {
      expect(e).toMatchObject({ seq: expect.any(Number), time: expect.stringMatching(ISO), agent: 'narrator', task_id: result.task_id });
    }
    const seqs = ws.events.map((e) => e.seq as number);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(events.at(-1)!.payload).toMatchObject({ tokens_used: expect.any(Number), duration_ms: expect.any(Number) });
    // The agent's status changes ride the same stream (each announced at the end of its loop turn,
    // so `idle` may follow task.completed by a delivery).
    await ws.next<StreamEvent>((m) => m.type === 'agent.status' && m.payload.status === 'idle', 'agent.status idle');
    const statuses = ws.events.filter((e) => e.type === 'agent.status').map((e) => e.payload.status);
    expect(statuses).toEqual(expect.arrayContaining(['running', 'idle']));

    // Filters: the same events for a glob on agents and types, none for another agent.
    await tokensOnly.next((m) => m.seq === tokens.at(-1)!.seq, 'the last token');
    expect(tokensOnly.events.map((e) => e.seq)).toEqual(tokens.map((e) => e.seq));
    await barrier(bystander);
    expect(bystander.events).toEqual([]);
  });

  it('sends a reconnecting client exactly the events it missed', async () => {
    await createAgent('replayer');
    const observer = await connect('agents=replayer');
    const first = await connect('agents=replayer');
    const one = await execute('replayer', 'first task here');
    await first.next((m) => m.type === 'task.completed' && m.task_id === one.task_id, 'task one completed');
    await barrier(first);
    const lastSeen = first.events.at(-1)!.seq as number;
    await first.close();

    // Missed while disconnected:
    const two = await execute('replayer', 'second task here');
    const three = await execute('replayer', 'and a third');
    await observer.next((m) => m.type === 'task.completed' && m.task_id === three.task_id, 'task three completed');
    await barrier(observer);
    const missed = observer.events.filter((e) => (e.seq as number) > lastSeen);
    expect(missed.map((e) => e.task_id)).toEqual(expect.arrayContaining([two.task_id, three.task_id]));

    const back = await connect(`agents=replayer&since=${lastSeen}`);
    await barrier(back);
    expect(back.messages[0]).toEqual({ type: 'subscribed', seq: expect.any(Number) });
    expect(back.messages[0]!.seq).toBeGreaterThanOrEqual(missed.at(-1)!.seq);
    expect(back.events).toEqual(missed);

    // The same through a subscribe op on an open socket.
    const resub = await connect('agents=nobody');
    resub.send({ op: 'subscribe', agents: ['replayer'], since: lastSeen });
    await barrier(resub);
    expect(resub.events).toEqual(missed);

    // Live events follow the replay with no gap and no duplicate.
    const four = await execute('replayer', 'live again');
    await back.next((m) => m.type === 'task.completed' && m.task_id === four.task_id, 'task four completed');
    await observer.next((m) => m.type === 'task.completed' && m.task_id === four.task_id, 'task four completed');
    await barrier(back);
    await barrier(observer);
    expect(back.events).toEqual(observer.events.filter((e) => (e.seq as number) > lastSeen));
  });

  it('tells a client whose cursor left the replay window, then replays what is left', async () => {
    await createAgent('chatty');
    const observer = await connect();
    // More than REPLAY_SIZE events: one per word, plus the task's own.
    const words = Array.from({ length: REPLAY_SIZE }, (_, i) => `w${i}`).join(' ');
    const done = await execute('chatty', words);
    await observer.next((m) => m.type === 'task.completed' && m.task_id === done.task_id, 'task completed');
    await barrier(observer);
    const newest = observer.events.at(-1)!.seq as number;

    const late = await connect('since=0');
    await barrier(late);
    const oldest = newest - REPLAY_SIZE + 1;
    expect(late.messages.slice(0, 2)).toEqual([
      { type: 'subscribed', seq: newest },
      { type: 'replay.gap', oldest_seq: oldest },
    ]);
    expect(late.events.map((e) => e.seq)).toEqual(Array.from({ length: REPLAY_SIZE }, (_, i) => oldest + i));
  });

  it('runs a task submitted over the socket and streams its tokens to that socket', async () => {
    await createAgent('socket-runner');
    // Filters that match none of the task's events: a socket always sees the tasks it started.
    const ws = await connect('types=model.*');
    ws.send({ op: 'execute', agent: 'socket-runner', prompt: 'stream me these words', parameters: { system: 'please' }, request_id: 'r-1' });
    const final = await ws.next<TaskResultMessage>((m) => m.type === 'task.result' && m.request_id === 'r-1', 'task.result');

    const submitted = ws.messages.find((m) => m.type === 'task.submitted');
    expect(submitted).toEqual({ type: 'task.submitted', request_id: 'r-1', task_id: final.task_id });
    expect(final.result).toMatchObject({
      task_id: final.task_id,
      agent: 'socket-runner',
      status: 'completed',
      result: 'please stream me these words',
      tokens_used: 10,
    });
    const events = taskEvents(ws.messages, final.task_id);
    const tokens = events.filter((e) => e.type === 'task.token');
    expect(events.map((e) => e.type)).toEqual(['task.queued', 'task.started', ...tokens.map(() => 'task.token'), 'task.completed']);
    expect(tokens.map((e) => e.payload.token).join('')).toBe(final.result.result);
    // submitted first, the task's events, then its result last.
    const order = ws.messages.filter((m) => m.task_id === final.task_id).map((m) => m.type);
    expect(order[0]).toBe('task.submitted');
    expect(order.at(-1)).toBe('task.result');

    const record = await api.get(`/api/v1/tasks/${final.task_id}`);
    expect(record.body).toMatchObject({ status: 'completed', result: 'please stream me these words' });

    // Failures come back on the socket, which stays open.
    ws.send({ op: 'execute', agent: 'ghost', prompt: 'hello?', request_id: 'r-2' });
    const failed = await ws.next((m) => m.type === 'task.error' && m.request_id === 'r-2', 'task.error');
    expect(failed).toEqual({ type: 'task.error', request_id: 'r-2', task_id: expect.any(String), detail: 'Agent ghost not found', code: 'agent_not_found' });
    ws.send({ op: 'execute', agent: 'socket-runner', request_id: 'r-3' });
    expect(await ws.next((m) => m.type === 'error', 'error')).toEqual({ type: 'error', detail: 'prompt is required', request_id: 'r-3' });
    await barrier(ws);
  });

  it('counts open WebSocket clients in /metrics', async () => {
    const clients = async () => metricSum((await api.get('/metrics')).text, 'aurora_ws_clients');
    const base = await clients();
    const a = await connect();
    await connect();
    expect(await clients()).toBe(base + 2);
    await a.close();
    expect(await clients()).toBe(base + 1);
  });

  it('answers bad messages on the socket and refuses bad upgrades with 400', async () => {
    const ws = await connect();
    ws.send('{not json');
    expect(await ws.next((m) => m.type === 'error', 'error')).toEqual({ type: 'error', detail: 'message is not valid JSON' });
    const from = ws.messages.length;
    ws.send({ op: 'subscribe', types: ['task.nope'] });
    expect((await ws.next((m) => m.type === 'error', 'error', from)).detail).toMatch(/^types entry "task.nope" matches no event type/);
    await barrier(ws);

    const refused = await new Promise<number>((resolve, reject) => {
      const bad = new WebSocket(`${server.wsUrl}?since=-1`);
      bad.on('error', () => {}); // the aborted upgrade below reports itself here
      bad.once('unexpected-response', (req, res) => {
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      bad.once('open', () => reject(new Error('upgrade should have been refused')));
    });
    expect(refused).toBe(400);

    ws.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect(await ws.closed).toEqual({ code: 1003, reason: 'binary frames are not supported' });
  });

  it('shows an injected crash as supervisor events on the socket and in the restart counter of /metrics', async () => {
    await createAgent('crashy');
    const ws = await connect('agents=crashy&types=supervisor.*,agent.status');
    const before = await restarts('crashy');

    const fault = await api.post('/api/v1/agents/crashy/fault');
    expect(fault.status, fault.text).toBe(202);
    const restart = await ws.next<StreamEvent>((m) => m.type === 'supervisor.restart', 'supervisor.restart');
    const crash = ws.events.find((m) => m.type === 'supervisor.crash');
    expect(crash).toMatchObject({ agent: 'crashy', payload: { supervisor: 'agents', child: 'crashy', kind: 'llm' } });
    expect(JSON.stringify(crash!.payload)).toContain('Injected fault');
    expect(crash!.seq).toBeLessThan(restart.seq);
    expect(restart).toMatchObject({ agent: 'crashy', payload: { supervisor: 'agents', child: 'crashy', kind: 'llm' } });
    // The fresh actor announces itself idle as it starts, just before the supervisor reports the restart.
    await ws.next<StreamEvent>((m) => m.type === 'agent.status' && m.payload.status === 'idle', 'idle again');
    expect(ws.events.filter((e) => e.type === 'agent.status').map((e) => e.payload)).toEqual([
      { status: 'restarting', reason: expect.stringContaining('Injected fault') },
      { status: 'idle' },
    ]);

    expect(await restarts('crashy')).toBe(before + 1);
    expect((await api.get<AgentBody>('/api/v1/agents/crashy')).body.status).toBe('idle');
    expect((await execute('crashy', 'still alive')).result).toBe('still alive');
  });

  it('fails the task in flight when its agent crashes, and restarts the agent', async () => {
    await createAgent('crash-mid-task');
    const ws = await connect('agents=crash-mid-task');
    fake.setFault({ kind: 'stall', afterTokens: 1 });
    const before = await restarts('crash-mid-task');
    const execution = api.post<ErrorBody>('/api/v1/tasks/execute', { agent: 'crash-mid-task', prompt: 'this will not end well' });
    const token = await ws.next((m) => m.type === 'task.token', 'a token');
    expect((await api.post('/api/v1/agents/crash-mid-task/fault')).status).toBe(202);

    const answer = await execution;
    expect(answer.status, answer.text).toBe(500);
    expect(answer.body.detail).toMatch(new RegExp(`^Agent crash-mid-task crashed while running task ${token.task_id}: .*Injected fault`));
    const failed: StreamMessage = await ws.next((m) => m.type === 'task.failed', 'task.failed');
    expect(failed).toMatchObject({ task_id: token.task_id, payload: { code: 'agent_crashed' } });
    await ws.next((m) => m.type === 'supervisor.restart', 'supervisor.restart');
    expect(await restarts('crash-mid-task')).toBe(before + 1);
    expect((await api.get(`/api/v1/tasks/${token.task_id}`)).body).toMatchObject({ status: 'failed', error_code: 'agent_crashed' });
  });
});
