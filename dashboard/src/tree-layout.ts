// The supervision tree laid out by d3-hierarchy (a tidy tree, root on the left): supervisors
// nest their children, and a nested supervisor (`agents`) appears once, as its parent's child.
// A supervisor with very many children shows the first MAX_CHILDREN and a "+N more" leaf, so the
// SVG stays bounded however many agents there are.
import { hierarchy, tree as tidyTree, type HierarchyPointNode } from 'd3-hierarchy';
import type { SupervisionChild, SupervisionTree } from '../../runtime/protocol/index.js';

export const MAX_CHILDREN = 200;
const ROW_PX = 28;
const COLUMN_PX = 210;

export interface TreeDatum {
  /** Unique in the tree: supervisor/child. */
  key: string;
  /** The supervisor that owns this child; null for the root. */
  supervisor: string | null;
  child: SupervisionChild | null;
  label: string;
  /** Set on the "+N more" leaf. */
  more?: number;
  children?: TreeDatum[];
}

export interface Layout {
  nodes: HierarchyPointNode<TreeDatum>[];
  links: { source: HierarchyPointNode<TreeDatum>; target: HierarchyPointNode<TreeDatum> }[];
  width: number;
  height: number;
}

export function toDatum(snapshot: SupervisionTree): TreeDatum | undefined {
  const byId = new Map(snapshot.supervisors.map((s) => [s.id, s]));
  const root = snapshot.supervisors.find((s) => s.parent === null);
  if (root === undefined) return undefined;
  const childrenOf = (supervisorId: string): TreeDatum[] => {
    const node = byId.get(supervisorId)!;
    const shown = node.children.slice(0, MAX_CHILDREN).map((c): TreeDatum => {
      const nested = byId.get(c.id);
      return {
        key: `${supervisorId}/${c.id}`,
        supervisor: supervisorId,
        child: c,
        label: c.id,
        ...(nested !== undefined && nested.parent === supervisorId && { children: childrenOf(c.id) }),
      };
    });
    const hidden = node.children.length - shown.length;
    if (hidden > 0) shown.push({ key: `${supervisorId}/+more`, supervisor: supervisorId, child: null, label: `+${hidden} more`, more: hidden });
    return shown;
  };
  return { key: root.id, supervisor: null, child: null, label: root.id, children: childrenOf(root.id) };
}

export function layout(datum: TreeDatum): Layout {
  const h = hierarchy(datum);
  const laid = tidyTree<TreeDatum>().nodeSize([ROW_PX, COLUMN_PX])(h);
  let minX = Infinity;
  let maxX = -Infinity;
  let maxY = 0;
  for (const n of laid.descendants()) {
    minX = Math.min(minX, n.x);
    maxX = Math.max(maxX, n.x);
    maxY = Math.max(maxY, n.y);
  }
  // Shift so the topmost row sits at the top margin.
  for (const n of laid.descendants()) n.x -= minX - ROW_PX;
  return { nodes: laid.descendants(), links: laid.links(), width: maxY + COLUMN_PX + 40, height: maxX - minX + ROW_PX * 2 };
}
