// The Ollama provider against the fake Ollama server, through the real `ollama` client and real HTTP.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../../runtime/clock.js';
import { AuroraError } from '../../runtime/errors.js';
import type { ChatMessage, LlmChatRequest, LlmProvider, PullProgress, ToolSpec } from '../../runtime/providers/llm.js';
import { sameModelName } from '../../runtime/providers/llm.js';
import { createOllamaProvider } from '../../runtime/providers/ollama.js';
import { startFakeOllama, type FakeOllama } from '../fixtures/fake-ollama.js';

let fake: FakeOllama;
let provider: LlmProvider;

beforeEach(async () => {
  fake = await startFakeOllama();
  provider = createOllamaProvider({ host: fake.url });
});

afterEach(async () => {
  await fake.close();
});

const user = (content: string): ChatMessage => ({ role: 'user', content });

function chatRequest(over: Partial<LlmChatRequest> & { prompt?: string } = {}): LlmChatRequest {
  const { prompt = 'hello there world', ...rest } = over;
  return { model: 'llama2', messages: [user(prompt)], signal: new AbortController().signal, ...rest };
}

const weather: ToolSpec = {
  name: 'get_weather',
  description: 'Current weather of a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the promise to reject');
}

function chatBodies(): Record<string, unknown>[] {
  return fake.requests.filter((r) => r.path === '/api/chat').map((r) => r.body as Record<string, unknown>);
}

