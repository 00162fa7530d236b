// Yardstick for the supervisor restart (scenario 5): the raw cost of replacing an XState actor —
// stop the old one, create and start a new one — for the same machine Aurora's agents run.
import { performance } from 'node:perf_hooks';
import { createActor } from 'xstate';
import { llmKind } from '../../actors/llm/kind.js';
import { serveChild } from '../lib/child.js';
import { percentiles, Samples } from '../lib/stats.js';

await serveChild<Record<string, never>>(async () => {
  const { machine } = llmKind;
  const definition = { name: 'raw', agent_type: 'llm', model_name: 'llama2', provider: 'ollama', description: '', config: {} };
  return {
    commands: {
      run: async (cmd) => {
        const n = Number(cmd.count);
        const samples = new Samples();
        let actor = createActor(machine, { input: { definition } });
        actor.start();
        for (let i = 0; i < n; i++) {
          const t0 = performance.now();
          actor.stop();
          actor = createActor(machine, { input: { definition } });
          actor.start();
          samples.push(performance.now() - t0);
          // The same turn of the event loop between iterations as the Aurora side gets.
          await new Promise((r) => setImmediate(r));
        }
        actor.stop();
        const [p50, p99, max] = percentiles(samples.values(), [0.5, 0.99, 1]);
        return { p50Ms: p50, p99Ms: p99, maxMs: max, count: n };
      },
    },
  };
});
