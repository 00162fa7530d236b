// Workflow definitions checked at write time, one rule at a time: each test has a definition that
// passes and its twin that breaks exactly that rule, so every rule is seen both ways.
import { describe, expect, it } from 'vitest';
import { validateWorkflow, type ValidateOptions } from '../../actors/workflow/validate.js';
import { AuroraError } from '../../runtime/errors.js';
import type { WorkflowNode } from '../../runtime/protocol/index.js';

const AGENTS = new Set(['writer', 'critic', 'boss']);
const options: ValidateOptions = { agentExists: (name) => AGENTS.has(name) };

const agent = (id: string, input = 'go', extra: Record<string, unknown> = {}): WorkflowNode => ({ type: 'agent', id, agent: 'writer', input, ...extra });
const seq = (id: string, ...steps: WorkflowNode[]): WorkflowNode => ({ type: 'sequence', id, steps });

function check(graph: WorkflowNode, more: Partial<ValidateOptions> = {}, input_schema: Record<string, unknown> | null = null): void {
  validateWorkflow({ name: 'wf', input_schema, graph }, { ...options, ...more });
}

/** The message of the invalid_request the graph is refused with. */
function refusal(graph: WorkflowNode, more: Partial<ValidateOptions> = {}, input_schema: Record<string, unknown> | null = null): string {
  try {
    check(graph, more, input_schema);
  } catch (err) {
    expect(err).toBeInstanceOf(AuroraError);
    expect((err as AuroraError).code).toBe('invalid_request');
    return (err as AuroraError).message;
  }
  throw new Error('the definition was accepted');
}

describe('node ids', () => {
  it('accepts distinct ids and refuses an id used twice, naming both places', () => {
    expect(() => check(seq('s', agent('a'), agent('b')))).not.toThrow();
    expect(refusal(seq('s', agent('a'), { type: 'parallel', id: 'p', branches: [agent('a')] }))).toBe(
      'graph.steps[1].branches[0]: node id a is already used by graph.steps[0]; ids are unique in a workflow',
    );
  });
});

describe('templates', () => {
  it('refuses a placeholder that is not a path, naming the node and the field', () => {
    expect(() => check(agent('a', 'Hello {{ input.name }}'))).not.toThrow();
    expect(refusal(agent('a', 'Hello {{ input.name | upper }}'))).toMatch(/^graph \(a\): input: "\{\{ input.name \| upper \}\}" is not a path/);
    expect(refusal(agent('a', 'Hello {{ input.name }'))).toMatch(/unbalanced/);
    expect(refusal(agent('a', 'go', { thread: '{{ process.env }}' }))).toMatch(/^graph \(a\): thread: /);
  });

  it('allows item and index only inside a map, iteration only inside a loop', () => {
    const inMap: WorkflowNode = { type: 'map', id: 'm', items: 'input.topics', node: agent('a', '{{ index }}: {{ item.title }}') };
    expect(() => check(inMap)).not.toThrow();
    expect(refusal(agent('a', '{{ item }}'))).toBe('graph (a): input: item is only defined inside a map node');
    expect(refusal(agent('a', '{{ index }}'))).toMatch(/index is only defined inside a map node/);
    expect(() => check({ type: 'loop', id: 'l', max_iterations: 3, node: agent('a', 'round {{ iteration }}') })).not.toThrow();
    expect(refusal(agent('a', 'round {{ iteration }}'))).toBe("graph (a): input: iteration is only defined inside a loop's node");
  });

  it('wants steps.<id> or steps.<id>.output…', () => {
    expect(() => check(seq('s', agent('a'), agent('b', '{{ steps.a }} {{ steps.a.output.title }}')))).not.toThrow();
    expect(refusal(seq('s', agent('a'), agent('b', '{{ steps.a.result }}')))).toMatch(/steps.a.result: a step has only .output/);
    expect(refusal(seq('s', agent('a'), agent('b', '{{ steps[0] }}')))).toMatch(/must name a node/);
  });
});

