// Server-Sent Events for one task (issue 17, item 8): GET /api/v1/tasks/{id}/events and execute
// with Accept: text/event-stream, Last-Event-ID resume, the end after the final event, a finished
// task's stored outcome; and the WebSocket path asked without the upgrade answers 426.
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { startFakeOllama, type FakeOllama } from '../fixtures/fake-ollama.js';
import { client, describeModes, startAurora, tempDir, type Api, type AuroraProcess, type TempDir } from '../helpers/e2e.js';
import { uniqueNamespace } from '../helpers/services.js';

interface SseEvent {
  id: string | undefined;
  event: string;
  data: Record<string, unknown>;
}

interface SseReply {
  status: number;
  headers: Headers;
  /** The events in order; the stream ended when this resolves. */
  events: SseEvent[];
  body: string;
}

/** Parses one `\n\n`-terminated SSE block. */
function parseBlock(block: string): SseEvent | null {
  let id: string | undefined;
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith('id: ')) id = line.slice(4);
    else if (line.startsWith('event: ')) event = line.slice(7);
    else if (line.startsWith('data: ')) data.push(line.slice(6));
  }
  if (data.length === 0) return null;
  return { id, event, data: JSON.parse(data.join('\n')) as Record<string, unknown> };
}

/**
 * Opens an SSE request and reads it to its end, or until `stopWhen` says so (then the client goes
 * away, as a dropped connection would).
 */
async function sse(url: string, init: RequestInit = {}, stopWhen?: (e: SseEvent) => boolean, onOpen?: () => void): Promise<SseReply> {
  const controller = new AbortController();
  const res = await fetch(url, { ...init, signal: controller.signal, headers: { accept: 'text/event-stream', ...(init.headers as Record<string, string>) } });
  onOpen?.();
  const events: SseEvent[] = [];
  if (!res.headers.get('content-type')?.startsWith('text/event-stream')) {
    return { status: res.status, headers: res.headers, events, body: await res.text() };
  }
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffered += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffered.indexOf('\n\n')) >= 0) {
      const parsed = parseBlock(buffered.slice(0, end));
      buffered = buffered.slice(end + 2);
      if (parsed === null) continue;
      events.push(parsed);
      if (stopWhen?.(parsed)) {
        controller.abort();
        return { status: res.status, headers: res.headers, events, body: '' };
      }
    }
  }
  return { status: res.status, headers: res.headers, events, body: buffered };
}

const FINAL = ['task.completed', 'task.failed', 'task.cancelled'];
const ids = (events: SseEvent[]) => events.filter((e) => e.id !== undefined).map((e) => Number(e.id));