describe('chat', () => {
  it('streams tokens in order and takes text, token counts and timings from the final line', async () => {
    const tokens: string[] = [];
    const result = await provider.chat(chatRequest({ prompt: 'the quick brown fox', onToken: (t) => tokens.push(t) }));

    expect(tokens).toEqual(['the', ' quick', ' brown', ' fox']);
    expect(result.text).toBe('the quick brown fox');
    expect(result.model).toBe('llama2');
    expect(result.promptTokens).toBe(4);
    expect(result.completionTokens).toBe(4);
    // The fake reports load 1.5 ms (cold), 0.5 ms per prompt word, 2 ms per token, plus 0.1 ms.
    expect(result.loadDurationMs).toBe(1.5);
    expect(result.promptEvalDurationMs).toBe(2);
    expect(result.evalDurationMs).toBe(8);
    expect(result.totalDurationMs).toBe(11.6);
    expect(result.doneReason).toBe('stop');
    expect(result.toolCalls).toEqual([]);
    expect(chatBodies()[0]).toMatchObject({ stream: true, messages: [{ role: 'user', content: 'the quick brown fox' }] });
  });

  it('passes the system prompt, temperature, max tokens and seed through to Ollama', async () => {
    const result = await provider.chat(
      chatRequest({
        messages: [
          { role: 'system', content: 'be brief' },
          { role: 'user', content: 'one two three four' },
        ],
        options: { temperature: 0.2, num_predict: 3, seed: 42 },
      }),
    );

    expect(chatBodies()[0]).toMatchObject({
      model: 'llama2',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'one two three four' },
      ],
      options: { temperature: 0.2, num_predict: 3, seed: 42 },
    });
    // The fake echoes the system words then the prompt words, cut at num_predict.
    expect(result.text).toBe('be brief one');
    expect(result.completionTokens).toBe(3);
    expect(result.promptTokens).toBe(6);
    expect(result.doneReason).toBe('length');
  });

  it('sends the whole conversation, tools, format, keep_alive and every model option in Ollama\'s shapes', async () => {
    const history: ChatMessage[] = [
      { role: 'system', content: 'you are a weather bot' },
      { role: 'user', content: 'weather in Paris?' },
      { role: 'assistant', content: '', tool_calls: [{ name: 'get_weather', arguments: { city: 'Paris' } }] },
      { role: 'tool', content: 'sunny, 21 C', tool_name: 'get_weather' },
    ];
    const options = {
      temperature: 0.1,
      top_p: 0.9,
      top_k: 40,
      min_p: 0.05,
      num_ctx: 2048,
      num_predict: 64,
      stop: ['\n\n'],
      seed: 3,
      repeat_penalty: 1.1,
      presence_penalty: 0.2,
      frequency_penalty: 0.3,
    };
    await provider.chat(chatRequest({ model: 'llama3.1', messages: history, tools: [weather], format: 'json', keepAlive: '10m', options }));

    expect(fake.chats()).toEqual([
      {
        model: 'llama3.1',
        stream: true,
        messages: [
          { role: 'system', content: 'you are a weather bot' },
          { role: 'user', content: 'weather in Paris?' },
          { role: 'assistant', content: '', tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Paris' } } }] },
          { role: 'tool', content: 'sunny, 21 C', tool_name: 'get_weather' },
        ],
        tools: [{ type: 'function', function: { name: 'get_weather', description: 'Current weather of a city', parameters: weather.parameters } }],
        format: 'json',
        keep_alive: '10m',
        options,
      },
    ]);
  });

  it('sends no options, tools, format or keep_alive when none are given', async () => {
    await provider.chat(chatRequest({ options: {}, tools: [] }));
    expect(Object.keys(chatBodies()[0]!).sort()).toEqual(['messages', 'model', 'stream']);
  });

  it('collects the tool calls Ollama streams, besides the text', async () => {
    fake.script({
      match: (req) => req.tools?.some((t) => t.function.name === 'get_weather') ?? false,
      reply: {
        content: 'Let me check.',
        tool_calls: [
          { name: 'get_weather', arguments: { city: 'Paris' } },
          { name: 'get_weather', arguments: { city: 'Lyon', unit: 'C' } },
        ],
      },
    });
    const tokens: string[] = [];
    const result = await provider.chat(
      chatRequest({ model: 'llama3.1', prompt: 'weather in Paris and Lyon?', tools: [weather], onToken: (t) => tokens.push(t) }),
    );

    expect(result.toolCalls).toEqual([
      { name: 'get_weather', arguments: { city: 'Paris' } },
      { name: 'get_weather', arguments: { city: 'Lyon', unit: 'C' } },
    ]);
    expect(result.text).toBe('Let me check.');
    expect(tokens).toEqual(['Let', ' me', ' check.']);
    expect(result.doneReason).toBe('stop');
  });

  it('refuses tools for a model without the tools capability, as Ollama does (llm_error, HTTP 400)', async () => {
    const err = await failure(provider.chat(chatRequest({ model: 'llama2', tools: [weather] })));
    expect(err).toBeInstanceOf(AuroraError);
    expect(err).toMatchObject({ code: 'llm_error' });
    expect((err as Error).message).toMatch(/HTTP 400.*does not support tools/);
  });

  it('rejects tool-call arguments that are not an object with llm_bad_response', async () => {
    fake.script({ reply: { tool_calls: [{ name: 'get_weather', arguments: 'Paris' as unknown as Record<string, unknown> }] } });
    const err = await failure(provider.chat(chatRequest({ model: 'llama3.1', tools: [weather] })));
    expect(err).toBeInstanceOf(AuroraError);
    expect(err).toMatchObject({ code: 'llm_bad_response', status: 502 });
    expect((err as Error).message).toContain('tool call get_weather has arguments that are not an object: "Paris"');
  });

  it('answers format json with a JSON object derived from the input', async () => {
    const result = await provider.chat(chatRequest({ prompt: 'name three colours', format: 'json' }));
    expect(JSON.parse(result.text)).toEqual({ answer: 'name three colours' });
  });

  it('answers a JSON Schema format with a value of that schema, derived from the input', async () => {
    const format = {
      type: 'object',
      properties: {
        city: { type: 'string' },
        days: { type: 'integer', minimum: 1, maximum: 7 },
        sunny: { type: 'boolean' },
        unit: { type: 'string', enum: ['C', 'F'] },
        tags: { type: 'array', items: { type: 'string' } },
        note: { type: 'string' },
      },
      required: ['city', 'days', 'sunny', 'unit', 'tags'],
    };
    const a = JSON.parse((await provider.chat(chatRequest({ prompt: 'forecast for Paris', format }))).text);
    expect(a).toEqual({ city: 'forecast', days: 3, sunny: false, unit: 'C', tags: ['forecast'] });
    const b = JSON.parse((await provider.chat(chatRequest({ prompt: 'forecast for Paris', format }))).text);
    expect(b).toEqual(a);
    const c = JSON.parse((await provider.chat(chatRequest({ prompt: 'rain over Berlin', format }))).text);
    expect(c.city).toBe('rain');
  });

  it('rejects an unknown model with model_not_found, saying how to pull it', async () => {
    const err = await failure(provider.chat(chatRequest({ model: 'nope' })));
    expect(err).toBeInstanceOf(AuroraError);
    expect(err).toMatchObject({ code: 'model_not_found', message: 'Model nope not found; pull it with POST /api/v1/models/pull {"name":"nope"} (or `ollama pull nope`)' });
  });

  it('rejects with llm_unavailable when the server is not reachable, and works again once it is back', async () => {
    await fake.stop();
    const err = await failure(provider.chat(chatRequest()));
    expect(err).toBeInstanceOf(AuroraError);
    expect(err).toMatchObject({ code: 'llm_unavailable' });
    expect((err as Error).message).toContain(`LLM provider unreachable at ${fake.url}`);
    expect((err as Error).message).toContain('start Ollama (`ollama serve`; install it from https://ollama.com/download) or set OLLAMA_HOST');
    expect(await failure(provider.listInstalled())).toMatchObject({ code: 'llm_unavailable' });

    await fake.start();
    expect((await provider.chat(chatRequest({ prompt: 'back again' }))).text).toBe('back again');
  });

  it('rejects an HTTP 500 with llm_error carrying the server message', async () => {
    fake.setFault({ kind: 'http500' });
    const err = await failure(provider.chat(chatRequest()));
    expect(err).toBeInstanceOf(AuroraError);
    expect(err).toMatchObject({ code: 'llm_error' });
    expect((err as Error).message).toMatch(/HTTP 500.*llama runner process has terminated/);
  });

  it('rejects a connection dropped mid-stream with llm_error, after the tokens that did arrive', async () => {
    fake.setFault({ kind: 'drop', afterTokens: 2 });
    const tokens: string[] = [];
    const err = await failure(provider.chat(chatRequest({ prompt: 'a b c d e', onToken: (t) => tokens.push(t) })));
    expect(err).toBeInstanceOf(AuroraError);
    expect(err).toMatchObject({ code: 'llm_error' });
    expect((err as Error).message).toMatch(/connection to the LLM provider was lost/);
    expect(tokens).toEqual(['a', ' b']);
  });

  it('rejects an error line inside the stream with llm_error', async () => {
    fake.setFault({ kind: 'streamError', afterTokens: 1 });
    const err = await failure(provider.chat(chatRequest()));
    expect(err).toBeInstanceOf(AuroraError);
    expect(err).toMatchObject({ code: 'llm_error' });
    expect((err as Error).message).toContain('unexpected EOF');
  });

  it('rejects a malformed stream with llm_bad_response (a provider fault, not a defect of Aurora)', async () => {
    // The ollama client on its own skips invalid lines silently; the provider must not.
    fake.setFault({ kind: 'malformed', afterTokens: 2 });
    const tokens: string[] = [];
    const err = await failure(provider.chat(chatRequest({ prompt: 'a b c d e', onToken: (t) => tokens.push(t) })));
    expect(err).toBeInstanceOf(AuroraError);
    expect(err).toMatchObject({ code: 'llm_bad_response', status: 502 });
    expect((err as Error).message).toMatch(/malformed response from the LLM provider at .*: invalid JSON line/);
    expect(tokens.length).toBeLessThanOrEqual(2);
  });

  it('rejects a stream that ends without its final line with llm_bad_response', async () => {
    fake.setFault({ kind: 'truncate', afterTokens: 2 });
    const err = await failure(provider.chat(chatRequest({ prompt: 'a b c d e' })));
    expect(err).toBeInstanceOf(AuroraError);
    expect(err).toMatchObject({ code: 'llm_bad_response' });
    expect((err as Error).message).toContain('ended the stream without a final response');
  });

  it('closes the HTTP request when aborted mid-stream and rejects with task_cancelled', async () => {
    fake.setFault({ kind: 'stall', afterTokens: 1 });
    const controller = new AbortController();
    const tokens: string[] = [];
    const err = await failure(
      provider.chat(
        chatRequest({
          prompt: 'one two three',
          signal: controller.signal,
          onToken: (t) => {
            tokens.push(t);
            controller.abort();
          },
        }),
      ),
    );
    expect(err).toBeInstanceOf(AuroraError);
    expect(err).toMatchObject({ code: 'task_cancelled' });
    expect(tokens).toEqual(['one']);
    await fake.waitForClientAbort(1);
    expect(fake.abortedStreams).toBe(1);
  });

  it('rejects with the abort reason when it is an AuroraError (a timeout) and closes the request', async () => {
    fake.setFault({ kind: 'stall', afterTokens: 0 });
    const controller = new AbortController();
    const pending = provider.chat(chatRequest({ signal: controller.signal }));
    await fake.waitForRequest('/api/chat');
    const timeout = new AuroraError('timeout', 'task timed out after 10ms');
    controller.abort(timeout);
    expect(await failure(pending)).toBe(timeout);
    await fake.waitForClientAbort(1);
  });

  it('rejects at once, without a request, when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    expect(await failure(provider.chat(chatRequest({ signal: controller.signal })))).toMatchObject({ code: 'task_cancelled' });
    expect(fake.requests).toHaveLength(0);
  });

  it('lets an exception from onToken propagate unchanged and closes the request', async () => {
    fake.setFault({ kind: 'stall', afterTokens: 1 });
    const boom = new Error('bug in the token handler');
    const err = await failure(
      provider.chat(
        chatRequest({
          onToken: () => {
            throw boom;
          },
        }),
      ),
    );
    expect(err).toBe(boom);
    await fake.waitForClientAbort(1);
  });
});

