// The INSTANT LLM provider: answers every chat at once, without I/O, so the benchmark measures
// Aurora and not a model. It streams `maxTokens` tokens (default 1) synchronously through
// onToken, each token carrying the wall-clock time it was produced (microseconds) so a stream
// subscriber can measure end-to-end token latency. Registered only by the benchmark harness
// (bench/server.ts, bench/restart.ts), which passes it to startAurora explicitly; nothing in the
// production configuration can reach it.
import { performance } from 'node:perf_hooks';
import { AuroraError } from '../runtime/errors.js';
import type { LlmChatRequest, LlmChatResult, LlmProvider } from '../runtime/providers/llm.js';

/** Microseconds since the epoch, comparable across processes on one machine. */
export function wallMicros(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

export function createInstantProvider(models: readonly string[] = ['llama2']): LlmProvider {
  return {
    name: 'instant',
    chat(req: LlmChatRequest): Promise<LlmChatResult> {
      if (req.signal.aborted) return Promise.reject(new AuroraError('task_cancelled', 'Task cancelled'));
      const n = Math.max(1, req.maxTokens ?? 1);
      let text = '';
      for (let i = 0; i < n; i++) {
        const token = `${wallMicros()} `;
        req.onToken?.(token);
        if (i < 8) text += token;
      }
      return Promise.resolve({
        text: text.trimEnd(),
        model: req.model,
        promptTokens: req.prompt.length,
        completionTokens: n,
        totalDurationMs: 0,
        loadDurationMs: 0,
        promptEvalDurationMs: 0,
        evalDurationMs: 0,
      });
    },
    listInstalled: () => Promise.resolve(models.map((name) => ({ name, sizeBytes: null }))),
    listLoaded: () => Promise.resolve([]),
    load: () => Promise.resolve(),
    unload: () => Promise.resolve(),
    ping: () => Promise.resolve(true),
  };
}
