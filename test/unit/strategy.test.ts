import { describe, expect, it } from 'vitest';
import {
  affected,
  assertValidPolicy,
  decide,
  RESTART_TYPES,
  STRATEGIES,
  type DecideInput,
  type ExitReason,
  type RestartType,
  type Strategy,
  type SupervisorPolicy,
} from '../../supervisors/strategy.js';

const policy = (over: Partial<SupervisorPolicy> = {}): SupervisorPolicy => ({
  strategy: 'one_for_one',
  maxRestarts: 3,
  periodMs: 1_000,
  backoffBaseMs: 0,
  backoffMaxMs: 0,
  ...over,
});

const children = ['a', 'b', 'c', 'd'];

const input = (over: Partial<DecideInput> = {}): DecideInput => ({
  child: { id: 'b', restart: 'permanent' },
  exit: 'crash',
  history: [],
  policy: policy(),
  now: 10_000,
  children,
  rng: () => 0.5,
  ...over,
});

describe('decide: restart type × exit', () => {
  const table: Array<[RestartType, ExitReason, 'ignore' | 'restart']> = [
    ['permanent', 'crash', 'restart'],
    ['permanent', 'normal', 'restart'],
    ['transient', 'crash', 'restart'],
    ['transient', 'normal', 'ignore'],
    ['temporary', 'crash', 'ignore'],
    ['temporary', 'normal', 'ignore'],
  ];
  it('covers every restart type and exit', () => {
    expect(new Set(table.map(([r, e]) => `${r}/${e}`)).size).toBe(RESTART_TYPES.length * 2);
  });
  it.each(table)('a %s child that exits %s → %s', (restart, exit, action) => {
    expect(decide(input({ child: { id: 'b', restart }, exit })).action).toBe(action);
  });
  it('a temporary child is ignored even when the budget is spent', () => {
    const d = decide(input({ child: { id: 'b', restart: 'temporary' }, history: [9_990, 9_991, 9_992, 9_993] }));
    expect(d).toEqual({ action: 'ignore' });
  });
  it('an ignored exit does not consume budget (no history returned)', () => {
    expect(decide(input({ child: { id: 'b', restart: 'transient' }, exit: 'normal' }))).toEqual({ action: 'ignore' });
  });
});

describe('decide: affected children per strategy', () => {
  const table: Array<[Strategy, string, string[]]> = [
    ['one_for_one', 'a', ['a']],
    ['one_for_one', 'c', ['c']],
    ['one_for_all', 'a', ['a', 'b', 'c', 'd']],
    ['one_for_all', 'c', ['a', 'b', 'c', 'd']],
    ['one_for_all', 'd', ['a', 'b', 'c', 'd']],
    ['rest_for_one', 'a', ['a', 'b', 'c', 'd']],
    ['rest_for_one', 'b', ['b', 'c', 'd']],
    ['rest_for_one', 'd', ['d']],
  ];
  it('covers every strategy', () => {
    expect(new Set(table.map(([s]) => s))).toEqual(new Set(STRATEGIES));
  });
  it.each(table)('%s when %s exits restarts %j in start order', (strategy, id, ids) => {
    const d = decide(input({ child: { id, restart: 'permanent' }, policy: policy({ strategy }) }));
    expect(d.action).toBe('restart');
    if (d.action === 'restart') expect(d.ids).toEqual(ids);
  });
  it('returns a fresh array, never the caller’s children list', () => {
    const ids = affected('one_for_all', 'a', children);
    expect(ids).toEqual(children);
    expect(ids).not.toBe(children);
  });
  it('a child missing from the list is a defect for one_for_all and rest_for_one', () => {
    expect(() => decide(input({ child: { id: 'zz', restart: 'permanent' }, policy: policy({ strategy: 'one_for_all' }) }))).toThrow(/zz/);
    expect(() => decide(input({ child: { id: 'zz', restart: 'permanent' }, policy: policy({ strategy: 'rest_for_one' }) }))).toThrow(/zz/);
  });
});