describe('idle timeout', () => {
  const IDLE_MS = 60_000;

  it('closes a stream that goes silent mid-answer and rejects with llm_timeout', async () => {
    const clock = createManualClock();
    const idle = createOllamaProvider({ host: fake.url, idleTimeoutMs: IDLE_MS, clock });
    fake.setFault({ kind: 'stall', afterTokens: 1 });
    let firstToken!: () => void;
    const tokenSeen = new Promise<void>((resolve) => (firstToken = resolve));
    const pending = idle.chat(chatRequest({ prompt: 'one two three', onToken: () => firstToken() }));
    await tokenSeen;
    clock.advance(IDLE_MS - 1);
    expect(fake.abortedStreams).toBe(0);
    clock.advance(1);

    const err = await failure(pending);
    expect(err).toBeInstanceOf(AuroraError);
    expect(err).toMatchObject({ code: 'llm_timeout', status: 504 });
    expect((err as Error).message).toBe(`the LLM provider at ${fake.url} sent nothing for ${IDLE_MS} ms; the request was closed`);
    await fake.waitForClientAbort(1);
  });

  it('also covers the wait for the first byte, and requests other than chat', async () => {
    const clock = createManualClock();
    const idle = createOllamaProvider({ host: fake.url, idleTimeoutMs: IDLE_MS, clock });
    fake.setLatency(3_600_000);
    const chat = idle.chat(chatRequest());
    const load = idle.load('llama2');
    await fake.waitForRequest('/api/chat');
    await fake.waitForRequest('/api/generate');
    clock.advance(IDLE_MS);
    expect(await failure(chat)).toMatchObject({ code: 'llm_timeout' });
    expect(await failure(load)).toMatchObject({ code: 'llm_timeout' });
    await fake.waitForClientAbort(2);
  });

  it('measures silence, not the length of the answer: a slow stream that keeps talking completes', async () => {
    const idle = createOllamaProvider({ host: fake.url, idleTimeoutMs: 150 });
    fake.setFault({ kind: 'slow', tokenDelayMs: 40 });
    const result = await idle.chat(chatRequest({ prompt: 'a b c d e f g h' }));
    // Eight tokens 40 ms apart: about twice the idle timeout in all.
    expect(result.text).toBe('a b c d e f g h');
  });
});

