// The supervision tree kept current from the stream: each supervisor.* event changes one child
// of the last snapshot. Events no newer than the snapshot are already in it and are skipped;
// agents created or deleted change the shape, which the caller refetches (changesShape).
import type { StreamEvent } from '../../client/index.js';
import type { SupervisionChild, SupervisionTree } from '../../runtime/protocol/index.js';

export type DeltaResult = { tree: SupervisionTree; changed: boolean };

/** Events after which the tree's shape is best fetched again rather than patched. */
export function changesShape(e: StreamEvent): boolean {
  return e.type === 'agent.created' || e.type === 'agent.deleted' || e.type === 'supervisor.escalation';
}

interface SupervisorPayload {
  supervisor?: unknown;
  child?: unknown;
  reason?: unknown;
  error?: unknown;
}

function patchChild(tree: SupervisionTree, supervisor: string, child: string, patch: (c: SupervisionChild) => SupervisionChild): SupervisionTree | undefined {
  const s = tree.supervisors.findIndex((n) => n.id === supervisor);
  if (s < 0) return undefined;
  const node = tree.supervisors[s]!;
  const c = node.children.findIndex((x) => x.id === child);
  if (c < 0) return undefined;
  const children = node.children.slice();
  children[c] = patch(children[c]!);
  const supervisors = tree.supervisors.slice();
  supervisors[s] = { ...node, children };
  return { ...tree, supervisors };
}

/** Applies `events` (in order) to `tree`. */
export function applyEvents(tree: SupervisionTree, events: readonly StreamEvent[]): DeltaResult {
  let current = tree;
  let changed = false;
  for (const e of events) {
    if (e.time <= tree.time || !e.type.startsWith('supervisor.')) continue;
    const p = e.payload as SupervisorPayload;
    if (typeof p.supervisor !== 'string' || typeof p.child !== 'string') continue;
    let next: SupervisionTree | undefined;
    switch (e.type) {
      case 'supervisor.crash':
        next = patchChild(current, p.supervisor, p.child, (c) => ({
          ...c,
          status: 'restarting',
          last_crash_reason: typeof p.reason === 'string' ? p.reason : 'crash',
          last_crash_error: typeof p.error === 'string' ? p.error : null,
          last_crash_at: e.time,
        }));
        break;
      case 'supervisor.restart':
        next = patchChild(current, p.supervisor, p.child, (c) => ({ ...c, status: 'running', restarts: c.restarts + 1 }));
        break;
      case 'supervisor.failed':
        next = patchChild(current, p.supervisor, p.child, (c) => ({ ...c, status: 'failed' }));
        break;
      default:
        // An escalation stops a whole supervisor: changesShape says to read it afresh.
        break;
    }
    if (next !== undefined) {
      current = next;
      changed = true;
    }
  }
  return { tree: current, changed };
}
