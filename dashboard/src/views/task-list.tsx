// The tasks list: newest first, filtered by agent and status (applied by the API), one page at a
// time (keyset paging). The page on screen is refetched (at most every REFRESH_MS) while the
// stream says tasks start and end.
import { useState } from 'preact/hooks';
import type { TaskStatus } from '../../../runtime/protocol/index.js';
import { Forbidden } from '../components/forbidden.js';
import { Pager, useKeysetPages } from '../components/pager.js';
import { useLive } from '../live.js';
import { useThrottle } from '../use-throttle.js';
import { allows } from '../session.js';
import { TASK_STATUSES } from '../task-statuses.js';
import { useSnapshot } from '../use-snapshot.js';

export const PAGE_SIZE = 25;
const REFRESH_MS = 2000;
const TASK_LIFECYCLE = ['task.queued', 'task.started', 'task.completed', 'task.failed', 'task.cancelled'];

export function TaskList({ onOpen }: { onOpen(taskId: string): void }) {
  const [agent, setAgent] = useState('');
  const [status, setStatus] = useState('');
  const [draftAgent, setDraftAgent] = useState('');
  const pages = useKeysetPages();
  const list = useSnapshot(
    (c) =>
      c.tasks.list({
        limit: PAGE_SIZE,
        ...(pages.cursor !== undefined && { cursor: pages.cursor }),
        ...(agent !== '' && { agent }),
        ...(status !== '' && { status: status as TaskStatus }),
      }),
    [agent, status, pages.cursor],
  );
  // Only suggestions for the filter: without agents:read the field stays free text.
  const agents = useSnapshot((c) => (allows('agents:read') ? c.agents.list({ limit: 200 }).catch(() => undefined) : Promise.resolve(undefined)));
  const reload = useThrottle(() => list.reload(), REFRESH_MS);
  useLive({ types: TASK_LIFECYCLE, ...(agent !== '' && { agents: [agent] }) }, reload);

  if (list.forbidden) return <Forbidden scope="tasks:read" what="The tasks list" />;
  const tasks = list.data?.tasks ?? [];
  return (
    <section aria-labelledby="tasks-title">
      <h2 id="tasks-title">Tasks</h2>
      <form
        class="filters"
        aria-label="Filter tasks"
        onSubmit={(e) => {
          e.preventDefault();
          setAgent(draftAgent.trim());
          pages.reset();
        }}
      >
        <label>
          Agent
          <input
            name="agent"
            list="task-agents"
            value={draftAgent}
            onInput={(e) => setDraftAgent(e.currentTarget.value)}
            placeholder="any"
            autocomplete="off"
          />
          <datalist id="task-agents">
            {(agents.data?.agents ?? []).map((a) => (
              <option key={a.name} value={a.name} />
            ))}
          </datalist>
        </label>
        <label>
          Status
          <select
            name="status"
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
      <table data-testid="tasks-table">
        <caption class="muted">
          {tasks.length} task{tasks.length === 1 ? '' : 's'} on this page
        </caption>
        <thead>
          <tr>
            <th scope="col">Task</th>
            <th scope="col">Agent</th>
            <th scope="col">Status</th>
            <th scope="col">Prompt</th>
            <th scope="col">Created</th>
            <th scope="col">Duration</th>
          </tr>
        </thead>
        <tbody>
          {tasks.map((t) => (
            <tr key={t.task_id} data-task={t.task_id} data-agent={t.agent} data-status={t.status}>
              <td>
                <button type="button" class="link" onClick={() => onOpen(t.task_id)} aria-label={`Show task ${t.task_id}`}>
                  <code>{t.task_id.slice(0, 8)}</code>
                </button>
              </td>
              <td>{t.agent}</td>
              <td class={`status-${t.status}`}>{t.status}</td>
              <td class="clip">{t.prompt.slice(0, 80)}</td>
              <td>{new Date(t.created_at).toLocaleString()}</td>
              <td>{t.duration_ms === null ? '—' : `${Math.round(t.duration_ms)} ms`}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <Pager pages={pages} nextCursor={list.data?.next_cursor} label="Tasks" />
    </section>
  );
}
