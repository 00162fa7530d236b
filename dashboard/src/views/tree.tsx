// The live supervision tree: a snapshot from GET /api/v1/supervision, kept current by the
// stream's supervisor.* events. A crash or a restart makes its node pulse (the node is keyed by
// its restart count and crash time, so each event mounts it afresh and the CSS animation plays).
// Selecting an agent shows its last crash and offers a restart, with confirmation.
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { SupervisionChild, SupervisionTree } from '../../../runtime/protocol/index.js';
import { api, describeError } from '../api.js';
import { Confirm } from '../components/confirm.js';
import { Forbidden } from '../components/forbidden.js';
import { useLive } from '../live.js';
import { allows } from '../session.js';
import { applyEvents, changesShape } from '../tree-deltas.js';
import { layout, toDatum, type TreeDatum } from '../tree-layout.js';
import { useSnapshot } from '../use-snapshot.js';

export function Tree() {
  const snapshot = useSnapshot((c) => c.supervision());
  const [tree, setTree] = useState<SupervisionTree | undefined>(undefined);
  const [selected, setSelected] = useState<string | undefined>(undefined);
  const [confirming, setConfirming] = useState(false);
  const [notice, setNotice] = useState<string | undefined>(undefined);

  useEffect(() => setTree(snapshot.data), [snapshot.data]);
  useLive({ types: ['supervisor.*', 'agent.created', 'agent.deleted'] }, (events) => {
    // Functional update: two frames may arrive before the next render.
    setTree((t) => (t === undefined ? t : applyEvents(t, events).tree));
    if (events.some(changesShape)) snapshot.reload();
  });

  const laid = useMemo(() => {
    const datum = tree === undefined ? undefined : toDatum(tree);
    return datum === undefined ? undefined : layout(datum);
  }, [tree]);

  if (snapshot.forbidden) return <Forbidden scope="agents:read" what="The supervision tree" />;
  const chosen = laid?.nodes.find((n) => n.data.key === selected)?.data;

  const restart = async (name: string) => {
    setConfirming(false);
    try {
      await api((c) => c.agents.restart(name));
      setNotice(`Restart of ${name} requested.`);
    } catch (err) {
      setNotice(describeError(err));
    }
  };

  return (
    <section aria-labelledby="tree-title" class="tree-view">
      <h1 id="tree-title">Supervision tree</h1>
      {snapshot.error !== undefined && <p class="error">{snapshot.error}</p>}
      <div class="tree-layout">
        <div class="tree-canvas">
          {laid !== undefined && (
            <svg width={laid.width} height={laid.height} role="tree" aria-label="Supervision tree" data-testid="supervision-tree">
              {laid.links.map((l) => (
                <path
                  key={`${l.source.data.key}>${l.target.data.key}`}
                  class="link"
                  d={`M${l.source.y + 20},${l.source.x}C${(l.source.y + l.target.y) / 2 + 20},${l.source.x} ${(l.source.y + l.target.y) / 2 + 20},${l.target.x} ${l.target.y + 20},${l.target.x}`}
                />
              ))}
              {laid.nodes.map((n) => (
                <Node key={nodeKey(n.data)} datum={n.data} x={n.y + 20} y={n.x} selected={n.data.key === selected} onSelect={setSelected} />
              ))}
            </svg>
          )}
        </div>
        <aside class="tree-detail" aria-live="polite">
          {chosen?.child != null ? (
            <ChildDetail child={chosen.child} supervisor={chosen.supervisor} onRestart={() => setConfirming(true)} />
          ) : (
            <p class="muted">Select a node (click, or Tab then Enter) to see its last crash and act on it.</p>
          )}
          {notice !== undefined && <p role="status">{notice}</p>}
        </aside>
      </div>
      {confirming && chosen?.child != null && (
        <Confirm
          title={`Restart ${chosen.child.id}?`}
          body="Its actor is stopped and started again with a fresh restart budget; tasks it holds are failed."
          action="Restart"
          onConfirm={() => void restart(chosen.child!.id)}
          onCancel={() => setConfirming(false)}
        />
      )}
    </section>
  );
}

const nodeKey = (d: TreeDatum) => `${d.key}#${d.child?.restarts ?? 0}#${d.child?.last_crash_at ?? ''}`;

function Node(props: { datum: TreeDatum; x: number; y: number; selected: boolean; onSelect(key: string): void }) {
  const { datum, x, y } = props;
  const c = datum.child;
  const status = c?.status ?? 'running';
  // The pulse plays once on mount: a node keyed by its restarts/crash is new after each event.
  const pulse = c !== null && (c.restarts > 0 || c.last_crash_at !== null) ? (status === 'running' ? 'pulse-restart' : 'pulse-crash') : '';
  const label = c === null ? datum.label : `${datum.label} · ${c.restarts}↻`;
  const select = () => props.onSelect(datum.key);
  return (
    <g
      class={`node status-${status} ${props.selected ? 'selected' : ''}`}
      transform={`translate(${x},${y})`}
      // Lower case: on SVG elements the attribute is case-sensitive, and `tabIndex` makes nothing focusable.
      {...{ tabindex: datum.more === undefined ? 0 : -1 }}
      role="treeitem"
      aria-selected={props.selected}
      aria-label={c === null ? datum.label : `${datum.label}, ${c.kind}, ${status}, ${c.restarts} restarts`}
      data-child={c?.id}
      data-status={status}
      data-restarts={c?.restarts}
      onClick={select}
      onKeyDown={(e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          select();
        }
      }}
    >
      <circle r="7" class={pulse} />
      <text x="12" dy="0.32em">
        {label}
      </text>
      {c?.last_crash_error != null && <title>{`Last crash: ${c.last_crash_error}`}</title>}
    </g>
  );
}

function ChildDetail({ child, supervisor, onRestart }: { child: SupervisionChild; supervisor: string | null; onRestart(): void }) {
  const isAgent = supervisor === 'agents';
  return (
    <div>
      <h2>{child.id}</h2>
      <dl class="facts">
        <dt>Kind</dt>
        <dd>{child.kind}</dd>
        <dt>Status</dt>
        <dd class={`status-${child.status}`}>{child.status}</dd>
        <dt>Restarts</dt>
        <dd data-testid="detail-restarts">{child.restarts}</dd>
        <dt>Restart type</dt>
        <dd>{child.restart}</dd>
        <dt>Last crash</dt>
        <dd>
          {child.last_crash_at === null
            ? 'never'
            : `${new Date(child.last_crash_at).toLocaleTimeString()} (${child.last_crash_reason ?? ''}) ${child.last_crash_error ?? ''}`}
        </dd>
      </dl>
      {isAgent &&
        (allows('admin') ? (
          <button type="button" onClick={onRestart} data-testid="restart-button">
            Restart {child.id}…
          </button>
        ) : (
          <p class="muted">Restarting needs the admin scope.</p>
        ))}
    </div>
  );
}