describe('the fake\'s scripts, latency, concurrency and context window', () => {
  it('answers a chat with the first scripted rule that matches and has uses left, then falls back to the echo', async () => {
    fake.script({ match: (req) => req.messages.at(-1)?.content === 'ping', reply: { content: 'pong' }, times: 2 });
    fake.script({ reply: { content: 'anything else' } });
    const ask = async (prompt: string) => (await provider.chat(chatRequest({ prompt }))).text;

    expect(await ask('ping')).toBe('pong');
    expect(await ask('hello')).toBe('anything else');
    expect(await ask('ping')).toBe('pong');
    expect(await ask('ping')).toBe('ping');
    fake.script({ reply: { content: 'scripted' } });
    fake.clearScripts();
    expect(await ask('echo me')).toBe('echo me');
    expect(fake.chats().map((c) => c.messages.at(-1)?.content)).toEqual(['ping', 'hello', 'ping', 'ping', 'echo me']);
  });

  it('keeps scripted text exactly, whitespace included', async () => {
    const content = '{\n  "a": 1,\n  "b": [true, null]\n}\n';
    fake.script({ reply: { content } });
    expect((await provider.chat(chatRequest())).text).toBe(content);
  });

  it('holds every chat for its latency and counts chats in flight', async () => {
    fake.setLatency(50);
    const answers = Promise.all(['a', 'b', 'c'].map((p) => provider.chat(chatRequest({ prompt: p }))));
    await fake.waitForRequest('/api/chat', 3);
    expect(fake.inFlightChats).toBe(3);
    expect((await answers).map((r) => r.text)).toEqual(['a', 'b', 'c']);
    expect(fake.maxInFlightChats).toBe(3);
    expect(fake.inFlightChats).toBe(0);
    fake.resetMaxInFlight();
    expect(fake.maxInFlightChats).toBe(0);
    fake.setLatency(0);
    await provider.chat(chatRequest());
    expect(fake.maxInFlightChats).toBe(1);
  });

  it('closes a chat still waiting out its latency when the client aborts', async () => {
    fake.setLatency(3_600_000);
    const controller = new AbortController();
    const pending = provider.chat(chatRequest({ signal: controller.signal }));
    await fake.waitForRequest('/api/chat');
    controller.abort();
    expect(await failure(pending)).toMatchObject({ code: 'task_cancelled' });
    await fake.waitForClientAbort(1);
  });

  it('drops the front of a prompt longer than num_ctx, as Ollama does, and counts it', async () => {
    const messages: ChatMessage[] = [
      { role: 'system', content: 'be brief' },
      { role: 'user', content: 'one two three four' },
    ];
    const fits = await provider.chat(chatRequest({ messages, options: { num_ctx: 6 } }));
    expect(fits.text).toBe('be brief one two three four');
    expect(fake.truncatedChats).toBe(0);

    const cut = await provider.chat(chatRequest({ messages, options: { num_ctx: 3 } }));
    expect(cut.text).toBe('two three four');
    expect(cut.promptTokens).toBe(3);
    expect(fake.truncatedChats).toBe(1);
  });
});

