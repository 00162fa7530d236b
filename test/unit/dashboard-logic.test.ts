// The dashboard's pure logic: bounded lists, event rates, per-frame batching, token scopes, and
// the supervision tree's deltas and layout.
import { describe, expect, it } from 'vitest';
import type { StreamEvent } from '../../client/index.js';
import type { SupervisionChild, SupervisionTree } from '../../runtime/protocol/index.js';
import { appendBounded, prependBounded } from '../../dashboard/src/bounded.js';
import { createFrameBatch } from '../../dashboard/src/frame-batch.js';
import { grants, scopesOfToken } from '../../dashboard/src/jwt-scopes.js';
import { createRateWindow } from '../../dashboard/src/rates.js';
import { applyEvents, changesShape } from '../../dashboard/src/tree-deltas.js';
import { layout, MAX_CHILDREN, toDatum } from '../../dashboard/src/tree-layout.js';

describe('bounded lists', () => {
  it('keep the newest items up to the bound, however many arrive', () => {
    let list: number[] = [];
    for (let i = 0; i < 1000; i++) list = appendBounded(list, [i], 200);
    expect(list).toHaveLength(200);
    expect(list[0]).toBe(800);
    expect(list.at(-1)).toBe(999);
    expect(appendBounded([1, 2], Array.from({ length: 10 }, (_, i) => i), 3)).toEqual([7, 8, 9]);
    expect(appendBounded([1, 2], [3], 0)).toEqual([]);
  });

  it('prepend newest first and cut the oldest', () => {
    expect(prependBounded([3, 2, 1], [4, 5], 4)).toEqual([5, 4, 3, 2]);
  });
});

describe('rate window', () => {
  it('counts per second over the window and forgets what left it', () => {
    const w = createRateWindow(60_000);
    for (let i = 0; i < 120; i++) w.record(1_000_000 + i * 500); // 2 per second for a minute
    const end = 1_000_000 + 119 * 500;
    expect(w.rate(end, 1000)).toBeCloseTo(2, 1);
    expect(w.count(end)).toBe(120);
    expect(w.count(end + 30_000)).toBeLessThanOrEqual(62);
    expect(w.count(end + 61_000)).toBe(0);
  });

  it('gives restarts per minute', () => {
    const w = createRateWindow(60_000);
    w.record(5_000);
    w.record(20_000);
    w.record(50_000, 3);
    expect(w.rate(55_000, 60_000)).toBe(5);
    expect(w.rate(75_000, 60_000)).toBe(4);
  });

  it('ignores an occurrence older than the slot its ring position now holds', () => {
    const w = createRateWindow(60_000);
    w.record(200_000);
    w.record(200_000 - 60_000); // same ring slot, a window earlier
    expect(w.count(200_000)).toBe(1);
  });
});

describe('frame batch', () => {
  it('delivers everything pushed before a frame in one call, then waits for the next push', () => {
    const frames: (() => void)[] = [];
    const got: number[][] = [];
    const b = createFrameBatch<number>((items) => got.push(items), 100, (run) => frames.push(run));
    b.push(1);
    b.push(2);
    expect(frames).toHaveLength(1);
    frames.shift()!();
    expect(got).toEqual([[1, 2]]);
    b.push(3);
    frames.shift()!();
    expect(got).toEqual([[1, 2], [3]]);
  });

  it('keeps at most `max` waiting and says how many it dropped', () => {
    const frames: (() => void)[] = [];
    let seen: { items: number[]; dropped: number } | undefined;
    const b = createFrameBatch<number>((items, dropped) => (seen = { items, dropped }), 10, (run) => frames.push(run));
    for (let i = 0; i < 1000; i++) b.push(i);
    frames.shift()!();
    expect(seen!.items).toEqual([990, 991, 992, 993, 994, 995, 996, 997, 998, 999]);
    expect(seen!.dropped).toBe(990);
  });
});

