// Run a task: pick an agent, type a prompt, watch its tokens arrive over the tab's socket (the
// stream's execute op), cancel it. The answer shown is bounded (the newest MAX_CHARS).
import { useState } from 'preact/hooks';
import { api, describeError } from '../api.js';
import { executeTask } from '../live.js';
import { useSnapshot } from '../use-snapshot.js';

const MAX_CHARS = 100_000;

export function Run() {
  const agents = useSnapshot((c) => c.agents.list({ limit: 500 }));
  const [agent, setAgent] = useState('');
  const [prompt, setPrompt] = useState('');
  const [output, setOutput] = useState('');
  const [taskId, setTaskId] = useState<string | undefined>(undefined);
  const [state, setState] = useState<'idle' | 'running' | 'done' | 'failed'>('idle');
  const [error, setError] = useState<string | undefined>(undefined);
  const names = agents.data?.agents.map((a) => a.name) ?? [];
  const chosen = agent || names[0] || '';

  const run = () => {
    setOutput('');
    setError(undefined);
    setState('running');
    executeTask(
      { agent: chosen, prompt },
      {
        onSubmitted: setTaskId,
        onEvent: (e) => {
          if (e.type !== 'task.token') return;
          const text = String((e.payload as { token?: unknown; content?: unknown }).token ?? (e.payload as { content?: unknown }).content ?? '');
          setOutput((o) => (o + text).slice(-MAX_CHARS));
        },
      },
    ).then(
      (result) => {
        setState('done');
        setOutput(result.result);
      },
      (err: unknown) => {
        setState('failed');
        setError(describeError(err));
      },
    );
  };

  return (
    <section aria-labelledby="run-title">
      <h1 id="run-title">Run a task</h1>
      <form
        class="run-form"
        onSubmit={(e) => {
          e.preventDefault();
          run();
        }}
      >
        <label>
          Agent
          <select value={chosen} onChange={(e) => setAgent(e.currentTarget.value)} required>
            {names.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </label>
        <label>
          Prompt
          <textarea value={prompt} onInput={(e) => setPrompt(e.currentTarget.value)} rows={4} required />
        </label>
        <div class="row">
          <button type="submit" disabled={state === 'running' || chosen === ''}>
            Run
          </button>
          <button
            type="button"
            disabled={state !== 'running' || taskId === undefined}
            onClick={() => taskId !== undefined && void api((c) => c.tasks.cancel(taskId)).catch((err: unknown) => setError(describeError(err)))}
          >
            Cancel
          </button>
        </div>
      </form>
      <p role="status" class="muted">
        {state === 'running' ? `Running${taskId === undefined ? '' : ` (task ${taskId.slice(0, 8)})`}…` : state === 'idle' ? '' : state}
      </p>
      {error !== undefined && <p class="error">{error}</p>}
      <pre class="output" aria-live="polite" data-testid="run-output">
        {output}
      </pre>
    </section>
  );
}
