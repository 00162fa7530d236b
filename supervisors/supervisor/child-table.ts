// The supervisor's children in start order: each one's spec, status, generation and restart
// bookkeeping, and the aurora_supervisor_children gauge that mirrors their statuses.
import { AuroraError } from '../../runtime/errors.js';
import { assertValidChildSpec, type ChildHandle, type ChildInfo, type ChildSpec, type ChildStatus } from './child-spec.js';
import type { RestartReason, SupervisorMetrics } from './events.js';

export interface ChildEntry {
  readonly spec: ChildSpec;
  status: ChildStatus;
  handle: ChildHandle | undefined;
  /** Bumped whenever an incarnation ends or a restart claims the child; stale reports carry an older one. */
  gen: number;
  /** per_child budget only: this child's restart timestamps. */
  history: number[];
  /** When the exit that the pending restart answers happened; NaN when none is pending. */
  crashedAt: number;
  pendingReason: RestartReason | undefined;
  delayMs: number;
  attempt: number;
}

export interface ChildTable {
  /**
   * Child ids in start order (what decide() calls `children`). The live list, so a decision on the
   * restart path reads it without a copy; only the table changes it.
   */
  readonly order: readonly string[];
  find(id: string): ChildEntry | undefined;
  /** Like find, but an unknown id is an agent_not_found error. */
  get(id: string): ChildEntry;
  /** Validates the spec and appends the child as 'stopped'; a taken id is an agent_exists error. */
  add(spec: ChildSpec): ChildEntry;
  /** Forgets the child; reports and restarts still pending for it become stale. */
  remove(entry: ChildEntry): void;
  /** Also moves the children gauge, for a child still in the table. */
  setStatus(entry: ChildEntry, next: ChildStatus): void;
  /** The children in start order, as a copy. */
  entries(): ChildEntry[];
  infos(): ChildInfo[];
}

// Label objects made once: status changes are on the restart path.
const STATUS_LABELS: Readonly<Record<ChildStatus, { status: ChildStatus }>> = Object.freeze({
  running: Object.freeze({ status: 'running' as const }),
  restarting: Object.freeze({ status: 'restarting' as const }),
  stopped: Object.freeze({ status: 'stopped' as const }),
  failed: Object.freeze({ status: 'failed' as const }),
});

export function createChildTable(supervisorId: string, metrics: SupervisorMetrics | undefined): ChildTable {
  const byId = new Map<string, ChildEntry>();
  const order: string[] = [];

  return {
    order,
    find: (id) => byId.get(id),
    get(id) {
      const entry = byId.get(id);
      if (!entry) throw new AuroraError('agent_not_found', `supervisor ${supervisorId} has no child "${id}"`);
      return entry;
    },
    add(child) {
      assertValidChildSpec(child);
      if (byId.has(child.id)) {
        throw new AuroraError('agent_exists', `supervisor ${supervisorId} already has a child "${child.id}"`);
      }
      const entry: ChildEntry = {
        spec: child,
        status: 'stopped',
        handle: undefined,
        gen: 0,
        history: [],
        crashedAt: NaN,
        pendingReason: undefined,
        delayMs: 0,
        attempt: 0,
      };
      byId.set(child.id, entry);
      order.push(child.id);
      metrics?.supervisorChildren.inc(STATUS_LABELS.stopped);
      return entry;
    },
    remove(entry) {
      if (byId.get(entry.spec.id) !== entry) return;
      byId.delete(entry.spec.id);
      const index = order.indexOf(entry.spec.id);
      if (index >= 0) order.splice(index, 1);
      entry.gen++;
      metrics?.supervisorChildren.dec(STATUS_LABELS[entry.status]);
    },
    setStatus(entry, next) {
      const prev = entry.status;
      if (prev === next) return;
      entry.status = next;
      if (metrics && byId.get(entry.spec.id) === entry) {
        metrics.supervisorChildren.dec(STATUS_LABELS[prev]);
        metrics.supervisorChildren.inc(STATUS_LABELS[next]);
      }
    },
    entries: () => order.map((id) => byId.get(id)!),
    infos: () =>
      order.map((id) => {
        const { spec: s, status } = byId.get(id)!;
        return { id: s.id, kind: s.kind, restart: s.restart, status };
      }),
  };
}