describe('token scopes', () => {
  const jwt = (claims: Record<string, unknown>) =>
    `${btoa('{"alg":"HS256"}')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;

  it('reads scope, scp and scopes as the gateway does', () => {
    expect(scopesOfToken(jwt({ scope: 'agents:read events:read' }))).toEqual(['agents:read', 'events:read']);
    expect(scopesOfToken(jwt({ scp: ['admin'] }))).toEqual(['admin']);
    expect(scopesOfToken('not a token')).toEqual([]);
    expect(grants(['admin'], 'agents:write')).toBe(true);
    expect(grants(['agents:read'], 'agents:write')).toBe(false);
  });
});

const child = (id: string, over: Partial<SupervisionChild> = {}): SupervisionChild => ({
  id,
  kind: 'llm',
  status: 'running',
  restart: 'permanent',
  restarts: 0,
  last_crash_reason: null,
  last_crash_error: null,
  last_crash_at: null,
  ...over,
});

const snapshot = (agents: SupervisionChild[]): SupervisionTree => ({
  time: '2026-01-01T00:00:10.000Z',
  supervisors: [
    {
      id: 'root',
      parent: null,
      state: 'running',
      strategy: 'one_for_one',
      budget: { scope: 'shared', max_restarts: 5, period_ms: 60_000 },
      children: [child('registry', { kind: 'service' }), child('agents', { kind: 'supervisor' })],
    },
    {
      id: 'agents',
      parent: 'root',
      state: 'running',
      strategy: 'one_for_one',
      budget: { scope: 'per_child', max_restarts: 5, period_ms: 60_000 },
      children: agents,
    },
  ],
});

let seq = 0;
const event = (type: string, time: string, payload: Record<string, unknown> = {}): StreamEvent => ({ seq: ++seq, type, time, payload });

describe('supervision tree deltas', () => {
  it('marks the crash, then counts the restart', () => {
    const tree = snapshot([child('writer')]);
    const { tree: after, changed } = applyEvents(tree, [
      event('supervisor.crash', '2026-01-01T00:00:11.000Z', { supervisor: 'agents', child: 'writer', reason: 'crash', error: 'boom' }),
    ]);
    expect(changed).toBe(true);
    expect(after.supervisors[1]!.children[0]).toMatchObject({ status: 'restarting', last_crash_error: 'boom', last_crash_at: '2026-01-01T00:00:11.000Z' });
    const restarted = applyEvents(after, [event('supervisor.restart', '2026-01-01T00:00:11.500Z', { supervisor: 'agents', child: 'writer' })]).tree;
    expect(restarted.supervisors[1]!.children[0]).toMatchObject({ status: 'running', restarts: 1 });
    expect(tree.supervisors[1]!.children[0]!.restarts).toBe(0); // the snapshot itself is not changed
  });

  it('skips events the snapshot already holds, and says when the shape must be fetched again', () => {
    const tree = snapshot([child('writer', { restarts: 1 })]);
    const old = event('supervisor.restart', '2026-01-01T00:00:09.000Z', { supervisor: 'agents', child: 'writer' });
    expect(applyEvents(tree, [old]).changed).toBe(false);
    expect(changesShape(event('agent.created', '2026-01-01T00:00:11.000Z'))).toBe(true);
    expect(changesShape(event('supervisor.restart', '2026-01-01T00:00:11.000Z'))).toBe(false);
  });
});

describe('supervision tree layout', () => {
  it('nests the agents supervisor under root and bounds how many children it draws', () => {
    const many = Array.from({ length: MAX_CHILDREN + 50 }, (_, i) => child(`a${i}`));
    const datum = toDatum(snapshot(many))!;
    const agents = datum.children!.find((d) => d.label === 'agents')!;
    expect(agents.children).toHaveLength(MAX_CHILDREN + 1);
    expect(agents.children!.at(-1)).toMatchObject({ more: 50, label: '+50 more' });
    const laid = layout(datum);
    expect(laid.nodes).toHaveLength(1 + 2 + MAX_CHILDREN + 1);
    expect(Math.min(...laid.nodes.map((n) => n.x))).toBeGreaterThan(0);
    expect(laid.height).toBeGreaterThan(Math.max(...laid.nodes.map((n) => n.x)));
  });
});