describe('references between steps', () => {
  it('lets a step read the earlier steps of its sequence, and of enclosing sequences', () => {
    const graph = seq('s', agent('a'), seq('inner', agent('b', '{{ steps.a.output }}'), agent('c', '{{ steps.b.output }}')), agent('d', '{{ steps.c.output }} {{ steps.inner.output }}'));
    expect(() => check(graph)).not.toThrow();
  });

  it('refuses a reference to an unknown id', () => {
    expect(refusal(seq('s', agent('a', '{{ steps.ghost.output }}')))).toBe('graph.steps[0] (a): input: steps.ghost.output names no node of this workflow');
  });

  it('refuses a reference to itself, naming it a cycle', () => {
    expect(refusal(seq('s', agent('a', '{{ steps.a.output }}')))).toBe("graph.steps[0] (a): input: steps.a.output is a's own output (a cycle)");
  });

  it('refuses a reference to a later step, naming both ids', () => {
    expect(refusal(seq('s', agent('a', '{{ steps.b.output }}'), agent('b')))).toBe(
      'graph.steps[0] (a): input: steps.b.output reads b, which runs after a (a cycle)',
    );
  });

  it('refuses a reference to an enclosing node', () => {
    expect(refusal(seq('s', agent('a'), seq('inner', agent('b', '{{ steps.inner.output }}'))))).toMatch(/reads inner, which encloses b/);
  });

  it('refuses a sibling branch of a parallel, even an earlier one', () => {
    const graph: WorkflowNode = { type: 'parallel', id: 'p', branches: [agent('a'), agent('b', '{{ steps.a.output }}')] };
    expect(refusal(graph)).toMatch(/^graph.branches\[1\] \(b\): input: steps.a.output reads a, which is not sure to have finished when b runs/);
  });

  it('lets later steps read the branches of a parallel that joins all with fail_fast, and not otherwise', () => {
    const after = (join: Record<string, unknown>) =>
      seq('s', { type: 'parallel', id: 'p', branches: [agent('a'), agent('b')], ...join } as WorkflowNode, agent('c', '{{ steps.a.output }} {{ steps.p.output }}'));
    expect(() => check(after({}))).not.toThrow();
    expect(() => check(after({ join: 'all', on_error: 'fail_fast' }))).not.toThrow();
    expect(refusal(after({ join: 'any' }))).toMatch(/reads a, which is not sure to have finished when c runs/);
    expect(refusal(after({ on_error: 'settle' }))).toMatch(/reads a, which is not sure/);
  });

  it('keeps the steps inside a branch, a map item or a route private to it', () => {
    const branchInner = seq('s', { type: 'parallel', id: 'p', branches: [seq('b1', agent('x'))] }, agent('c', '{{ steps.x.output }}'));
    expect(refusal(branchInner)).toMatch(/reads x, which is not sure/);
    const mapInner = seq('s', { type: 'map', id: 'm', items: 'input.list', node: agent('x', '{{ item }}') }, agent('c', '{{ steps.x.output }}'));
    expect(refusal(mapInner)).toMatch(/reads x, which is not sure/);
    expect(() => check(seq('s', { type: 'map', id: 'm', items: 'input.list', node: agent('x', '{{ item }}') }, agent('c', '{{ steps.m.output }}')))).not.toThrow();
  });

  it("lets the steps after a loop read its body's last output, and refuses the body reading its own previous round", () => {
    const loop = (body: WorkflowNode): WorkflowNode => ({ type: 'loop', id: 'l', max_iterations: 3, node: body });
    expect(() => check(seq('s', loop(agent('draft')), agent('c', '{{ steps.draft.output }}')))).not.toThrow();
    expect(refusal(loop(seq('round', agent('draft', '{{ steps.review.output }}'), agent('review'))))).toMatch(/reads review, which runs after draft/);
    expect(refusal(loop(agent('draft', '{{ steps.draft.output }}')))).toMatch(/draft's own output/);
  });

  it('refuses a router input or route that reads a route', () => {
    const routes = { write: agent('w'), critique: { type: 'agent', id: 'k', agent: 'critic', input: '{{ steps.w.output }}' } as WorkflowNode };
    const router = (input: string, r = routes): WorkflowNode => ({ type: 'router', id: 'r', agent: 'boss', input, routes: r });
    expect(() => check(router('{{ input.task }}', { write: agent('w'), critique: agent('k') }))).not.toThrow();
    expect(refusal(router('{{ input.task }}'))).toMatch(/^graph.routes.critique \(k\): input: steps.w.output reads w, which is not sure/);
    expect(refusal(router('{{ steps.w.output }}', { write: agent('w'), critique: agent('k') }))).toMatch(/reads w, which runs inside r/);
  });
});

describe('map items and loop conditions', () => {
  it('wants items to be a path to a list in the input, a step or an outer item', () => {
    const map = (items: string): WorkflowNode => ({ type: 'map', id: 'm', items, node: agent('a', '{{ item }}') });
    expect(() => check(map('input.topics'))).not.toThrow();
    expect(() => check(seq('s', agent('plan'), map('steps.plan.output.topics')))).not.toThrow();
    expect(() => check({ type: 'map', id: 'outer', items: 'input.groups', node: { type: 'map', id: 'm', items: 'item.members', node: agent('a', '{{ item }}') } })).not.toThrow();
    expect(refusal(map('topics'))).toBe('graph (m): items "topics" is not a path to a list (input.x, steps.<id>.output…, or item… in a map)');
    expect(refusal(map('{{ input.topics }}'))).toMatch(/is not a path to a list/);
    expect(refusal(map('index'))).toMatch(/is not a path to a list/);
    expect(refusal(map('item.members'))).toMatch(/item.members is only defined inside a map node/);
    expect(refusal(seq('s', map('steps.plan.output'), agent('plan')))).toMatch(/reads plan, which runs after m/);
  });

  it("wants a loop's until.path to parse, reading the output, the input or finished steps", () => {
    const loop = (path: string): WorkflowNode => ({ type: 'loop', id: 'l', max_iterations: 5, until: { path, equals: true }, node: agent('review') });
    for (const ok of ['output', 'output.approved', 'output[0].ok', 'input.stop', 'steps.review.output.approved']) expect(() => check(loop(ok))).not.toThrow();
    expect(refusal(loop('output..approved'))).toBe('graph (l): until.path "output..approved" is not a path (output…, input…, steps.<id>.output…)');
    expect(refusal(loop('approved'))).toMatch(/is not a path/);
    expect(refusal(loop('steps.later.output'))).toMatch(/names no node/);
    expect(refusal(agent('a', '{{ output }}'))).toMatch(/"{{ output }}" is not a path/);
  });
});

describe('limits', () => {
  it('refuses more nodes than maxNodes', () => {
    const limits = { maxNodes: 3, maxDepth: 12, maxConcurrency: 256 };
    expect(() => check(seq('s', agent('a'), agent('b')), { limits })).not.toThrow();
    expect(refusal(seq('s', agent('a'), agent('b'), agent('c')), { limits })).toBe('graph.steps[2]: the workflow has more than 3 nodes');
  });

  it('refuses nesting deeper than maxDepth', () => {
    const limits = { maxNodes: 200, maxDepth: 3, maxConcurrency: 256 };
    expect(() => check(seq('s1', seq('s2', agent('a'))), { limits })).not.toThrow();
    expect(refusal(seq('s1', seq('s2', seq('s3', agent('a')))), { limits })).toBe('graph.steps[0].steps[0].steps[0] (a): nodes nest deeper than 3 levels');
  });

  it('refuses a quorum larger than the branches', () => {
    const par = (join: string): WorkflowNode => ({ type: 'parallel', id: 'p', join, branches: [agent('a'), agent('b')] });
    expect(() => check(par('quorum:2'))).not.toThrow();
    expect(refusal(par('quorum:3'))).toBe('graph (p): join quorum:3 needs more branches than the 2 it has');
  });

  it('refuses max_concurrency beyond the limit on parallel and map', () => {
    const limits = { maxNodes: 200, maxDepth: 12, maxConcurrency: 4 };
    const par = (n: number): WorkflowNode => ({ type: 'parallel', id: 'p', max_concurrency: n, branches: [agent('a')] });
    const map = (n: number): WorkflowNode => ({ type: 'map', id: 'm', items: 'input.x', max_concurrency: n, node: agent('a') });
    expect(() => check(par(4), { limits })).not.toThrow();
    expect(() => check(map(4), { limits })).not.toThrow();
    expect(refusal(par(5), { limits })).toBe('graph (p): max_concurrency 5 is outside 1..4');
    expect(refusal(map(5), { limits })).toBe('graph (m): max_concurrency 5 is outside 1..4');
  });
});

describe('agents, routes and schemas', () => {
  it('refuses an agent or router naming an agent that does not exist', () => {
    expect(refusal(seq('s', agent('a'), { type: 'agent', id: 'b', agent: 'ghost', input: 'x' }))).toBe('graph.steps[1] (b): agent ghost not found');
    expect(refusal({ type: 'router', id: 'r', agent: 'nobody', input: 'x', routes: { a: agent('a') } })).toBe('graph (r): agent nobody not found');
  });

  it('refuses a node that runs the workflow itself, directly or through other workflows', () => {
    const runs = (agent: string): WorkflowNode => ({ type: 'agent', id: 'a', agent, input: 'x' });
    const more = { agentExists: () => true, selfAgent: 'wf.self' };
    expect(refusal(runs('wf.self'), more)).toBe('graph (a): agent wf.self runs this workflow itself (a cycle)');
    const graphs: Record<string, WorkflowNode> = {
      'wf.one': seq('s', agent('x'), { type: 'agent', id: 'y', agent: 'wf.two', input: 'x' }),
      'wf.two': { type: 'agent', id: 'z', agent: 'wf.self', input: 'x' },
      'wf.loner': agent('x'),
    };
    const workflowOf = (name: string) => graphs[name];
    expect(() => check(runs('wf.loner'), { ...more, workflowOf })).not.toThrow();
    expect(refusal(runs('wf.one'), { ...more, workflowOf })).toBe(
      'graph (a): agent wf.one leads back to this workflow (a cycle: wf.one → wf.two → wf.self)',
    );
  });

  it('refuses a route named finish, which is how a router ends', () => {
    expect(refusal({ type: 'router', id: 'r', agent: 'boss', input: 'x', routes: { finish: agent('a') } })).toMatch(/a route may not be named "finish"/);
  });

  it('refuses an output_schema or input_schema that does not compile', () => {
    const schema = { type: 'object', properties: { ok: { type: 'boolean' } } };
    expect(() => check(agent('a', 'x', { output_schema: schema }), {}, schema)).not.toThrow();
    expect(refusal(agent('a', 'x', { output_schema: { type: 'nonsense' } }))).toMatch(/^graph \(a\): output_schema is not a valid JSON Schema: /);
    expect(refusal(agent('a'), {}, { type: 'object', properties: { n: { minimum: 'zero' } } })).toMatch(/^input_schema is not a valid JSON Schema: /);
  });
});
