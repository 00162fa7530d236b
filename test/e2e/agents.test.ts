// Agents that act, end to end: Aurora as its own process (one per mode), REST and WebSocket from
// outside, the fake Ollama server here recording what Aurora sent and scripting what the model
// "says" (tool calls, structured answers). Every wait is for an answer, a message or a request.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { startFakeOllama, type FakeChatRequest, type FakeOllama } from '../fixtures/fake-ollama.js';
import { client, describeModes, startAurora, StreamClient, tempDir, type Api, type AuroraProcess, type TempDir } from '../helpers/e2e.js';
import { uniqueNamespace } from '../helpers/services.js';

interface TaskBody {
  task_id: string;
  result: string;
  output?: unknown;
  thread_id?: string;
}
interface ErrorBody {
  detail: string;
}
interface TaskRecordBody {
  status: string;
  error_code: string | null;
  details: {
    settings?: { system: string | null; options: Record<string, unknown> };
    context?: { omitted_messages: number; history_messages: number };
    steps?: { name: string; ok: boolean | null; result: string | null }[];
  };
}

const lastUser = (chat: FakeChatRequest) => chat.messages.filter((m) => m.role === 'user').at(-1)?.content ?? '';

await describeModes('agents that act', (mode) => {
  let fake: FakeOllama;
  let dir: TempDir;
  let server: AuroraProcess;
  let api: Api;
  let site: Server;
  let siteUrl: string;

  beforeAll(async () => {
    fake = await startFakeOllama();
    dir = tempDir();
    // A local page for http_fetch, and a redirect from it to the loopback metadata-like target.
    site = createServer((req, res) => {
      if (req.url === '/to-loopback') {
        res.writeHead(302, { location: `http://127.0.0.1:${fake.port}/` });
        return res.end();
      }
      if (req.url === '/to-metadata') {
        res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' });
        return res.end();
      }
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('the page says hello');
    });
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
    server = await startAurora({
      ...mode.env,
      DATABASE_PATH: dir.file('aurora.db'),
      OLLAMA_HOST: fake.url,
      AURORA_NAMESPACE: uniqueNamespace('e2e_agents'),
      MODEL_CACHE_TTL_MS: '0',
    });
    api = client(server.url);
  });

  afterAll(async () => {
    await server?.stop();
    await fake?.close();
    await new Promise((resolve) => site?.close(resolve));
    dir?.remove();
  });

  beforeEach(() => {
    fake.clearScripts();
    fake.setFault(null);
    fake.setLatency(0);
  });

  const create = async (name: string, extra: Record<string, unknown> = {}) => {
    const res = await api.post('/api/v1/agents/', { name, ...extra });
    expect(res.status, res.text).toBe(201);
    return res.body as Record<string, unknown>;
  };
  const execute = (agent: string, prompt: string, extra: Record<string, unknown> = {}) =>
    api.post<TaskBody & ErrorBody>('/api/v1/tasks/execute', { agent, prompt, ...extra });
  const chatsFrom = (from: number) => fake.chats().slice(from).filter((c) => c.messages.length > 0);

  it('sends the definition to the model: a pirate system prompt and the agent options reach Ollama', async () => {
    await create('pirate', { config: { system: 'You are a pirate', options: { temperature: 0.2, top_p: 0.5, stop: ['END'] } } });
    const from = fake.chats().length;
    const res = await execute('pirate', 'hello', { parameters: { num_ctx: 2048 } });
    expect(res.status, res.text).toBe(200);
    const [chat] = chatsFrom(from);
    expect(chat!.messages[0]).toEqual({ role: 'system', content: 'You are a pirate' });
    expect(chat!.options).toMatchObject({ temperature: 0.2, top_p: 0.5, stop: ['END'], num_ctx: 2048 });
    const record = await api.get<TaskRecordBody>(`/api/v1/tasks/${res.body.task_id}`);
    expect(record.body.details.settings).toMatchObject({ system: 'You are a pirate', options: { temperature: 0.2, num_ctx: 2048 } });
  });

  it('refuses a config it does not know, naming the field, and changes nothing', async () => {
    const bad = await api.post<ErrorBody>('/api/v1/agents/', { name: 'typo', config: { sytem: 'x' } });
    expect(bad.status).toBe(400);
    expect(bad.body.detail).toBe('config.sytem is not a known field');
    const wrong = await api.post<ErrorBody>('/api/v1/agents/', { name: 'typo', config: { options: { temperature: 'hot' } } });
    expect(wrong.body.detail).toBe('config.options.temperature: must be number');
    expect((await api.get('/api/v1/agents/typo')).status).toBe(404);
  });

  it('updates a definition with PATCH: the next task uses it, an agent.updated event goes out', async () => {
    await create('editable', { config: { system: 'first' } });
    const socket = await StreamClient.connect(`${server.wsUrl}?agents=editable&types=agent.updated`);
    const patched = await api.send<Record<string, unknown>>('PATCH', '/api/v1/agents/editable', {
      description: 'changed',
      config: { system: 'second' },
    });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body).toMatchObject({ description: 'changed', config: { system: 'second' } });
    await socket.next((m) => m.type === 'agent.updated', 'agent.updated');
    socket.ws.close();
    const from = fake.chats().length;
    await execute('editable', 'hi');
    expect(chatsFrom(from)[0]!.messages[0]).toEqual({ role: 'system', content: 'second' });
    const refused = await api.send<ErrorBody>('PATCH', '/api/v1/agents/editable', { config: { max_turns: 0 } });
    expect(refused.status).toBe(400);
    expect(refused.body.detail).toBe('config.max_turns: must be >= 1');
  });

  it('refuses tools on a model without tool support, and shows an uninstalled model', async () => {
    const refused = await api.post<ErrorBody>('/api/v1/agents/', { name: 'toolless', model_name: 'llama2', config: { tools: ['current_time'] } });
    expect(refused.status).toBe(400);
    expect(refused.body.detail).toContain('Model llama2 does not support tools');
    const missing = await create('dreamer', { model_name: 'not-pulled-yet' });
    expect(missing.model_installed).toBe(false);
    const present = await api.get<Record<string, unknown>>('/api/v1/agents/pirate');
    expect(present.body).toMatchObject({ model_installed: true, running_tasks: 0, queued_tasks: 0 });
  });

  it('keeps a conversation in a thread across three turns', async () => {
    await create('chatty', { config: { system: 'remember' } });
    const thread = await api.post<{ thread_id: string }>('/api/v1/agents/chatty/threads', { title: 'trip' });
    expect(thread.status, thread.text).toBe(201);
    const id = thread.body.thread_id;
    const from = fake.chats().length;
    for (const prompt of ['my name is Ada', 'I like boats', 'what do you know']) {
      const res = await execute('chatty', prompt, { thread_id: id });
      expect(res.status, res.text).toBe(200);
      expect(res.body.thread_id).toBe(id);
    }
    const third = chatsFrom(from)[2]!;
    expect(third.messages.map((m) => `${m.role}:${m.content}`)).toEqual([
      'system:remember',
      'user:my name is Ada',
      'assistant:remember my name is Ada',
      'user:I like boats',
      'assistant:remember I like boats',
      'user:what do you know',
    ]);
    const read = await api.get<{ messages: { role: string; content: string; tokens: number | null }[]; message_count: number }>(`/api/v1/threads/${id}`);
    expect(read.body.message_count).toBe(6);
    expect(read.body.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant', 'user', 'assistant']);
    expect(read.body.messages[1]!.tokens).toBeGreaterThan(0);
    const page = await api.get<{ threads: { thread_id: string }[]; next_cursor: string | null }>('/api/v1/agents/chatty/threads?limit=1');
    expect(page.body).toEqual({ threads: [expect.objectContaining({ thread_id: id })], next_cursor: null });
    expect((await execute('pirate', 'wrong agent', { thread_id: id })).status).toBe(404);
  });

  it('trims an over-long thread to num_ctx, keeps the system prompt, and says so on the task', async () => {
    await create('forgetful', { config: { system: 'system words stay', options: { num_ctx: 300 }, memory: { reserve_tokens: 50 } } });
    const { body } = await api.post<{ thread_id: string }>('/api/v1/agents/forgetful/threads', {});
    for (let i = 0; i < 6; i++) {
      expect((await execute('forgetful', `turn ${i} ${'lorem ipsum dolor sit amet '.repeat(8)}`, { thread_id: body.thread_id })).status).toBe(200);
    }
    const truncatedBefore = fake.truncatedChats;
    const from = fake.chats().length;
    const res = await execute('forgetful', 'last question', { thread_id: body.thread_id });
    expect(res.status, res.text).toBe(200);
    const chat = chatsFrom(from)[0]!;
    expect(chat.messages[0]).toEqual({ role: 'system', content: 'system words stay' });
    expect(chat.messages.some((m) => m.content.startsWith('turn 0 '))).toBe(false);
    expect(fake.truncatedChats).toBe(truncatedBefore);
    const record = await api.get<TaskRecordBody>(`/api/v1/tasks/${res.body.task_id}`);
    expect(record.body.details.context!.omitted_messages).toBeGreaterThan(0);
  });

  it('returns structured output, repairs an invalid answer once, and fails output_invalid after that', async () => {
    const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false };
    await create('structured', { config: { output_schema: schema } });
    const valid = await execute('structured', 'Oslo');
    expect(valid.status, valid.text).toBe(200);
    expect(valid.body.output).toEqual({ city: expect.any(String) });
    fake.script({ reply: { content: '{"town":"Oslo"}' } });
    fake.script({ reply: { content: '{"city":"Bergen"}' } });
    const repaired = await execute('structured', 'where');
    expect(repaired.body.output).toEqual({ city: 'Bergen' });
    fake.script({ reply: { content: 'not json' }, times: 2 });
    const invalid = await execute('structured', 'where');
    expect(invalid.status).toBe(422);
    expect(invalid.body.detail).toContain('does not match output_schema');
  });

  it('runs tools in a loop: http_fetch reads an allowed page and refuses loopback, metadata and redirects to them', async () => {
    await create('fetcher', {
      model_name: 'llama3.1',
      config: { tools: ['http_fetch', 'current_time'], http_fetch: { allow_hosts: [siteUrl.replace('http://', '')] } },
    });
    fake.script({
      reply: {
        tool_calls: [
          { name: 'http_fetch', arguments: { url: `${siteUrl}/page` } },
          { name: 'http_fetch', arguments: { url: `http://127.0.0.1:${fake.port}/` } },
          { name: 'http_fetch', arguments: { url: 'http://169.254.169.254/latest/meta-data/' } },
          { name: 'http_fetch', arguments: { url: `${siteUrl}/to-loopback` } },
          { name: 'http_fetch', arguments: { url: `${siteUrl}/to-metadata` } },
        ],
      },
    });
    fake.script({ match: (c) => c.messages.some((m) => m.role === 'tool'), reply: { content: 'done fetching' } });
    const socket = await StreamClient.connect(`${server.wsUrl}?agents=fetcher&types=task.tool_*`);
    const res = await execute('fetcher', 'read the page');
    expect(res.status, res.text).toBe(200);
    expect(res.body.result).toBe('done fetching');
    const record = await api.get<TaskRecordBody>(`/api/v1/tasks/${res.body.task_id}`);
    const steps = record.body.details.steps!;
    expect(steps.map((s) => s.ok)).toEqual([true, false, false, false, false]);
    expect(steps[0]!.result).toContain('the page says hello');
    expect(steps[1]!.result).toMatch(/refused .*loopback/);
    expect(steps[2]!.result).toMatch(/refused .*(metadata|link-local)/);
    expect(steps[3]!.result).toMatch(/refused/);
    expect(steps[4]!.result).toMatch(/refused/);
    await socket.next((m) => m.type === 'task.tool_result' && (m.payload as { index?: number }).index === 4, 'the last tool result');
    expect(socket.messages.filter((m) => m.type === 'task.tool_call')).toHaveLength(5);
    socket.ws.close();
  });

  it('lets agent A call agent B as a tool, and cancelling A aborts B’s model call', async () => {
    await create('helper-b', { config: { system: 'B says' } });
    await create('caller-a', { model_name: 'llama3.1', config: { tools: ['agent:helper-b'] } });
    fake.script({ match: (c) => c.model === 'llama3.1' && !c.messages.some((m) => m.role === 'tool'), reply: { tool_calls: [{ name: 'agent:helper-b', arguments: { prompt: 'ping' } }] } });
    fake.script({ match: (c) => c.messages.some((m) => m.role === 'tool'), reply: { content: 'A heard back' } });
    const from = fake.chats().length;
    const res = await execute('caller-a', 'ask B');
    expect(res.status, res.text).toBe(200);
    expect(res.body.result).toBe('A heard back');
    const toolMessage = chatsFrom(from).at(-1)!.messages.find((m) => m.role === 'tool')!;
    expect(toolMessage.content).toBe('B says ping');

    // Now B's model stalls; cancelling A's task must abort B's request to Ollama.
    fake.script({ match: (c) => c.model === 'llama3.1', reply: { tool_calls: [{ name: 'agent:helper-b', arguments: { prompt: 'slow' } }] } });
    const chatRequests = fake.requests.filter((r) => r.path === '/api/chat').length;
    const pending = execute('caller-a', 'ask B slowly');
    // A's chat has been received (and has passed its fault check): the next chat, B's, stalls.
    await fake.waitForRequest('/api/chat', chatRequests + 1);
    fake.setFault({ kind: 'stall', afterTokens: 0, times: 1 });
    const bChat = await fake.waitForRequest('/api/chat', chatRequests + 2);
    expect(lastUser(bChat.body as FakeChatRequest)).toBe('slow');
    const running = await api.get<{ task_id: string }[]>('/api/v1/tasks/?agent=caller-a&status=running');
    const aborted = fake.abortedStreams;
    expect((await api.post(`/api/v1/tasks/${running.body[0]!.task_id}/cancel`)).status).toBe(200);
    await fake.waitForClientAbort(aborted + 1);
    expect((await pending).status).toBe(409);
    const b = await api.get<{ status: string; error_code: string }[]>('/api/v1/tasks/?agent=helper-b&limit=1');
    expect(b.body[0]).toMatchObject({ status: 'cancelled' });
  });

  it('runs up to max_concurrency tasks of one agent at once', async () => {
    await create('parallel', { config: { max_concurrency: 3 } });
    fake.setLatency(100);
    fake.resetMaxInFlight();
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => execute('parallel', `job ${i}`)));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(fake.maxInFlightChats).toBe(3);
  });
});
