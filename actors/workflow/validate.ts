// What a workflow definition must satisfy beyond its JSON Schema, checked when it is written so that
// a run never starts on a graph that cannot work: unique node ids, templates and paths that parse,
// references only to steps that have surely finished, limits on size and nesting, agents that exist
// and output schemas that compile. Every failure is invalid_request naming the node and the problem.
//
// Which `steps.<id>` a node may read follows what the interpreter puts in its scope (interpreter.ts):
// a node reads the outputs of nodes that have finished, on every path, before it starts. Those are
//   - earlier steps of an enclosing sequence, and what those steps exported (see `exports`);
//   - after a parallel that joins `all` with `fail_fast`: each of its branches (all succeeded);
//     with `any`, `quorum:N` or `settle` some branches may have no output, so none is readable;
//   - after a loop: its body's last output (a loop runs its body at least once).
// Not readable: a later step or the node itself (a cycle), an enclosing node (it has not finished),
// a sibling branch of a parallel or another item of a map (they run at the same time), a route of a
// router (which routes ran is decided at run time), and, inside a loop's body, the body's own output
// of the previous iteration: the first iteration has none, and the template language has no
// defaults, so such a template would fail every run. The nodes inside a branch, a map item, a route
// or a loop iteration are private to it.
import { AuroraError } from '../../runtime/errors.js';
import { WORKFLOW_LIMITS, type WorkflowNode } from '../../runtime/protocol/index.js';
import { compileUserSchema } from '../../runtime/validation.js';
import { formatPath, parsePath, parseTemplate, type PathSegment } from './template.js';

/** The route a router answers to end; the interpreter reserves it, so no route may take the name. */
export const ROUTER_FINISH = 'finish';

export interface WorkflowCheck {
  name: string;
  input_schema: Record<string, unknown> | null;
  graph: WorkflowNode;
}

export interface ValidateOptions {
  /** Whether an agent of this name exists now (agent and router nodes must name one). */
  agentExists(name: string): boolean;
  /** The agent that runs this workflow: a node naming it would run the workflow inside itself. */
  selfAgent?: string;
  /**
   * The current graph of the workflow an agent runs, if it is a workflow's agent: a node may run
   * another workflow, and a chain of them must not lead back to this one.
   */
  workflowOf?(agent: string): WorkflowNode | undefined;
  /** Default WORKFLOW_LIMITS; tests pass small ones. */
  limits?: { maxNodes: number; maxDepth: number; maxConcurrency: number };
}

interface Placed {
  node: WorkflowNode;
  /** Where it is in the request: graph.steps[1].branches[0]. */
  where: string;
  /** Position in document order: a node placed later never finished before an earlier one. */
  order: number;
  /** Ids of the nodes enclosing it. */
  ancestors: ReadonlySet<string>;
}

/** What a node's templates may read besides `input`. */
interface Scope {
  steps: ReadonlySet<string>;
  item: boolean;
  iteration: boolean;
  output: boolean;
}

const fail = (message: string): never => {
  throw new AuroraError('invalid_request', message);
};