describe('decide: intensity window', () => {
  const now = 10_000;
  const periodMs = 1_000;
  const p = policy({ maxRestarts: 3, periodMs });

  it('allows exactly maxRestarts restarts within the period', () => {
    const d = decide(input({ policy: p, now, history: [9_100, 9_500] }));
    expect(d).toMatchObject({ action: 'restart', history: [9_100, 9_500, now] });
  });

  it('escalates on the restart that would exceed maxRestarts', () => {
    const d = decide(input({ policy: p, now, history: [9_100, 9_500, 9_900] }));
    expect(d.action).toBe('escalate');
    if (d.action === 'escalate') expect(d.reason).toMatch(/intensity/);
  });

  it('counts a restart just inside the window (now - periodMs + 1)', () => {
    const d = decide(input({ policy: p, now, history: [now - periodMs + 1, 9_500, 9_900] }));
    expect(d.action).toBe('escalate');
  });

  it('forgets a restart exactly periodMs ago (the window is (now - periodMs, now])', () => {
    const d = decide(input({ policy: p, now, history: [now - periodMs, 9_500, 9_900] }));
    expect(d).toMatchObject({ action: 'restart', history: [9_500, 9_900, now] });
  });

  it('forgets old restarts and prunes them from the returned history', () => {
    const d = decide(input({ policy: p, now, history: [1, 2, 3, 4, 5, 8_000, 9_999] }));
    expect(d).toMatchObject({ action: 'restart', history: [9_999, now] });
  });

  it('counts a restart at exactly now', () => {
    const d = decide(input({ policy: p, now, history: [now, now, now] }));
    expect(d.action).toBe('escalate');
  });

  it('does not mutate the given history', () => {
    const history = [9_100, 9_500];
    decide(input({ policy: p, now, history }));
    expect(history).toEqual([9_100, 9_500]);
  });

  it('maxRestarts 0 escalates the first restart', () => {
    const d = decide(input({ policy: policy({ maxRestarts: 0 }), history: [] }));
    expect(d.action).toBe('escalate');
    if (d.action === 'escalate') expect(d.reason).toMatch(/maxRestarts 0/);
  });

  it('maxRestarts 0 still ignores exits that need no restart', () => {
    expect(decide(input({ policy: policy({ maxRestarts: 0 }), child: { id: 'b', restart: 'transient' }, exit: 'normal' }))).toEqual({
      action: 'ignore',
    });
  });

  it('a run of restarts escalates after exactly maxRestarts when fed its own history', () => {
    let history: number[] = [];
    const actions: string[] = [];
    for (let i = 0; i < 5; i++) {
      const d = decide(input({ policy: p, now: now + i, history }));
      actions.push(d.action);
      if (d.action === 'restart') history = d.history;
    }
    expect(actions).toEqual(['restart', 'restart', 'restart', 'escalate', 'escalate']);
  });
});

describe('decide: backoff delay', () => {
  const p = policy({ backoffBaseMs: 100, backoffMaxMs: 10_000, maxRestarts: 10 });
  const delay = (history: number[], r: number): number => {
    const d = decide(input({ policy: p, history, rng: () => r }));
    if (d.action !== 'restart') throw new Error('expected restart');
    return d.delayMs;
  };

  it('uses attempt = restarts in the window + 1 (equal jitter: [ceiling/2, ceiling])', () => {
    expect(delay([], 0)).toBe(50);
    expect(delay([], 0.999_999)).toBe(100);
    expect(delay([9_500], 0)).toBe(100);
    expect(delay([9_500, 9_600], 0)).toBe(200);
    expect(delay([9_500, 9_600, 9_700], 0.5)).toBe(600);
  });

  it('ignores restarts outside the window when choosing the attempt', () => {
    expect(delay([1, 2, 3, 4], 0)).toBe(50);
  });

  it('zero base gives zero delay', () => {
    const d = decide(input({ policy: policy({ backoffBaseMs: 0, backoffMaxMs: 1_000 }), history: [9_999] }));
    expect(d).toMatchObject({ action: 'restart', delayMs: 0 });
  });
});

describe('assertValidPolicy', () => {
  it('accepts a sane policy', () => {
    expect(() => assertValidPolicy(policy())).not.toThrow();
  });
  it.each([
    [{ maxRestarts: -1 }, /maxRestarts/],
    [{ maxRestarts: 1.5 }, /maxRestarts/],
    [{ periodMs: 0 }, /periodMs/],
    [{ backoffBaseMs: -1 }, /backoffBaseMs/],
    [{ backoffMaxMs: Number.NaN }, /backoffMaxMs/],
    [{ strategy: 'simple' as Strategy }, /strategy/],
  ])('rejects %j', (over, message) => {
    expect(() => assertValidPolicy(policy(over))).toThrow(message);
  });
});