describe('show', () => {
  it('reports capabilities and context length, and null for a model that is not installed', async () => {
    expect(await provider.show('llama2')).toEqual({ capabilities: ['completion'], contextLength: 4096 });
    expect(await provider.show('llama3.1')).toEqual({ capabilities: ['completion', 'tools'], contextLength: 131_072 });
    expect(await provider.show('nope')).toBeNull();
    fake.setCapabilities('llama2', ['completion', 'vision']);
    expect(await provider.show('llama2:latest')).toEqual({ capabilities: ['completion', 'vision'], contextLength: 4096 });
  });

  it('takes capabilities from the fake\'s options', async () => {
    const other = await startFakeOllama({ models: ['qwen3:8b'], capabilities: { 'qwen3:8b': ['completion', 'tools', 'thinking'] } });
    try {
      const p = createOllamaProvider({ host: other.url });
      expect(await p.show('qwen3:8b')).toEqual({ capabilities: ['completion', 'tools', 'thinking'], contextLength: 4096 });
    } finally {
      await other.close();
    }
  });

  it('rejects with llm_unavailable when Ollama is unreachable and llm_error on HTTP 500', async () => {
    fake.setFault({ kind: 'http500', paths: ['/api/show'] });
    expect(await failure(provider.show('llama2'))).toMatchObject({ code: 'llm_error' });
    fake.setFault(null);
    await fake.stop();
    expect(await failure(provider.show('llama2'))).toMatchObject({ code: 'llm_unavailable' });
  });
});

