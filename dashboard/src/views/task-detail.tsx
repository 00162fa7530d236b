// One task: its facts, its timeline (task-timeline.ts: the record joined with the stream's events
// while it runs) and, while it is queued or running, a cancel with confirmation.
import { useRef, useState } from 'preact/hooks';
import { CancelAction } from '../components/cancel-action.js';
import { Forbidden } from '../components/forbidden.js';
import { useLive } from '../live.js';
import { applyTaskEvents, buildTimeline, currentStatus, EMPTY_LIVE, type LiveTask } from '../task-timeline.js';
import { useSnapshot } from '../use-snapshot.js';

const ENDS = new Set(['task.completed', 'task.failed', 'task.cancelled']);

export function TaskDetail({ taskId, onBack }: { taskId: string; onBack(): void }) {
  const record = useSnapshot((c) => c.tasks.get(taskId), [taskId]);
  const [live, setLive] = useState<LiveTask>(EMPTY_LIVE);
  const reloaded = useRef(false);
  useLive({ tasks: [taskId] }, (events) => {
    setLive((l) => applyTaskEvents(l, taskId, events));
    // Its end is in the record (tokens, duration, error): read it once more.
    if (!reloaded.current && events.some((e) => e.task_id === taskId && ENDS.has(e.type))) {
      reloaded.current = true;
      record.reload();
    }
  });

  const back = (
    <button type="button" onClick={onBack}>
      ← All tasks
    </button>
  );
  if (record.forbidden) return <Forbidden scope="tasks:read" what="A task's detail" />;
  if (record.data === undefined) {
    return (
      <section>
        {back}
        {record.error !== undefined ? <p class="error">{record.error}</p> : <p class="muted">Loading…</p>}
      </section>
    );
  }
  const t = record.data;
  const status = currentStatus(t, live);
  const timeline = buildTimeline(t, live);
  return (
    <section class="card" aria-labelledby="task-title" data-testid="task-detail" data-status={status}>
      <div class="row">
        {back}
        <h2 id="task-title">
          Task <code>{t.task_id}</code>
        </h2>
      </div>
      <dl class="facts">
        <dt>Agent</dt>
        <dd>{t.agent}</dd>
        <dt>Status</dt>
        <dd class={`status-${status}`} data-testid="task-status">
          {status}
        </dd>
        <dt>Model</dt>
        <dd>{t.model ?? '—'}</dd>
        <dt>Prompt</dt>
        <dd class="pre">{t.prompt}</dd>
        {t.result !== null && (
          <>
            <dt>Result</dt>
            <dd class="pre">{t.result}</dd>
          </>
        )}
        {t.trace !== undefined && (
          <>
            <dt>Workflow run</dt>
            <dd>
              <code>{t.trace.run_id}</code> at {t.trace.path.join(' / ')}
            </dd>
          </>
        )}
      </dl>
      {(status === 'queued' || status === 'running') && (
        <CancelAction what="task" cancel={(c) => c.tasks.cancel(t.task_id)} onDone={record.reload} />
      )}
      <h3>Timeline</h3>
      <ol class="timeline" data-testid="task-timeline">
        {timeline.map((e) => (
          <li key={e.key} data-kind={e.kind} class={`status-${e.kind}`}>
            <time dateTime={e.time ?? undefined} title={e.time ?? undefined}>
              {e.time === null ? '' : `+${Math.max(0, Date.parse(e.time) - Date.parse(t.created_at))} ms`}
            </time>
            <span>{e.label}</span>
            {e.detail !== undefined && <code class="payload">{e.detail.slice(0, 500)}</code>}
          </li>
        ))}
      </ol>
    </section>
  );
}
