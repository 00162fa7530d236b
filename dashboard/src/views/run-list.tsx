// Workflow runs: newest first, filtered by workflow and status, one page at a time. Runs are tasks
// of their workflow agents (wf.<name>), so the page refetches when those agents' tasks end.
import { useState } from 'preact/hooks';
import type { TaskStatus } from '../../../runtime/protocol/index.js';
import { Forbidden } from '../components/forbidden.js';
import { Pager, useKeysetPages } from '../components/pager.js';
import { useLive } from '../live.js';
import { useThrottle } from '../use-throttle.js';
import { allows } from '../session.js';
import { TASK_STATUSES } from '../task-statuses.js';
import { useSnapshot } from '../use-snapshot.js';
import { PAGE_SIZE } from './task-list.js';

const REFRESH_MS = 2000;

export function RunList({ onOpen }: { onOpen(runId: string): void }) {
  const [workflow, setWorkflow] = useState('');
  const [draft, setDraft] = useState('');
  const [status, setStatus] = useState('');
  const pages = useKeysetPages();
  const list = useSnapshot(
    (c) =>
      c.runs.list({
        limit: PAGE_SIZE,
        ...(pages.cursor !== undefined && { cursor: pages.cursor }),
        ...(workflow !== '' && { workflow }),
        ...(status !== '' && { status: status as TaskStatus }),
      }),
    [workflow, status, pages.cursor],
  );
  // Only suggestions for the filter: without workflows:read the field stays free text.
  const workflows = useSnapshot((c) =>
    allows('workflows:read') ? c.workflows.list({ limit: 100 }).catch(() => undefined) : Promise.resolve(undefined),
  );
  const reload = useThrottle(() => list.reload(), REFRESH_MS);
  useLive({ agents: ['wf.*'], types: ['task.queued', 'task.started', 'task.completed', 'task.failed', 'task.cancelled'] }, reload);

  if (list.forbidden) return <Forbidden scope="tasks:read" what="The runs list" />;
  const runs = list.data?.runs ?? [];
  return (
    <section aria-labelledby="runs-title">
      <h2 id="runs-title">Workflow runs</h2>
      <form
        class="filters"
        aria-label="Filter runs"
        onSubmit={(e) => {
          e.preventDefault();
          setWorkflow(draft.trim());
          pages.reset();
        }}
      >
        <label>
          Workflow
          <input name="workflow" list="run-workflows" value={draft} onInput={(e) => setDraft(e.currentTarget.value)} placeholder="any" autocomplete="off" />
          <datalist id="run-workflows">
            {(workflows.data?.workflows ?? []).map((w) => (
              <option key={w.name} value={w.name} />
            ))}
          </datalist>
        </label>
        <label>
          Status
          <select
            name="run-status"
            value={status}
            onChange={(e) => {
              setStatus(e.currentTarget.value);
              pages.reset();
            }}
          >
            <option value="">any</option>
            {TASK_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">Apply</button>
      </form>
      {list.error !== undefined && <p class="error">{list.error}</p>}
      <table data-testid="runs-table">
        <caption class="muted">
          {runs.length} run{runs.length === 1 ? '' : 's'} on this page
        </caption>
        <thead>
          <tr>
            <th scope="col">Run</th>
            <th scope="col">Workflow</th>
            <th scope="col">Status</th>
            <th scope="col">Tokens</th>
            <th scope="col">Created</th>
            <th scope="col">Duration</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((r) => (
            <tr key={r.run_id} data-run={r.run_id} data-status={r.status}>
              <td>
                <button type="button" class="link" onClick={() => onOpen(r.run_id)} aria-label={`Show run ${r.run_id}`}>
                  <code>{r.run_id.slice(0, 8)}</code>
                </button>
              </td>
              <td>
                {r.workflow} <span class="muted">v{r.version}</span>
              </td>
              <td class={`status-${r.status}`}>{r.status}</td>
              <td>{r.tokens}</td>
              <td>{new Date(r.created_at).toLocaleString()}</td>
              <td>{r.duration_ms === null ? '—' : `${Math.round(r.duration_ms)} ms`}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <Pager pages={pages} nextCursor={list.data?.next_cursor} label="Runs" />
    </section>
  );
}