describe('models', () => {
  it('lists installed models with their sizes', async () => {
    const installed = await provider.listInstalled();
    expect(installed.map((m) => m.name)).toEqual(['llama2:latest', 'tinyllama:latest', 'llama3.1:latest']);
    for (const m of installed) expect(m.sizeBytes).toBeGreaterThan(0);

    fake.setInstalledModels(['mistral:7b']);
    expect(await provider.listInstalled()).toEqual([{ name: 'mistral:7b', sizeBytes: expect.any(Number) }]);
  });

  it('load, unload and listLoaded reflect each other', async () => {
    expect(await provider.listLoaded()).toEqual([]);

    const before = Date.now();
    await provider.load('llama2');
    const loaded = await provider.listLoaded();
    expect(loaded).toHaveLength(1);
    expect(sameModelName(loaded[0]!.name, 'llama2')).toBe(true);
    expect(loaded[0]!.sizeBytes).toBeGreaterThan(0);
    const expiresMs = Date.parse(loaded[0]!.expiresAt!);
    expect(expiresMs).toBeGreaterThanOrEqual(before + 5 * 60_000);
    expect(expiresMs).toBeLessThanOrEqual(Date.now() + 5 * 60_000);

    await provider.load('tinyllama', '1h');
    expect((await provider.listLoaded()).map((m) => m.name).sort()).toEqual(['llama2:latest', 'tinyllama:latest']);

    await provider.unload('llama2');
    expect((await provider.listLoaded()).map((m) => m.name)).toEqual(['tinyllama:latest']);

    const generate = fake.requests.filter((r) => r.path === '/api/generate').map((r) => r.body);
    expect(generate).toEqual([
      { model: 'llama2', prompt: '', keep_alive: '5m', stream: false },
      { model: 'tinyllama', prompt: '', keep_alive: '1h', stream: false },
      { model: 'llama2', prompt: '', keep_alive: 0, stream: false },
    ]);
  });

  it('rejects load and unload of an unknown model with model_not_found', async () => {
    expect(await failure(provider.load('nope'))).toMatchObject({ code: 'model_not_found', message: expect.stringContaining('Model nope not found; pull it with POST /api/v1/models/pull') });
    expect(await failure(provider.unload('nope'))).toMatchObject({ code: 'model_not_found', message: 'Model nope not found' });
  });

  it('maps an HTTP 500 on a listing to llm_error', async () => {
    fake.setFault({ kind: 'http500', paths: ['/api/ps'] });
    const err = await failure(provider.listLoaded());
    expect(err).toBeInstanceOf(AuroraError);
    expect(err).toMatchObject({ code: 'llm_error' });
  });
});

