// View 5, tasks and runs: two lists (tasks; workflow runs) and, in place of a list, the detail of
// the task or run opened from it. Only one of them is mounted, so the tab's one stream
// subscription is always the one that part needs.
import { useState } from 'preact/hooks';
import { RunDetail } from './run-detail.js';
import { RunList } from './run-list.js';
import { TaskDetail } from './task-detail.js';
import { TaskList } from './task-list.js';

type Tab = 'tasks' | 'runs';

export function Tasks() {
  const [tab, setTab] = useState<Tab>('tasks');
  const [open, setOpen] = useState<string | undefined>(undefined);
  const choose = (t: Tab) => {
    setTab(t);
    setOpen(undefined);
  };
  return (
    <section aria-labelledby="tasks-view-title">
      <h1 id="tasks-view-title">Tasks and runs</h1>
      <div class="row" role="group" aria-label="Show">
        <button type="button" aria-pressed={tab === 'tasks'} data-testid="tab-tasks" onClick={() => choose('tasks')}>
          Tasks
        </button>
        <button type="button" aria-pressed={tab === 'runs'} data-testid="tab-runs" onClick={() => choose('runs')}>
          Workflow runs
        </button>
      </div>
      {tab === 'tasks' ? (
        open === undefined ? (
          <TaskList onOpen={setOpen} />
        ) : (
          <TaskDetail taskId={open} onBack={() => setOpen(undefined)} />
        )
      ) : open === undefined ? (
        <RunList onOpen={setOpen} />
      ) : (
        <RunDetail runId={open} onBack={() => setOpen(undefined)} />
      )}
    </section>
  );
}
