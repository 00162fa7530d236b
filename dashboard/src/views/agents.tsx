// Agents: the table (status, kind, model, tasks running and queued, last run), a create form
// checked by the API itself (its 400 names the field), delete with confirmation, and a detail
// panel (model and description editable) with the agent's threads and recent tasks (newest 20 of
// each). The table is refetched (at most every REFRESH_MS) when the stream says an agent or its
// tasks changed.
import { useState } from 'preact/hooks';
import type { AgentRecord } from '../../../runtime/protocol/index.js';
import { api, describeError } from '../api.js';
import { Confirm } from '../components/confirm.js';
import { Forbidden } from '../components/forbidden.js';
import { useLive } from '../live.js';
import { useThrottle } from '../use-throttle.js';
import { allows } from '../session.js';
import { useSnapshot } from '../use-snapshot.js';

/** Rows the table shows at most; more agents are counted, not rendered. */
const MAX_ROWS = 500;
/** At most one refetch per this while events flow: under RATE_LIMIT_ENABLED the page shares the budget. */
const REFRESH_MS = 2000;

export function Agents() {
  const list = useSnapshot((c) => c.agents.list({ limit: MAX_ROWS }));
  const [selected, setSelected] = useState<string | undefined>(undefined);
  const [deleting, setDeleting] = useState<string | undefined>(undefined);
  const [notice, setNotice] = useState<string | undefined>(undefined);

  const reload = useThrottle(() => list.reload(), REFRESH_MS);
  useLive({ types: ['agent.*', 'task.queued', 'task.started', 'task.completed', 'task.failed', 'task.cancelled'] }, reload);

  if (list.forbidden) return <Forbidden scope="agents:read" what="The agents list" />;
  const agents = list.data?.agents ?? [];

  const remove = async (name: string) => {
    setDeleting(undefined);
    try {
      await api((c) => c.agents.delete(name));
      setNotice(`Agent ${name} deleted.`);
      if (selected === name) setSelected(undefined);
      list.reload();
    } catch (err) {
      setNotice(describeError(err));
    }
  };

  return (
    <section aria-labelledby="agents-title">
      <h1 id="agents-title">Agents</h1>
      <CreateAgent onCreated={(name) => (setNotice(`Agent ${name} created.`), list.reload())} />
      {notice !== undefined && <p role="status">{notice}</p>}
      {list.error !== undefined && <p class="error">{list.error}</p>}
      <table data-testid="agents-table">
        <caption class="muted">
          {agents.length} agent{agents.length === 1 ? '' : 's'}
          {list.data?.next_cursor != null ? ` (first ${MAX_ROWS} shown)` : ''}
        </caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Status</th>
            <th scope="col">Kind</th>
            <th scope="col">Model</th>
            <th scope="col">Busy / queued</th>
            <th scope="col">Last run</th>
            <th scope="col">
              <span class="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {agents.map((a: AgentRecord) => (
            <tr key={a.name} data-agent={a.name}>
              <td>
                <button type="button" class="link" onClick={() => setSelected(a.name)} aria-label={`Show ${a.name}`}>
                  {a.name}
                </button>
              </td>
              <td class={`status-${a.status}`}>{a.status}</td>
              <td>{a.agent_type}</td>
              <td>
                {a.model_name}
                {a.model_installed === false && <span class="muted"> (not installed)</span>}
              </td>
              <td>
                {a.running_tasks ?? 0} / {a.queued_tasks ?? 0}
              </td>
              <td>{a.last_run === null ? '—' : new Date(a.last_run).toLocaleString()}</td>
              <td>
                {allows('agents:write') && (
                  <button type="button" class="danger" onClick={() => setDeleting(a.name)} aria-label={`Delete ${a.name}`}>
                    Delete
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {selected !== undefined && <AgentDetail name={selected} onClose={() => setSelected(undefined)} />}
      {deleting !== undefined && (
        <Confirm
          title={`Delete ${deleting}?`}
          body="Its actor stops and its queued tasks fail; its tasks and threads stay readable."
          action="Delete"
          onConfirm={() => void remove(deleting)}
          onCancel={() => setDeleting(undefined)}
        />
      )}
    </section>
  );
}

function CreateAgent({ onCreated }: { onCreated(name: string): void }) {
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const allowed = allows('agents:write');
  return (
    <form
      class="create-agent"
      aria-labelledby="create-title"
      onSubmit={(e) => {
        e.preventDefault();
        const form = e.currentTarget;
        const data = new FormData(form);
        const field = (k: string) => String(data.get(k) ?? '').trim();
        const body = {
          name: field('name'),
          agent_type: field('agent_type') || undefined,
          model_name: field('model_name') || undefined,
          description: field('description') || undefined,
        };
        setBusy(true);
        api((c) => c.agents.create(body)).then(
          (agent) => {
            setBusy(false);
            setError(undefined);
            form.reset();
            onCreated(agent.name);
          },
          (err: unknown) => {
            setBusy(false);
            setError(describeError(err));
          },
        );
      }}
    >
      <h2 id="create-title">Create an agent</h2>
      {!allowed && (
        <p class="notice" data-testid="create-disabled">
          Creating agents needs a token with the <code>agents:write</code> scope; the current token does not carry it.
        </p>
      )}
      <fieldset disabled={!allowed || busy}>
        <label>
          Name
          <input name="name" required autocomplete="off" data-testid="create-name" />
        </label>
        <label>
          Kind
          <input name="agent_type" placeholder="llm" autocomplete="off" />
        </label>
        <label>
          Model
          <input name="model_name" placeholder="llama2" autocomplete="off" />
        </label>
        <label>
          Description
          <input name="description" autocomplete="off" />
        </label>
        <button type="submit">Create</button>
      </fieldset>
      {error !== undefined && (
        <p class="error" role="alert" data-testid="create-error">
          {error}
        </p>
      )}
    </form>
  );
}

function AgentDetail({ name, onClose }: { name: string; onClose(): void }) {
  const agent = useSnapshot((c) => c.agents.get(name), [name]);
  const mayRead = allows('tasks:read');
  const tasks = useSnapshot((c) => (mayRead ? c.tasks.list({ agent: name, limit: 20 }) : Promise.resolve(undefined)), [name]);
  const threads = useSnapshot((c) => (mayRead ? c.agents.threads(name, { limit: 20 }) : Promise.resolve(undefined)), [name]);
  return (
    <section class="card detail" aria-labelledby="detail-title">
      <div class="row">
        <h2 id="detail-title">{name}</h2>
        <button type="button" onClick={onClose} aria-label="Close details">
          Close
        </button>
      </div>
      {agent.error !== undefined && <p class="error">{agent.error}</p>}
      {agent.data !== undefined && allows('agents:write') && (
        <EditAgent key={`${agent.data.name}:${agent.data.model_name}:${agent.data.description}`} record={agent.data} onSaved={agent.reload} />
      )}
      {agent.data !== undefined && (
        <dl class="facts">
          <dt>Status</dt>
          <dd>{agent.data.status}</dd>
          <dt>Kind</dt>
          <dd>{agent.data.agent_type}</dd>
          <dt>Model</dt>
          <dd>
            {agent.data.model_name} ({agent.data.provider})
          </dd>
          <dt>Description</dt>
          <dd>{agent.data.description || '—'}</dd>
          <dt>Created</dt>
          <dd>{new Date(agent.data.created_at).toLocaleString()}</dd>
        </dl>
      )}
      <h3>Threads</h3>
      {!mayRead ? (
        <p class="muted">Needs tasks:read.</p>
      ) : threads.data === undefined || threads.data.threads.length === 0 ? (
        <p class="muted">None.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Thread</th>
              <th scope="col">Title</th>
              <th scope="col">Messages</th>
              <th scope="col">Updated</th>
            </tr>
          </thead>
          <tbody>
            {threads.data.threads.map((t) => (
              <tr key={t.thread_id}>
                <td>
                  <code>{t.thread_id.slice(0, 8)}</code>
                </td>
                <td>{t.title ?? '—'}</td>
                <td>{t.message_count}</td>
                <td>{new Date(t.updated_at).toLocaleString()}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h3>Recent tasks</h3>
      {!mayRead ? (
        <p class="muted">Needs tasks:read.</p>
      ) : tasks.data === undefined || tasks.data.tasks.length === 0 ? (
        <p class="muted">None.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Task</th>
              <th scope="col">Status</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {tasks.data.tasks.map((t) => (
              <tr key={t.task_id}>
                <td>
                  <code>{t.task_id.slice(0, 8)}</code>
                </td>
                <td class={`status-${t.status}`}>{t.status}</td>
                <td>{new Date(t.created_at).toLocaleString()}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** Changes what PATCH allows (model, description); the API validates and answers with the record. */
function EditAgent({ record, onSaved }: { record: AgentRecord; onSaved(): void }) {
  const [model, setModel] = useState(record.model_name);
  const [description, setDescription] = useState(record.description);
  const [message, setMessage] = useState<string | undefined>(undefined);
  const changed = model !== record.model_name || description !== record.description;
  return (
    <form
      class="filters"
      aria-label={`Edit ${record.name}`}
      onSubmit={(e) => {
        e.preventDefault();
        const body = {
          ...(model !== record.model_name && { model_name: model }),
          ...(description !== record.description && { description }),
        };
        api((c) => c.agents.update(record.name, body)).then(
          () => {
            setMessage('Saved; the next task uses it.');
            onSaved();
          },
          (err: unknown) => setMessage(describeError(err)),
        );
      }}
    >
      <label>
        Model
        <input value={model} onInput={(e) => setModel(e.currentTarget.value)} autocomplete="off" />
      </label>
      <label>
        Description
        <input value={description} onInput={(e) => setDescription(e.currentTarget.value)} autocomplete="off" />
      </label>
      <button type="submit" disabled={!changed}>
        Save
      </button>
      {message !== undefined && <span role="status">{message}</span>}
    </form>
  );
}