describe('pull', () => {
  const pull = (model: string, onProgress?: (p: PullProgress) => void, signal = new AbortController().signal) =>
    provider.pull(model, { signal, ...(onProgress && { onProgress }) });

  it('streams every progress line in order, as Ollama sends them, and the model is installed after', async () => {
    fake.setInstalledModels(['llama2']);
    const lines: PullProgress[] = [];
    await pull('mistral', (p) => lines.push(p));

    expect(lines[0]).toEqual({ status: 'pulling manifest', digest: null, total: null, completed: null });
    expect(lines.slice(-3).map((l) => l.status)).toEqual(['verifying sha256 digest', 'writing manifest', 'success']);
    const layers = lines.filter((l) => l.digest !== null);
    expect(new Set(layers.map((l) => l.digest)).size).toBe(4);
    for (const l of layers) {
      expect(l.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(l.status).toBe(`pulling ${l.digest!.slice(7, 19)}`);
      expect(l.total).toBeGreaterThan(0);
    }
    // A layer's first line leaves out `completed` (0); its last says the whole layer arrived.
    const weights = layers.filter((l) => l.digest === layers[0]!.digest);
    expect(weights[0]!.completed).toBeNull();
    expect(weights.at(-1)!.completed).toBe(weights[0]!.total);
    expect(weights.map((l) => l.completed ?? 0)).toEqual([...weights.map((l) => l.completed ?? 0)].sort((a, b) => a - b));

    expect(fake.requests.find((r) => r.path === '/api/pull')!.body).toMatchObject({ name: 'mistral', stream: true });
    expect((await provider.listInstalled()).map((m) => m.name)).toContain('mistral:latest');
  });

  it('rejects a model the registry does not have with model_not_found, from the error line inside the stream', async () => {
    fake.setRegistry(['llama2']);
    const lines: string[] = [];
    const err = await failure(pull('no-such-model', (p) => lines.push(p.status)));
    expect(err).toBeInstanceOf(AuroraError);
    expect(err).toMatchObject({ code: 'model_not_found' });
    expect((err as Error).message).toContain('pull model manifest: file does not exist');
    expect(lines).toEqual(['pulling manifest']);
    expect(fake.installedModels()).not.toContain('no-such-model:latest');
  });

  it('rejects a connection dropped mid-pull with llm_error, after the lines that did arrive, and installs nothing', async () => {
    fake.setFault({ kind: 'drop', afterTokens: 3, paths: ['/api/pull'] });
    const lines: string[] = [];
    const err = await failure(pull('mistral', (p) => lines.push(p.status)));
    expect(err).toMatchObject({ code: 'llm_error' });
    expect((err as Error).message).toMatch(/connection to the LLM provider was lost/);
    expect(lines).toHaveLength(3);
    expect(fake.installedModels()).not.toContain('mistral:latest');
  });

  it('rejects an error line mid-download with llm_error, a stream without success with llm_bad_response', async () => {
    fake.setFault({ kind: 'streamError', afterTokens: 4, paths: ['/api/pull'], times: 1 });
    expect(await failure(pull('mistral'))).toMatchObject({ code: 'llm_error', message: expect.stringContaining('unexpected EOF') });
    fake.setFault({ kind: 'truncate', afterTokens: 4, paths: ['/api/pull'], times: 1 });
    expect(await failure(pull('mistral'))).toMatchObject({ code: 'llm_bad_response' });
    fake.setFault({ kind: 'http500', paths: ['/api/pull'], times: 1 });
    expect(await failure(pull('mistral'))).toMatchObject({ code: 'llm_error', message: expect.stringContaining('HTTP 500') });
  });

  it('rejects with llm_unavailable when Ollama is unreachable', async () => {
    await fake.stop();
    expect(await failure(pull('mistral'))).toMatchObject({ code: 'llm_unavailable' });
  });

  it('closes the HTTP request when aborted mid-pull and rejects with the abort reason', async () => {
    fake.setFault({ kind: 'stall', afterTokens: 2, paths: ['/api/pull'] });
    const controller = new AbortController();
    const reason = new AuroraError('pull_cancelled', 'Pull cancelled');
    const pending = pull('mistral', (p) => {
      if (p.digest !== null) controller.abort(reason);
    }, controller.signal);
    expect(await failure(pending)).toBe(reason);
    await fake.waitForClientAbort(1);
    expect(fake.installedModels()).not.toContain('mistral:latest');
  });
});

describe('ping', () => {
  it('says true when Ollama answers and false, without throwing, when it does not', async () => {
    expect(await provider.ping()).toBe(true);
    await fake.stop();
    expect(await provider.ping()).toBe(false);
    await fake.start();
    expect(await provider.ping()).toBe(true);
  });
});

describe('status', () => {
  it('says whether Ollama answers, with its version and installed models, and why not when it does not', async () => {
    fake.setInstalledModels(['llama2', 'tinyllama']);
    expect(await provider.status!(5_000)).toEqual({ reachable: true, version: '0.12.6', models: ['llama2:latest', 'tinyllama:latest'] });
    await fake.stop();
    const down = await provider.status!(5_000);
    expect(down).toEqual({ reachable: false, reason: expect.stringContaining('ECONNREFUSED') });
    await fake.start();
    expect((await provider.status!(5_000)).reachable).toBe(true);
  });
});