export function validateWorkflow(definition: WorkflowCheck, options: ValidateOptions): void {
  const limits = options.limits ?? WORKFLOW_LIMITS;
  const placed = place(definition.graph, limits);
  const label = (p: Placed) => `${p.where} (${p.node.id})`;

  /** Checks one path read by `p` (a template placeholder, map items, loop until). */
  const checkPath = (p: Placed, field: string, path: readonly PathSegment[], scope: Scope): void => {
    const at = `${label(p)}: ${field}`;
    const text = formatPath(path);
    const root = path[0];
    if ((root === 'item' || root === 'index') && !scope.item) fail(`${at}: ${text} is only defined inside a map node`);
    if (root === 'iteration' && !scope.iteration) fail(`${at}: ${text} is only defined inside a loop's node`);
    if (root === 'output' && !scope.output) fail(`${at}: ${text} is only defined in a loop's until`);
    if (root !== 'steps') return;
    const id = path[1];
    if (typeof id !== 'string') return fail(`${at}: ${text} must name a node: steps.<id>.output`);
    if (path.length > 2 && path[2] !== 'output') fail(`${at}: ${text}: a step has only .output`);
    if (scope.steps.has(id)) return;
    const target = placed.get(id);
    if (target === undefined) return fail(`${at}: ${text} names no node of this workflow`);
    if (id === p.node.id) return fail(`${at}: ${text} is ${id}'s own output (a cycle)`);
    if (p.ancestors.has(id)) return fail(`${at}: ${text} reads ${id}, which encloses ${p.node.id} and has not finished when it runs (a cycle)`);
    if (target.ancestors.has(p.node.id)) return fail(`${at}: ${text} reads ${id}, which runs inside ${p.node.id}, after this is read (a cycle)`);
    if (target.order > p.order) return fail(`${at}: ${text} reads ${id}, which runs after ${p.node.id} (a cycle)`);
    fail(
      `${at}: ${text} reads ${id}, which is not sure to have finished when ${p.node.id} runs ` +
        '(a sibling parallel branch, another map item, a router route, a loop body\'s previous iteration, or a node inside one of them)',
    );
  };

  const checkTemplate = (p: Placed, field: string, text: string, scope: Scope): void => {
    for (const part of parseTemplate(text, `${label(p)}: ${field}`)) if (typeof part !== 'string') checkPath(p, field, part.path, scope);
  };

  const checkAgent = (p: Placed, agent: string): void => {
    if (agent === options.selfAgent) fail(`${label(p)}: agent ${agent} runs this workflow itself (a cycle)`);
    if (!options.agentExists(agent)) fail(`${label(p)}: agent ${agent} not found`);
    const chain = leadsBack(agent, new Set());
    if (chain !== undefined) fail(`${label(p)}: agent ${agent} leads back to this workflow (a cycle: ${[...chain, options.selfAgent].join(' → ')})`);
  };

  /** The chain of workflow agents from `agent` back to this workflow's own agent, if there is one. */
  const leadsBack = (agent: string, seen: Set<string>): string[] | undefined => {
    const graph = options.workflowOf?.(agent);
    if (graph === undefined || seen.has(agent)) return undefined;
    seen.add(agent);
    for (const next of agentsOf(graph)) {
      if (next === options.selfAgent) return [agent];
      const rest = leadsBack(next, seen);
      if (rest !== undefined) return [agent, ...rest];
    }
    return undefined;
  };

  /** Checks `node` and returns the ids it adds to the scope it runs in. */
  const walk = (node: WorkflowNode, scope: Scope): ReadonlySet<string> => {
    const p = placed.get(node.id)!;
    switch (node.type) {
      case 'agent':
        checkTemplate(p, 'input', node.input, scope);
        if (node.thread !== undefined) checkTemplate(p, 'thread', node.thread, scope);
        if (node.output_schema !== undefined) {
          const compiled = compileUserSchema(node.output_schema);
          if (typeof compiled === 'string') fail(`${label(p)}: output_schema is not a valid JSON Schema: ${compiled}`);
        }
        checkAgent(p, node.agent);
        return new Set();
      case 'sequence': {
        const added = new Set<string>();
        for (const step of node.steps) {
          for (const id of walk(step, { ...scope, steps: new Set([...scope.steps, ...added]) })) added.add(id);
          added.add(step.id);
        }
        return added;
      }
      case 'parallel': {
        const join = node.join ?? 'all';
        const quorum = join.startsWith('quorum:') ? Number(join.slice('quorum:'.length)) : 0;
        if (quorum > node.branches.length) fail(`${label(p)}: join ${join} needs more branches than the ${node.branches.length} it has`);
        checkConcurrency(p, node.max_concurrency, limits.maxConcurrency, label);
        for (const branch of node.branches) walk(branch, scope);
        const everyBranch = join === 'all' && node.on_error !== 'settle';
        return new Set(everyBranch ? node.branches.map((b) => b.id) : []);
      }
      case 'map': {
        const path = parsePath(node.items);
        if (path === undefined || !['input', 'steps', 'item'].includes(path[0] as string)) {
          fail(`${label(p)}: items "${node.items}" is not a path to a list (input.x, steps.<id>.output…, or item… in a map)`);
        }
        checkPath(p, 'items', path!, scope);
        checkConcurrency(p, node.max_concurrency, limits.maxConcurrency, label);
        walk(node.node, { ...scope, item: true });
        return new Set();
      }
      case 'router':
        checkTemplate(p, 'input', node.input, scope);
        checkAgent(p, node.agent);
        if (Object.hasOwn(node.routes, ROUTER_FINISH)) fail(`${label(p)}: a route may not be named "${ROUTER_FINISH}" (it is how the router ends)`);
        for (const route of Object.values(node.routes)) walk(route, scope);
        return new Set();
      case 'loop': {
        walk(node.node, { ...scope, iteration: true });
        if (node.until !== undefined) {
          const path = parseConditionPath(node.until.path);
          if (path === undefined) fail(`${label(p)}: until.path "${node.until.path}" is not a path (output…, input…, steps.<id>.output…)`);
          checkPath(p, 'until.path', path!, { ...scope, steps: new Set([...scope.steps, node.node.id]), output: true });
        }
        return new Set([node.node.id]);
      }
    }
  };

  walk(definition.graph, { steps: new Set(), item: false, iteration: false, output: false });
  if (definition.input_schema !== null) {
    const compiled = compileUserSchema(definition.input_schema);
    if (typeof compiled === 'string') fail(`input_schema is not a valid JSON Schema: ${compiled}`);
  }
}

