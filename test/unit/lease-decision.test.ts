// The ownership lease's decisions, as pure functions of what a node read, the time and the
// threshold: no NATS, no timers.
import { describe, expect, it } from 'vitest';
import { decideLease, holderProcessGone, isAlive, refusalMessage, toHolder, type SeenLease } from '../../runtime/cluster/lease-decision.js';

const holder = { node_id: 'node-a1b2c3d4', host: 'worker-1', pid: 4121, started_at: '2025-01-31T12:00:00.000Z' };
const thresholds = { deadAfterMs: 10_000 };
const seen = (storedAt: number, revision = 7): SeenLease => ({ holder, revision, storedAt });

describe('decideLease', () => {
  it('creates the lease when nobody holds it', () => {
    expect(decideLease(undefined, 1_000, thresholds)).toEqual({ action: 'create' });
  });

  it('refuses while the holder renewed within the threshold, naming it and the epoch', () => {
    expect(decideLease(seen(100_000), 105_000, thresholds)).toEqual({ action: 'refuse', holder, ageMs: 5_000, epoch: 7 });
    // Exactly at the threshold the holder is still alive: dead means older than it.
    expect(decideLease(seen(100_000), 110_000, thresholds).action).toBe('refuse');
  });

  it('takes over a lease not renewed for longer than the threshold, on the revision it saw', () => {
    expect(decideLease(seen(100_000, 42), 110_001, thresholds)).toEqual({ action: 'take_over', holder, ageMs: 10_001, revision: 42, why: 'lapsed' });
  });

  it('treats a server clock ahead of the reader as a fresh renewal, never a negative age', () => {
    expect(decideLease(seen(200_000), 150_000, thresholds)).toEqual({ action: 'refuse', holder, ageMs: 0, epoch: 7 });
  });

  it('lets two newcomers that saw the same dead lease race on one revision (the CAS picks one)', () => {
    const a = decideLease(seen(0, 9), 60_000, thresholds);
    const b = decideLease(seen(0, 9), 61_000, thresholds);
    expect([a, b].map((d) => (d.action === 'take_over' ? d.revision : null))).toEqual([9, 9]);
  });
});

describe('a holder whose process is gone from this host', () => {
  it('is taken over at once, fresh renewal or not', () => {
    expect(decideLease(seen(100_000, 5), 100_500, thresholds, true)).toEqual({
      action: 'take_over',
      holder,
      ageMs: 500,
      revision: 5,
      why: 'process_gone',
    });
  });

  it('is known only on its own host: a pid not running, or our own pid (a restarted container)', () => {
    const running = (pid: number) => pid === 4121;
    expect(holderProcessGone(holder, 'worker-1', 999, running)).toBe(false);
    expect(holderProcessGone(holder, 'worker-1', 999, () => false)).toBe(true);
    expect(holderProcessGone(holder, 'worker-1', 4121, running)).toBe(true);
    expect(holderProcessGone(holder, 'worker-2', 999, () => false)).toBe(false);
    expect(holderProcessGone({ ...holder, pid: 0 }, 'worker-1', 999, () => false)).toBe(false);
  });
});

describe('isAlive', () => {
  it('is alive up to the threshold and dead beyond it', () => {
    expect(isAlive(0, 10_000, thresholds)).toBe(true);
    expect(isAlive(0, 10_001, thresholds)).toBe(false);
  });
});

describe('refusalMessage', () => {
  it('names the owner, its host and pid, and both ways out', () => {
    const decision = decideLease(seen(100_000), 103_000, thresholds);
    if (decision.action !== 'refuse') throw new Error('expected a refusal');
    const message = refusalMessage('prod', decision, thresholds.deadAfterMs);
    expect(message).toContain('Namespace "prod" is already owned by node node-a1b2c3d4 (host worker-1, pid 4121');
    expect(message).toContain('lease epoch 7');
    expect(message).toContain('another AURORA_NAMESPACE');
    expect(message).toContain('stop the other node');
  });
});

describe('toHolder', () => {
  it('reads a lease value written by hand without throwing', () => {
    expect(toHolder('garbage')).toEqual({ node_id: 'unknown', host: 'unknown', pid: 0, started_at: 'unknown' });
    expect(toHolder(holder)).toEqual(holder);
  });
});
