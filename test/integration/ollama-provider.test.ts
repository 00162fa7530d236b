// The Ollama provider against the fake Ollama server, through the real `ollama` client and real HTTP.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuroraError } from '../../runtime/errors.js';
import type { LlmChatRequest, LlmProvider } from '../../runtime/providers/llm.js';
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

function chatRequest(over: Partial<LlmChatRequest> = {}): LlmChatRequest {
  return { model: 'llama2', prompt: 'hello there world', signal: new AbortController().signal, ...over };
}

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
    expect(chatBodies()[0]).toMatchObject({ stream: true, messages: [{ role: 'user', content: 'the quick brown fox' }] });
  });

  it('passes the system prompt, temperature, max tokens and seed through to Ollama', async () => {
    const result = await provider.chat(
      chatRequest({ prompt: 'one two three four', system: 'be brief', temperature: 0.2, maxTokens: 3, seed: 42 }),
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
  });

  it('sends no options when none are given', async () => {
    await provider.chat(chatRequest());
    expect(chatBodies()[0]).not.toHaveProperty('options');
  });

  it('rejects an unknown model with model_not_found', async () => {
    const err = await failure(provider.chat(chatRequest({ model: 'nope' })));
    expect(err).toBeInstanceOf(AuroraError);
    expect(err).toMatchObject({ code: 'model_not_found', message: 'Model nope not found' });
  });

  it('rejects with llm_unavailable when the server is not reachable, and works again once it is back', async () => {
    await fake.stop();
    const err = await failure(provider.chat(chatRequest()));
    expect(err).toBeInstanceOf(AuroraError);
    expect(err).toMatchObject({ code: 'llm_unavailable' });
    expect((err as Error).message).toContain(`LLM provider unreachable at ${fake.url}`);
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

  it('surfaces a malformed stream as a plain Error (a defect), not an AuroraError', async () => {
    // The ollama client on its own skips invalid lines silently; the provider must not.
    fake.setFault({ kind: 'malformed', afterTokens: 2 });
    const tokens: string[] = [];
    const err = await failure(provider.chat(chatRequest({ prompt: 'a b c d e', onToken: (t) => tokens.push(t) })));
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(AuroraError);
    expect((err as Error).message).toMatch(/malformed stream/);
    expect(tokens.length).toBeLessThanOrEqual(2);
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

describe('models', () => {
  it('lists installed models with their sizes', async () => {
    const installed = await provider.listInstalled();
    expect(installed.map((m) => m.name)).toEqual(['llama2:latest', 'tinyllama:latest']);
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
    expect(await failure(provider.load('nope'))).toMatchObject({ code: 'model_not_found', message: 'Model nope not found' });
    expect(await failure(provider.unload('nope'))).toMatchObject({ code: 'model_not_found', message: 'Model nope not found' });
  });

  it('maps an HTTP 500 on a listing to llm_error', async () => {
    fake.setFault({ kind: 'http500', paths: ['/api/ps'] });
    const err = await failure(provider.listLoaded());
    expect(err).toBeInstanceOf(AuroraError);
    expect(err).toMatchObject({ code: 'llm_error' });
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
