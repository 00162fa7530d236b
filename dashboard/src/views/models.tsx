// Models: the ones loaded in the provider (unload), one model's status (installed, loaded, until
// when), load one, and pull one with a progress bar fed by the stream's model.pull.* events.
import { useState } from 'preact/hooks';
import type { ModelStatus, PullRecord } from '../../../runtime/protocol/index.js';
import { api, describeError } from '../api.js';
import { Forbidden } from '../components/forbidden.js';
import { useLive } from '../live.js';
import { allows } from '../session.js';
import { useSnapshot } from '../use-snapshot.js';

export function Models() {
  const loaded = useSnapshot((c) => c.models.list());
  const [pulls, setPulls] = useState<Record<string, PullRecord>>({});
  const [notice, setNotice] = useState<string | undefined>(undefined);
  const [status, setStatus] = useState<ModelStatus | undefined>(undefined);
  const writable = allows('models:write');

  useLive({ types: ['model.*'] }, (events) => {
    const updates = events.filter((e) => e.type.startsWith('model.pull.')).map((e) => e.payload as unknown as PullRecord);
    if (updates.length > 0) setPulls((p) => ({ ...p, ...Object.fromEntries(updates.map((u) => [u.pull_id, u])) }));
    if (events.some((e) => e.type === 'model.loaded' || e.type === 'model.unloaded')) loaded.reload();
  });

  if (loaded.forbidden) return <Forbidden scope="models:read" what="The models view" />;
  const act = (fn: () => Promise<unknown>, done: string) =>
    fn().then(
      () => setNotice(done),
      (err: unknown) => setNotice(describeError(err)),
    );

  return (
    <section aria-labelledby="models-title">
      <h1 id="models-title">Models</h1>
      {loaded.error !== undefined && <p class="error">{loaded.error}</p>}
      {notice !== undefined && <p role="status">{notice}</p>}
      <h2>Loaded</h2>
      <table>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Provider</th>
            <th scope="col">Loaded at</th>
            <th scope="col">
              <span class="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {Object.values(loaded.data?.models ?? {}).map((m) => (
            <tr key={`${m.provider}:${m.name}`}>
              <td>{m.name}</td>
              <td>{m.provider}</td>
              <td>{new Date(m.loaded_at).toLocaleString()}</td>
              <td>
                {writable && (
                  <button type="button" onClick={() => void act(() => api((c) => c.models.unload(m.name, m.provider)), `Unloaded ${m.name}.`)}>
                    Unload
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          const data = new FormData(e.currentTarget);
          const name = String(data.get('model') ?? '').trim();
          const which = (e.submitter as HTMLButtonElement | null)?.value;
          if (which === 'status') {
            void api((c) => c.models.status(name)).then(setStatus, (err: unknown) => setNotice(describeError(err)));
          } else if (which === 'pull') {
            void api((c) => c.models.pull({ name })).then(
              (p) => setPulls((all) => ({ ...all, [p.pull_id]: p })),
              (err: unknown) => setNotice(describeError(err)),
            );
          } else void act(() => api((c) => c.models.load({ name })), `Loaded ${name}.`);
        }}
      >
        <label>
          Model
          <input name="model" required placeholder="llama2" autocomplete="off" />
        </label>
        <button type="submit" value="status">
          Status
        </button>
        <button type="submit" value="load" disabled={!writable}>
          Load
        </button>
        <button type="submit" value="pull" disabled={!writable}>
          Pull
        </button>
      </form>
      {!writable && <p class="muted">Loading, unloading and pulling need the models:write scope.</p>}
      {status !== undefined && (
        <dl class="facts" data-testid="model-status">
          <dt>Model</dt>
          <dd>
            {status.name} ({status.provider})
          </dd>
          <dt>Installed</dt>
          <dd>{status.installed ? `yes${status.size_bytes === null ? '' : `, ${(status.size_bytes / 1e9).toFixed(1)} GB`}` : 'no'}</dd>
          <dt>Loaded</dt>
          <dd>{status.loaded ? `yes${status.expires_at === null ? '' : `, until ${new Date(status.expires_at).toLocaleTimeString()}`}` : 'no'}</dd>
        </dl>
      )}
      <h2>Pulls</h2>
      {Object.values(pulls).length === 0 && <p class="muted">None since this page opened.</p>}
      <ul class="pulls">
        {Object.values(pulls).map((p) => (
          <li key={p.pull_id} data-pull={p.name} data-status={p.status}>
            <label>
              {p.name} — {p.status} {p.detail ?? ''}
              <progress max={100} value={p.percent}>
                {p.percent}%
              </progress>
            </label>
            {p.status === 'running' && writable && (
              <button type="button" onClick={() => void act(() => api((c) => c.models.cancelPull(p.pull_id)), `Cancelled the pull of ${p.name}.`)}>
                Cancel
              </button>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
