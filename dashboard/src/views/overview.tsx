// Overview: each dependency's readiness, agents by status, and rates computed from the stream
// (tasks/s and failures/s over the last minute, restarts in the last minute, the mean duration of
// completed tasks), with the recent escalations.
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { StreamEvent } from '../../../client/index.js';
import type { AgentRecord, StoredEvent } from '../../../runtime/protocol/index.js';
import { prependBounded } from '../bounded.js';
import { useLive } from '../live.js';
import { createRateWindow } from '../rates.js';
import { allows } from '../session.js';
import { useSnapshot } from '../use-snapshot.js';

const MINUTE_MS = 60_000;
const MAX_ESCALATIONS = 20;
const ESCALATION_TYPES = ['supervisor.escalation', 'supervisor.failed'];

interface Escalation {
  time: string;
  type: string;
  agent: string | undefined;
  reason: string;
}

const toEscalation = (e: StreamEvent | StoredEvent): Escalation => ({
  time: e.time,
  type: e.type,
  agent: e.agent,
  reason: String((e.payload as { reason?: unknown }).reason ?? ''),
});

const meanLatency = (totalMs: number, n: number): string => (n === 0 ? '—' : `${Math.round(totalMs / n)} ms`);

export function Overview() {
  const ready = useSnapshot((c) => c.readiness());
  const agents = useSnapshot((c) => c.agents.list({ limit: 1000 }));
  const mayReadEvents = allows('events:read');
  const past = useSnapshot(async (c) =>
    mayReadEvents ? (await Promise.all(ESCALATION_TYPES.map((type) => c.events.list({ type, limit: MAX_ESCALATIONS })))).flatMap((p) => p.events) : [],
  );
  const windows = useMemo(
    () => ({
      tasks: createRateWindow(MINUTE_MS),
      failures: createRateWindow(MINUTE_MS),
      restarts: createRateWindow(MINUTE_MS),
      // Sum of completed tasks' durations: with `completed` it gives the mean over the window.
      durationMs: createRateWindow(MINUTE_MS),
      completed: createRateWindow(MINUTE_MS),
    }),
    [],
  );
  const [now, setNow] = useState(Date.now());
  const [escalations, setEscalations] = useState<Escalation[]>([]);
  const [statusOf, setStatusOf] = useState<Record<string, string>>({});

  useEffect(() => {
    if (past.data === undefined) return;
    const sorted = [...past.data].sort((a, b) => b.time.localeCompare(a.time)).slice(0, MAX_ESCALATIONS);
    setEscalations(sorted.map(toEscalation));
  }, [past.data]);
  useEffect(() => {
    if (agents.data === undefined) return;
    setStatusOf(Object.fromEntries(agents.data.agents.map((a: AgentRecord) => [a.name, a.status])));
  }, [agents.data]);
  // Rates fall as time passes without events, so they are recomputed each second, not only on events.
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);

  useLive({ types: ['task.completed', 'task.failed', 'supervisor.*', 'agent.*'] }, (events) => {
    const fresh: Escalation[] = [];
    const changes: [string, string | undefined][] = [];
    for (const e of events) {
      const at = Date.parse(e.time);
      if (e.type === 'task.completed') {
        windows.tasks.record(at);
        const ms = (e.payload as { duration_ms?: unknown }).duration_ms;
        if (typeof ms === 'number') {
          windows.durationMs.record(at, ms);
          windows.completed.record(at);
        }
      }
      else if (e.type === 'task.failed') {
        windows.tasks.record(at);
        windows.failures.record(at);
      } else if (e.type === 'supervisor.restart') windows.restarts.record(at);
      else if (ESCALATION_TYPES.includes(e.type)) fresh.push(toEscalation(e));
      else if (e.agent !== undefined && e.type === 'agent.status') changes.push([e.agent, String((e.payload as { status?: unknown }).status)]);
      else if (e.agent !== undefined && e.type === 'agent.created') changes.push([e.agent, 'idle']);
      else if (e.agent !== undefined && e.type === 'agent.deleted') changes.push([e.agent, undefined]);
    }
    if (fresh.length > 0) setEscalations((list) => prependBounded(list, fresh, MAX_ESCALATIONS));
    if (changes.length > 0) {
      setStatusOf((current) => {
        const next = { ...current };
        for (const [agent, status] of changes) {
          if (status === undefined) delete next[agent];
          else next[agent] = status;
        }
        return next;
      });
    }
    setNow(Date.now());
  });

  const byStatus = new Map<string, number>();
  for (const s of Object.values(statusOf)) byStatus.set(s, (byStatus.get(s) ?? 0) + 1);
  const checks = ready.data?.checks as Record<string, boolean | null> | undefined;

  return (
    <section aria-labelledby="overview-title">
      <h1 id="overview-title">Overview</h1>
      <div class="cards">
        <div class="card" aria-labelledby="ready-title">
          <h2 id="ready-title">Readiness</h2>
          {ready.error !== undefined && <p class="error">{ready.error}</p>}
          {checks !== undefined && (
            <ul class="checks" data-testid="readiness">
              {Object.entries(checks).map(([name, ok]) => (
                <li key={name} class={ok === true ? 'ok' : ok === false ? 'bad' : 'unknown'}>
                  <span class="dot" aria-hidden="true" />
                  {name}: {ok === true ? 'up' : ok === false ? 'down' : 'unknown'}
                </li>
              ))}
            </ul>
          )}
          {ready.data?.detail !== undefined && <p class="muted">{ready.data.detail}</p>}
        </div>
        <div class="card">
          <h2>Agents by status</h2>
          {agents.forbidden ? (
            <p class="muted">Needs agents:read.</p>
          ) : (
            <ul class="checks">
              {[...byStatus.entries()].map(([status, n]) => (
                <li key={status} class={`status-${status}`}>
                  <span class="dot" aria-hidden="true" />
                  {status}: {n}
                </li>
              ))}
              {byStatus.size === 0 && <li class="muted">No agents yet.</li>}
            </ul>
          )}
        </div>
        <div class="card">
          <h2>Rates (last minute)</h2>
          <dl class="rates">
            <dt>Tasks/s</dt>
            <dd data-testid="rate-tasks">{windows.tasks.rate(now, 1000).toFixed(2)}</dd>
            <dt>Failures/s</dt>
            <dd data-testid="rate-failures">{windows.failures.rate(now, 1000).toFixed(2)}</dd>
            <dt>Restarts/min</dt>
            <dd data-testid="rate-restarts">{windows.restarts.rate(now, MINUTE_MS).toFixed(0)}</dd>
            <dt>Task latency</dt>
            <dd data-testid="task-latency">{meanLatency(windows.durationMs.count(now), windows.completed.count(now))}</dd>
          </dl>
          <p class="muted">Counted from the live stream since this page opened; latency is the mean duration of completed tasks (mostly the LLM's time for llm agents).</p>
        </div>
      </div>
      <h2>Recent escalations</h2>
      {!mayReadEvents ? (
        <p class="muted">Needs events:read.</p>
      ) : escalations.length === 0 ? (
        <p class="muted">None.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Event</th>
              <th scope="col">Agent</th>
              <th scope="col">Reason</th>
            </tr>
          </thead>
          <tbody>
            {escalations.map((e, i) => (
              <tr key={`${e.time}-${i}`}>
                <td>{new Date(e.time).toLocaleTimeString()}</td>
                <td>{e.type}</td>
                <td>{e.agent ?? '—'}</td>
                <td>{e.reason}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
