// One workflow run: its steps as a graph (step-layout.ts) whose statuses the stream's run.step
// events move as they happen, a step's drill-down (input, output, error, attempts, tokens,
// timings), and cancel with confirmation. The run is refetched when a step ends, for what events
// do not carry (outputs, tokens).
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { StepRecord } from '../../../runtime/protocol/index.js';
import { CancelAction } from '../components/cancel-action.js';
import { Forbidden } from '../components/forbidden.js';
import { useLive } from '../live.js';
import { useThrottle } from '../use-throttle.js';
import { applyStepEvents, layoutSteps, pathKey } from '../step-layout.js';
import { useSnapshot } from '../use-snapshot.js';

/** At most one refetch per this while steps end. */
const REFRESH_MS = 500;
const RUN_ENDS = new Set(['task.completed', 'task.failed', 'task.cancelled']);

export function RunDetail({ runId, onBack }: { runId: string; onBack(): void }) {
  const run = useSnapshot((c) => c.runs.get(runId), [runId]);
  const [steps, setSteps] = useState<StepRecord[]>([]);
  const [selected, setSelected] = useState<string | undefined>(undefined);
  const reload = useThrottle(() => run.reload(), REFRESH_MS);
  useEffect(() => {
    if (run.data !== undefined) setSteps(run.data.steps);
  }, [run.data]);

  useLive({ runs: [runId], types: ['run.step', 'task.completed', 'task.failed', 'task.cancelled'] }, (events) => {
    setSteps((s) => applyStepEvents(s, runId, events));
    const ends = events.some((e) => (e.type === 'run.step' && e.task_id === runId && e.payload.status !== 'running') || (RUN_ENDS.has(e.type) && e.task_id === runId));
    if (ends) reload();
  });

  const r = run.data;
  const graph = useMemo(() => (r === undefined ? undefined : layoutSteps(r.workflow, steps)), [r?.workflow, steps]);
  const back = (
    <button type="button" onClick={onBack}>
      ← All runs
    </button>
  );
  if (run.forbidden) return <Forbidden scope="tasks:read" what="A run's detail" />;
  if (r === undefined || graph === undefined) {
    return (
      <section>
        {back}
        {run.error !== undefined ? <p class="error">{run.error}</p> : <p class="muted">Loading…</p>}
      </section>
    );
  }
  const step = steps.find((s) => pathKey(s.path) === selected);
  return (
    <section aria-labelledby="run-title" data-testid="run-detail" data-status={r.status}>
      <div class="row">
        {back}
        <h2 id="run-title">
          Run <code>{r.run_id}</code> of {r.workflow} v{r.version}
        </h2>
      </div>
      <dl class="facts">
        <dt>Status</dt>
        <dd class={`status-${r.status}`} data-testid="run-status">
          {r.status}
        </dd>
        <dt>Tokens</dt>
        <dd>{r.tokens}</dd>
        <dt>Duration</dt>
        <dd>{r.duration_ms === null ? '—' : `${Math.round(r.duration_ms)} ms`}</dd>
        {r.error !== null && (
          <>
            <dt>Error</dt>
            <dd class="error">{r.error}</dd>
          </>
        )}
      </dl>
      {(r.status === 'queued' || r.status === 'running') && <CancelAction what="run" cancel={(c) => c.runs.cancel(r.run_id)} onDone={run.reload} />}
      <div class="tree-layout">
        <div class="tree-canvas">
          <svg width={graph.width} height={graph.height} role="group" aria-label={`Steps of run ${r.run_id}`} data-testid="run-graph">
            <g transform="translate(20,0)">
              {graph.links.map((l) => (
                <path
                  key={`${l.source.data.key}>${l.target.data.key}`}
                  class="link"
                  d={`M${l.source.y},${l.source.x}C${(l.source.y + l.target.y) / 2},${l.source.x} ${(l.source.y + l.target.y) / 2},${l.target.x} ${l.target.y},${l.target.x}`}
                />
              ))}
              {graph.nodes.map((n) => {
                const d = n.data;
                const pick = () => d.step !== null && setSelected(d.key);
                return (
                  <g
                    key={d.key}
                    class={`node step status-${d.status}${selected === d.key ? ' selected' : ''}`}
                    transform={`translate(${n.y},${n.x})`}
                    data-step={d.key}
                    data-status={d.status}
                    {...(d.step !== null && {
                      // Lower case: on SVG elements the attribute is case-sensitive, and `tabIndex` makes nothing focusable.
                      tabindex: 0,
                      role: 'button',
                      'aria-label': `Step ${d.key}: ${d.status}`,
                      onClick: pick,
                      onKeyDown: (e: KeyboardEvent) => {
                        if (e.key === 'Enter' || e.key === ' ') {
                          e.preventDefault();
                          pick();
                        }
                      },
                    })}
                  >
                    <circle r={7} />
                    <text x={12} dy="0.32em">
                      {d.label} · {d.status}
                    </text>
                  </g>
                );
              })}
            </g>
          </svg>
          {graph.hidden > 0 && <p class="muted">{graph.hidden} more steps not drawn.</p>}
        </div>
        <StepDetail step={step} />
      </div>
    </section>
  );
}

const show = (v: unknown): string => (v === undefined ? '—' : typeof v === 'string' ? v : JSON.stringify(v, null, 2));

function StepDetail({ step }: { step: StepRecord | undefined }) {
  if (step === undefined) {
    return (
      <aside class="tree-detail" aria-label="Step detail">
        <p class="muted">Select a step (click, or Enter on a focused one) to see its input, output and timings.</p>
      </aside>
    );
  }
  const took = step.started_at !== null && step.finished_at !== null ? Date.parse(step.finished_at) - Date.parse(step.started_at) : null;
  return (
    <aside class="tree-detail" aria-labelledby="step-title" data-testid="step-detail">
      <h3 id="step-title">{pathKey(step.path)}</h3>
      <dl class="facts">
        <dt>Status</dt>
        <dd class={`status-${step.status}`}>{step.status}</dd>
        <dt>Type</dt>
        <dd>{step.type}</dd>
        <dt>Agent</dt>
        <dd>{step.agent ?? '—'}</dd>
        <dt>Attempts</dt>
        <dd>{step.attempts}</dd>
        <dt>Tokens</dt>
        <dd>{step.tokens}</dd>
        <dt>Started</dt>
        <dd>{step.started_at === null ? '—' : new Date(step.started_at).toLocaleTimeString()}</dd>
        <dt>Finished</dt>
        <dd>{step.finished_at === null ? '—' : new Date(step.finished_at).toLocaleTimeString()}</dd>
        <dt>Took</dt>
        <dd>{took === null ? '—' : `${took} ms`}</dd>
        {step.task_id !== null && (
          <>
            <dt>Task</dt>
            <dd>
              <code>{step.task_id}</code>
            </dd>
          </>
        )}
      </dl>
      <h4>Input</h4>
      <pre class="pre" data-testid="step-input">{show(step.input).slice(0, 4000)}</pre>
      <h4>Output</h4>
      <pre class="pre" data-testid="step-output">{show(step.output).slice(0, 4000)}</pre>
      {step.error !== null && (
        <>
          <h4>Error</h4>
          <p class="error">
            {step.error} {step.error_code !== null && <code>({step.error_code})</code>}
          </p>
        </>
      )}
    </aside>
  );
}