function checkConcurrency(p: Placed, value: number | undefined, max: number, label: (p: Placed) => string): void {
  if (value !== undefined && (value < 1 || value > max)) fail(`${label(p)}: max_concurrency ${value} is outside 1..${max}`);
}

/** A loop condition's path: `output…` (the body's last output) or any template path. */
function parseConditionPath(text: string): PathSegment[] | undefined {
  if (text !== 'output' && !text.startsWith('output.') && !text.startsWith('output[')) return parsePath(text);
  const rest = parsePath(`input${text.slice('output'.length)}`);
  return rest === undefined ? undefined : ['output', ...rest.slice(1)];
}

/** Every node by id, with where it is; refuses duplicate ids, too many nodes and too deep nesting. */
function place(graph: WorkflowNode, limits: NonNullable<ValidateOptions['limits']>): Map<string, Placed> {
  const placed = new Map<string, Placed>();
  const visit = (node: WorkflowNode, where: string, depth: number, ancestors: ReadonlySet<string>): void => {
    const seen = placed.get(node.id);
    if (seen !== undefined) fail(`${where}: node id ${node.id} is already used by ${seen.where}; ids are unique in a workflow`);
    if (placed.size + 1 > limits.maxNodes) fail(`${where}: the workflow has more than ${limits.maxNodes} nodes`);
    if (depth > limits.maxDepth) fail(`${where} (${node.id}): nodes nest deeper than ${limits.maxDepth} levels`);
    placed.set(node.id, { node, where, order: placed.size, ancestors });
    const inner = new Set([...ancestors, node.id]);
    for (const [field, child] of children(node)) visit(child, `${where}.${field}`, depth + 1, inner);
  };
  visit(graph, 'graph', 1, new Set());
  return placed;
}

/** The agents a graph's agent and router nodes name. */
function agentsOf(node: WorkflowNode): string[] {
  const own = node.type === 'agent' || node.type === 'router' ? [node.agent] : [];
  return [...own, ...children(node).flatMap(([, child]) => agentsOf(child))];
}

function children(node: WorkflowNode): [string, WorkflowNode][] {
  switch (node.type) {
    case 'agent':
      return [];
    case 'sequence':
      return node.steps.map((s, i) => [`steps[${i}]`, s]);
    case 'parallel':
      return node.branches.map((b, i) => [`branches[${i}]`, b]);
    case 'map':
    case 'loop':
      return [['node', node.node]];
    case 'router':
      return Object.entries(node.routes).map(([name, route]) => [`routes.${name}`, route]);
  }
}