await describeModes('Server-Sent Events of a task', (mode) => {
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
      AURORA_NAMESPACE: uniqueNamespace('e2e_sse'),
    });
    api = client(server.url);
    expect((await api.post('/api/v1/agents/', { name: 'speaker' })).status).toBe(201);
  });

  afterAll(async () => {
    await server?.stop();
    await fake?.close();
    dir?.remove();
  });

  beforeEach(() => {
    fake.setFault(null);
  });

  const execute = (body: unknown, headers: Record<string, string> = {}) =>
    sse(`${server.url}/api/v1/tasks/execute`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });

  it('streams an execute with Accept: text/event-stream: the task events with ids 1..n, then the result, then the end', async () => {
    const reply = await execute({ agent: 'speaker', prompt: 'one two three four' });
    expect(reply.status, reply.body).toBe(200);
    expect(reply.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const types = reply.events.map((e) => e.event);
    expect(types[0]).toBe('task.queued');
    expect(types).toContain('task.started');
    expect(reply.events.filter((e) => e.event === 'task.token').map((e) => e.data.payload)).toHaveLength(4);
    expect(types.at(-2)).toBe('task.completed');
    expect(types.at(-1)).toBe('task.result');
    const result = reply.events.at(-1)!;
    expect(result.id).toBeUndefined();
    expect(result.data).toMatchObject({ agent: 'speaker', result: 'one two three four', status: 'completed' });
    const taskEvents = reply.events.slice(0, -1);
    expect(taskEvents.every((e) => e.data.task_id === result.data.task_id)).toBe(true);
    expect(ids(taskEvents)).toEqual(taskEvents.map((_, i) => i + 1));
  });

  it('answers an execute the agent refuses before it starts as JSON with its status; a failed task ends with task.error', async () => {
    const unknown = await execute({ agent: 'nobody', prompt: 'hi' });
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body)).toEqual({ detail: expect.stringContaining('nobody') });

    fake.setFault({ kind: 'http500', times: 1 });
    const failed = await execute({ agent: 'speaker', prompt: 'doomed' });
    expect(failed.status).toBe(200);
    expect(failed.events.map((e) => e.event).slice(-2)).toEqual(['task.failed', 'task.error']);
    expect(failed.events.at(-1)!.data).toEqual({ detail: expect.any(String), code: 'llm_error' });

    const keyed = await execute({ agent: 'speaker', prompt: 'hi' }, { 'idempotency-key': 'sse-1' });
    expect(keyed.status).toBe(400);
    expect(JSON.parse(keyed.body).detail).toContain('Idempotency-Key is not supported with Accept: text/event-stream');
  });

  it('streams a running task on GET /tasks/{id}/events, resumes after Last-Event-ID without repeats, and ends after its final event', async () => {
    // A one-slot agent held by a stalled task: the task to follow stays queued until the
    // stream is open, so it is followed from its first event.
    expect((await api.post('/api/v1/agents/', { name: 'serial', config: { max_concurrency: 1 } })).status).toBe(201);
    const chatsBefore = fake.requests.filter((r) => r.path === '/api/chat').length;
    fake.setFault({ kind: 'stall', afterTokens: 0, times: 1 });
    const blocker = await api.post<{ task_id: string }>('/api/v1/tasks', { agent: 'serial', prompt: 'hold the slot' });
    expect(blocker.status).toBe(202);
    await fake.waitForRequest('/api/chat', chatsBefore + 1);
    const submitted = await api.post<{ task_id: string }>('/api/v1/tasks', { agent: 'serial', prompt: 'a b c d e f g h' });
    expect(submitted.status).toBe(202);
    const url = `${server.url}/api/v1/tasks/${submitted.body.task_id}/events`;

    // The first connection drops after the second token.
    let tokens = 0;
    let opened!: () => void;
    const open = new Promise<void>((resolve) => (opened = resolve));
    const following = sse(url, {}, (e) => e.event === 'task.token' && ++tokens === 2, opened);
    await open;
    expect((await api.post(`/api/v1/tasks/${blocker.body.task_id}/cancel`)).status).toBe(200);
    const first = await following;
    expect(first.status).toBe(200);
    const lastSeen = first.events.at(-1)!.id!;

    const resumed = await sse(url, { headers: { 'last-event-id': lastSeen } });
    expect(resumed.status).toBe(200);
    expect(resumed.events.map((e) => e.event)).not.toContain('replay.gap');
    const all = [...first.events, ...resumed.events];
    expect(ids(all)).toEqual(all.map((_, i) => i + 1));
    expect(FINAL).toContain(all.at(-1)!.event);
    expect(all.at(-1)!.event).toBe('task.completed');
    expect(all.filter((e) => e.event === 'task.token').map((e) => (e.data.payload as { token: string }).token).join('')).toBe('a b c d e f g h');

    // After the end, an EventSource reconnects with the last id: 204 tells it to stop.
    const again = await sse(url, { headers: { 'last-event-id': all.at(-1)!.id! } });
    expect(again.status).toBe(204);
    // Without Last-Event-ID the gateway replays the whole stream it still holds, then ends.
    const replay = await sse(url);
    expect(replay.events.map((e) => e.id)).toEqual(all.map((e) => e.id));
  });

  it("replays a finished task nobody followed as its stored outcome, then ends; 404 for an unknown task", async () => {
    const done = await api.post<{ task_id: string }>('/api/v1/tasks/execute', { agent: 'speaker', prompt: 'already over' });
    expect(done.status).toBe(200);
    const url = `${server.url}/api/v1/tasks/${done.body.task_id}/events`;
    const reply = await sse(url);
    expect(reply.status).toBe(200);
    expect(reply.events).toEqual([
      {
        id: '1',
        event: 'task.completed',
        data: expect.objectContaining({
          type: 'task.completed',
          agent: 'speaker',
          task_id: done.body.task_id,
          payload: expect.objectContaining({ result: 'already over' }),
        }),
      },
    ]);
    // Resuming it after that end: nothing left (204, so an EventSource stops reconnecting).
    expect((await sse(url, { headers: { 'last-event-id': '1' } })).status).toBe(204);
    const missing = await sse(`${server.url}/api/v1/tasks/no-such-task/events`);
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body)).toEqual({ detail: 'Task no-such-task not found' });
  });

  it('answers a plain GET of the WebSocket path with 426 Upgrade Required and a detail', async () => {
    const res = await api.get<{ detail: string }>('/api/v1/stream');
    expect(res.status).toBe(426);
    expect(res.headers.get('upgrade')).toBe('websocket');
    expect(res.body.detail).toContain('is a WebSocket');
  });
});
