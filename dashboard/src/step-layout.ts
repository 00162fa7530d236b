// A workflow run as a graph: its steps' paths (["main", "draft"], ["fan", "map[2]", "one"]) spell
// a tree, laid out by d3-hierarchy with the root on the left. A path prefix no step recorded (a
// sequence or parallel that only structures) becomes a node whose status sums up its children's.
// Live `run.step` events move the steps' statuses between the run's REST snapshots.
import { hierarchy, tree as tidyTree, type HierarchyPointNode } from 'd3-hierarchy';
import type { StreamEvent } from '../../client/index.js';
import type { StepRecord } from '../../runtime/protocol/index.js';

/** Nodes drawn at most: a map over thousands of items shows its first ones, then a count. */
export const MAX_STEP_NODES = 300;
const ROW_PX = 34;
const COLUMN_PX = 180;

export interface StepDatum {
  /** The path joined by '/': unique in the run. */
  key: string;
  label: string;
  status: string;
  step: StepRecord | null;
  children?: StepDatum[];
}

export interface StepLayout {
  nodes: HierarchyPointNode<StepDatum>[];
  links: { source: HierarchyPointNode<StepDatum>; target: HierarchyPointNode<StepDatum> }[];
  width: number;
  height: number;
  /** Steps left out by MAX_STEP_NODES. */
  hidden: number;
}

export const pathKey = (path: readonly string[]): string => path.join('/');

/** Sums up children: any failed → failed, any running → running, all done → completed. */
export function summarise(statuses: readonly string[]): string {
  if (statuses.length === 0) return 'pending';
  if (statuses.includes('failed')) return 'failed';
  if (statuses.includes('running')) return 'running';
  if (statuses.includes('cancelled')) return 'cancelled';
  if (statuses.every((s) => s === 'completed' || s === 'skipped')) return 'completed';
  return statuses.includes('completed') ? 'running' : 'pending';
}

/** `steps` with the events' `run.step` changes of run `runId` applied (a step the snapshot lacked is added). */
export function applyStepEvents(steps: readonly StepRecord[], runId: string, events: readonly StreamEvent[]): StepRecord[] {
  const next = [...steps];
  const index = new Map(next.map((s, i) => [pathKey(s.path), i]));
  for (const e of events) {
    // Nested runs' steps arrive under the same runs= filter; they belong to their own run's graph.
    if (e.type !== 'run.step' || e.task_id !== runId) continue;
    const p = e.payload as { status?: unknown; path?: unknown; node_id?: unknown; agent?: unknown; step_task_id?: unknown; attempt?: unknown; error?: unknown; code?: unknown };
    if (!Array.isArray(p.path) || typeof p.status !== 'string') continue;
    const path = p.path.map(String);
    const key = pathKey(path);
    const at = index.get(key);
    const old: StepRecord =
      at !== undefined
        ? next[at]!
        : {
            path,
            node_id: typeof p.node_id === 'string' ? p.node_id : (path.at(-1) ?? ''),
            type: 'agent',
            status: 'pending',
            attempts: 0,
            error: null,
            error_code: null,
            task_id: null,
            agent: typeof p.agent === 'string' ? p.agent : null,
            tokens: 0,
            started_at: null,
            finished_at: null,
          };
    const running = p.status === 'running';
    const updated: StepRecord = {
      ...old,
      status: p.status as StepRecord['status'],
      attempts: typeof p.attempt === 'number' ? Math.max(old.attempts, p.attempt) : old.attempts,
      task_id: typeof p.step_task_id === 'string' ? p.step_task_id : old.task_id,
      started_at: running ? e.time : old.started_at,
      finished_at: running ? null : e.time,
      error: typeof p.error === 'string' ? p.error : running ? null : old.error,
      error_code: typeof p.code === 'string' ? p.code : running ? null : old.error_code,
    };
    if (at !== undefined) next[at] = updated;
    else {
      index.set(key, next.length);
      next.push(updated);
    }
  }
  return next;
}

/** The tree of the steps' paths under a root named after the workflow. */
export function toStepTree(workflow: string, steps: readonly StepRecord[]): { root: StepDatum; hidden: number } {
  const root: StepDatum = { key: '', label: workflow, status: 'pending', step: null, children: [] };
  const byKey = new Map<string, StepDatum>([['', root]]);
  let count = 0;
  let hidden = 0;
  for (const step of steps) {
    let parent = root;
    let placed = true;
    for (let depth = 1; depth <= step.path.length; depth++) {
      const key = pathKey(step.path.slice(0, depth));
      let node = byKey.get(key);
      if (node === undefined) {
        if (count >= MAX_STEP_NODES) {
          placed = false;
          break;
        }
        count++;
        node = { key, label: step.path[depth - 1]!, status: 'pending', step: null };
        byKey.set(key, node);
        (parent.children ??= []).push(node);
      }
      parent = node;
    }
    if (!placed) {
      hidden++;
      continue;
    }
    parent.step = step;
  }
  const settle = (node: StepDatum): string => {
    const own = node.step?.status;
    const below = (node.children ?? []).map(settle);
    node.status = own ?? summarise(below);
    return node.status;
  };
  settle(root);
  return { root, hidden };
}

export function layoutSteps(workflow: string, steps: readonly StepRecord[]): StepLayout {
  const { root, hidden } = toStepTree(workflow, steps);
  const laid = tidyTree<StepDatum>().nodeSize([ROW_PX, COLUMN_PX])(hierarchy(root));
  let minX = Infinity;
  let maxX = -Infinity;
  let maxY = 0;
  for (const n of laid.descendants()) {
    minX = Math.min(minX, n.x);
    maxX = Math.max(maxX, n.x);
    maxY = Math.max(maxY, n.y);
  }
  for (const n of laid.descendants()) n.x -= minX - ROW_PX;
  return { nodes: laid.descendants(), links: laid.links(), width: maxY + COLUMN_PX + 40, height: maxX - minX + ROW_PX * 2, hidden };
}
