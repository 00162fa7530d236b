// The INSTANT LLM provider: answers every chat at once, without I/O, so the benchmark measures
// Aurora and not a model. It streams `options.num_predict` tokens (default 1) synchronously through
// onToken, each token carrying the wall-clock time it was produced (microseconds) so a stream
// subscriber can measure end-to-end token latency. Registered only by the benchmark harness
// (bench/server.ts, bench/restart.ts), which passes it to startAurora explicitly; nothing in the
// production configuration can reach it.
import { performance } from 'node:perf_hooks';
import { AuroraError } from '../runtime/errors.js';
import { sameModelName, type LlmChatRequest, type LlmChatResult, type LlmProvider } from '../runtime/providers/llm.js';

/** Microseconds since the epoch, comparable across processes on one machine. */
export function wallMicros(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

export interface InstantProviderOptions {
  models?: readonly string[];
  /**
   * Time each chat takes before answering (default 0: at once). Stands in for a model server that
   * serves several requests in parallel, each taking this long (OLLAMA_NUM_PARALLEL).
   */
  latencyMs?: number;
}

export function createInstantProvider(options: InstantProviderOptions = {}): LlmProvider {
  const models = [...(options.models ?? ['llama2'])];
  const latencyMs = options.latencyMs ?? 0;
  const answer = (req: LlmChatRequest): Promise<LlmChatResult> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        req.signal.removeEventListener('abort', onAbort);
        resolve(answerNow(req));
      }, latencyMs);
      const onAbort = () => {
        clearTimeout(timer);
        reject(new AuroraError('task_cancelled', 'Task cancelled'));
      };
      req.signal.addEventListener('abort', onAbort, { once: true });
    });
  return {
    name: 'instant',
    chat(req: LlmChatRequest): Promise<LlmChatResult> {
      if (req.signal.aborted) return Promise.reject(new AuroraError('task_cancelled', 'Task cancelled'));
      return latencyMs > 0 ? answer(req) : Promise.resolve(answerNow(req));
    },
    listInstalled: () => Promise.resolve(models.map((name) => ({ name, sizeBytes: null }))),
    listLoaded: () => Promise.resolve([]),
    show: (model) => Promise.resolve(models.some((m) => sameModelName(m, model)) ? { capabilities: ['completion'], contextLength: null } : null),
    load: () => Promise.resolve(),
    unload: () => Promise.resolve(),
    // Nothing to download: the model is there at once, after the one line Ollama ends a pull with.
    async pull(model, { signal, onProgress }) {
      if (signal.aborted) throw new AuroraError('task_cancelled', 'Pull cancelled');
      if (!models.some((m) => sameModelName(m, model))) models.push(model);
      onProgress?.({ status: 'success', digest: null, total: null, completed: null });
    },
    ping: () => Promise.resolve(true),
  };
}

function answerNow(req: LlmChatRequest): LlmChatResult {
  const n = Math.max(1, req.options?.num_predict ?? 1);
  let text = '';
  for (let i = 0; i < n; i++) {
    const token = `${wallMicros()} `;
    req.onToken?.(token);
    if (i < 8) text += token;
  }
  let promptChars = 0;
  for (const m of req.messages) promptChars += m.content.length;
  return {
    text: text.trimEnd(),
    toolCalls: [],
    model: req.model,
    promptTokens: promptChars,
    completionTokens: n,
    doneReason: 'stop',
    totalDurationMs: 0,
    loadDurationMs: 0,
    promptEvalDurationMs: 0,
    evalDurationMs: 0,
  };
}
