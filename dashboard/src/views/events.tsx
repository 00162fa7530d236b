// Events: a live tail with type and agent filters and a pause. The filters go to the server (the
// socket is re-subscribed), so a busy runtime does not flood the tab with events it would hide;
// the table keeps the newest MAX_ROWS and a paused tail keeps at most as many waiting.
import { useState } from 'preact/hooks';
import type { StreamEvent } from '../../../client/index.js';
import { appendBounded } from '../bounded.js';
import { Forbidden } from '../components/forbidden.js';
import { droppedEvents, streamState, subscribeError, useLive } from '../live.js';

export const MAX_ROWS = 200;

const list = (text: string): string[] | undefined => {
  const items = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  return items.length === 0 ? undefined : items;
};

export function Events() {
  const [types, setTypes] = useState('');
  const [agents, setAgents] = useState('');
  const [applied, setApplied] = useState<{ types?: string[]; agents?: string[] }>({});
  const [rows, setRows] = useState<StreamEvent[]>([]);
  const [paused, setPaused] = useState(false);
  const [held, setHeld] = useState<StreamEvent[]>([]);

  useLive(applied, (events) => {
    // task.token events are many and tiny; the tail shows them only when asked for by type.
    const shown = applied.types === undefined ? events.filter((e) => e.type !== 'task.token') : events;
    if (shown.length === 0) return;
    if (paused) setHeld((h) => appendBounded(h, shown, MAX_ROWS));
    else setRows((r) => appendBounded(r, shown, MAX_ROWS));
  });

  if (streamState.value === 'forbidden' || streamState.value === 'tasks-only') return <Forbidden scope="events:read" what="The live event tail" />;

  return (
    <section aria-labelledby="events-title">
      <h1 id="events-title">Events</h1>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          const t = list(types);
          const a = list(agents);
          setApplied({ ...(t !== undefined && { types: t }), ...(a !== undefined && { agents: a }) });
          setRows([]);
        }}
      >
        <label>
          Types
          <input value={types} onInput={(e) => setTypes(e.currentTarget.value)} placeholder="task.*, supervisor.*" />
        </label>
        <label>
          Agents
          <input value={agents} onInput={(e) => setAgents(e.currentTarget.value)} placeholder="writer, re*" />
        </label>
        <button type="submit">Apply filters</button>
        <button
          type="button"
          aria-pressed={paused}
          onClick={() => {
            if (paused) {
              setRows((r) => appendBounded(r, held, MAX_ROWS));
              setHeld([]);
            }
            setPaused(!paused);
          }}
        >
          {paused ? `Resume (${held.length} waiting)` : 'Pause'}
        </button>
        <button type="button" onClick={() => setRows([])}>
          Clear
        </button>
      </form>
      {subscribeError.value !== null && (
        <p class="error" role="alert">
          {subscribeError.value}
        </p>
      )}
      <p class="muted">
        Newest {MAX_ROWS} kept; stream {streamState.value}
        {droppedEvents.value > 0 ? `; ${droppedEvents.value} dropped while the tab was hidden` : ''}.
      </p>
      <table data-testid="events-table">
        <thead>
          <tr>
            <th scope="col">Seq</th>
            <th scope="col">Time</th>
            <th scope="col">Type</th>
            <th scope="col">Agent</th>
            <th scope="col">Payload</th>
          </tr>
        </thead>
        <tbody>
          {rows
            .slice()
            .reverse()
            .map((e) => (
              <tr key={e.seq} data-type={e.type}>
                <td>{e.seq}</td>
                <td>{new Date(e.time).toLocaleTimeString()}</td>
                <td>{e.type}</td>
                <td>{e.agent ?? '—'}</td>
                <td>
                  <code class="payload">{JSON.stringify(e.payload).slice(0, 200)}</code>
                </td>
              </tr>
            ))}
        </tbody>
      </table>
    </section>
  );
}
