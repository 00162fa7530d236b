// OLLAMA_MAX_CONCURRENCY: model calls beyond the bound wait in Aurora, in arrival order, abortable,
// through the real provider and the fake Ollama over real HTTP.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuroraError } from '../../runtime/errors.js';
import type { LlmChatRequest } from '../../runtime/providers/llm.js';
import { createOllamaProvider } from '../../runtime/providers/ollama.js';
import { startFakeOllama, type FakeOllama } from '../fixtures/fake-ollama.js';

let fake: FakeOllama;

beforeEach(async () => {
  fake = await startFakeOllama();
});

afterEach(async () => {
  await fake.close();
});

function chatRequest(prompt: string, signal = new AbortController().signal): LlmChatRequest {
  return { model: 'llama2', messages: [{ role: 'user', content: prompt }], signal };
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the promise to reject');
}

const prompts = () => fake.chats().map((c) => c.messages.at(-1)?.content);

describe('model calls per Ollama host', () => {
  it('never has more chats in flight than the bound, and every chat is answered', async () => {
    const provider = createOllamaProvider({ host: fake.url, maxConcurrency: 3 });
    fake.setLatency(30);
    const words = Array.from({ length: 12 }, (_, i) => `w${i}`);
    const answers = Promise.all(words.map((w) => provider.chat(chatRequest(w))));
    await fake.waitForRequest('/api/chat', 3);
    expect(fake.inFlightChats).toBe(3);

    expect((await answers).map((r) => r.text)).toEqual(words);
    expect(fake.maxInFlightChats).toBe(3);
  });

  it('sends waiting chats to Ollama in the order they were made', async () => {
    const provider = createOllamaProvider({ host: fake.url, maxConcurrency: 1 });
    fake.setLatency(10);
    const words = ['one', 'two', 'three', 'four', 'five'];
    await Promise.all(words.map((w) => provider.chat(chatRequest(w))));
    expect(prompts()).toEqual(words);
    expect(fake.maxInFlightChats).toBe(1);
  });

  it('takes a waiting chat that is aborted out of the queue: it fails at once and never reaches Ollama', async () => {
    const provider = createOllamaProvider({ host: fake.url, maxConcurrency: 1 });
    fake.setFault({ kind: 'stall', afterTokens: 1 });
    const holder = new AbortController();
    const holding = provider.chat(chatRequest('holds the slot', holder.signal));
    await fake.waitForRequest('/api/chat');

    const waiter = new AbortController();
    const waiting = provider.chat(chatRequest('gives up', waiter.signal));
    const timeout = new AuroraError('timeout', 'task timed out while waiting');
    const after = provider.chat(chatRequest('comes next'));
    waiter.abort(timeout);
    expect(await failure(waiting)).toBe(timeout);

    fake.setFault(null);
    holder.abort();
    expect(await failure(holding)).toMatchObject({ code: 'task_cancelled' });
    expect((await after).text).toBe('comes next');
    expect(prompts()).toEqual(['holds the slot', 'comes next']);
  });

  it('counts load and unload as model calls, but lets listings, show and ping past a full gate', async () => {
    const provider = createOllamaProvider({ host: fake.url, maxConcurrency: 1 });
    fake.setFault({ kind: 'stall', afterTokens: 1 });
    const holder = new AbortController();
    const holding = provider.chat(chatRequest('holds the slot', holder.signal));
    await fake.waitForRequest('/api/chat');

    const load = provider.load('llama2');
    expect((await provider.listInstalled()).length).toBeGreaterThan(0);
    expect(await provider.show('llama2')).not.toBeNull();
    expect(await provider.ping()).toBe(true);
    expect(fake.requests.some((r) => r.path === '/api/generate')).toBe(false);

    holder.abort();
    await failure(holding);
    await load;
    expect(fake.requests.filter((r) => r.path === '/api/generate')).toHaveLength(1);
  });

  it('frees the slot of a chat that failed, so the next one runs', async () => {
    const provider = createOllamaProvider({ host: fake.url, maxConcurrency: 1 });
    fake.setFault({ kind: 'http500', times: 1 });
    const [failed, ok] = await Promise.allSettled([provider.chat(chatRequest('first')), provider.chat(chatRequest('second'))]);
    expect(failed).toMatchObject({ status: 'rejected', reason: { code: 'llm_error' } });
    expect(ok).toMatchObject({ status: 'fulfilled', value: { text: 'second' } });
  });
});
