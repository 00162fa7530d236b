import { describe, expect, it } from 'vitest';
import { backoffDelayMs } from '../../supervisors/backoff.js';

/** mulberry32: a tiny seeded PRNG, uniform in [0, 1). */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const EDGE_RNG = [0, Number.EPSILON, 0.25, 0.5, 0.75, 1 - Number.EPSILON];

describe('backoffDelayMs', () => {
  it('stays within [0, maxMs] for many attempts, bases, caps and rng values', () => {
    const rng = seeded(42);
    const cases: Array<[number, number]> = [
      [1, 1],
      [1, 10],
      [100, 10_000],
      [100, 50],
      [250, 30_000],
      [7, 1_000_003],
    ];
    const violations: string[] = [];
    let checked = 0;
    for (const [baseMs, maxMs] of cases) {
      for (let attempt = 1; attempt <= 80; attempt++) {
        for (let i = 0; i < 50; i++) {
          const r = rng();
          const d = backoffDelayMs({ attempt, baseMs, maxMs, rng: () => r });
          checked++;
          if (!(Number.isFinite(d) && d >= 0 && d <= maxMs)) violations.push(`${JSON.stringify({ attempt, baseMs, maxMs, r })} → ${d}`);
        }
      }
    }
    expect(checked).toBe(6 * 80 * 50);
    expect(violations).toEqual([]);
  });

  it('equal jitter: lies in [ceiling/2, ceiling] with ceiling = min(max, base·2^(attempt-1))', () => {
    const rng = seeded(7);
    for (let attempt = 1; attempt <= 20; attempt++) {
      const ceiling = Math.min(10_000, 100 * 2 ** (attempt - 1));
      const delays = Array.from({ length: 100 }, () => backoffDelayMs({ attempt, baseMs: 100, maxMs: 10_000, rng }));
      expect(Math.min(...delays)).toBeGreaterThanOrEqual(ceiling / 2);
      expect(Math.max(...delays)).toBeLessThanOrEqual(ceiling);
    }
  });

  it('grows with attempt for any fixed rng value until the cap, then stays at it', () => {
    for (const r of [...EDGE_RNG, ...Array.from({ length: 50 }, seeded(3))]) {
      let previous = -1;
      for (let attempt = 1; attempt <= 40; attempt++) {
        const d = backoffDelayMs({ attempt, baseMs: 100, maxMs: 10_000, rng: () => r });
        expect(d).toBeGreaterThanOrEqual(previous);
        previous = d;
      }
    }
    // The floor (ceiling/2) doubles per attempt below the cap.
    const floors = [1, 2, 3, 4, 5].map((attempt) => backoffDelayMs({ attempt, baseMs: 100, maxMs: 10_000, rng: () => 0 }));
    expect(floors).toEqual([50, 100, 200, 400, 800]);
  });

  it('base 0 always gives 0', () => {
    const rng = seeded(9);
    for (let attempt = 1; attempt <= 100; attempt++) {
      expect(backoffDelayMs({ attempt, baseMs: 0, maxMs: 10_000, rng })).toBe(0);
    }
    expect(backoffDelayMs({ attempt: 2_000, baseMs: 0, maxMs: 10_000, rng: () => 0.9 })).toBe(0);
  });

  it('max 0 always gives 0', () => {
    expect(backoffDelayMs({ attempt: 3, baseMs: 100, maxMs: 0, rng: () => 0.5 })).toBe(0);
  });

  it('huge attempts hit the cap without overflowing to Infinity or NaN', () => {
    for (const attempt of [1_024, 1_025, 5_000, Number.MAX_SAFE_INTEGER, Number.POSITIVE_INFINITY]) {
      const d = backoffDelayMs({ attempt, baseMs: 100, maxMs: 10_000, rng: () => 0.999 });
      expect(d).toBeLessThanOrEqual(10_000);
      expect(d).toBeGreaterThanOrEqual(5_000);
    }
  });

  it('treats attempt < 1 or NaN as the first attempt', () => {
    for (const attempt of [0, -3, Number.NaN]) {
      expect(backoffDelayMs({ attempt, baseMs: 100, maxMs: 10_000, rng: () => 0 })).toBe(50);
    }
  });

  it('clamps an rng that strays outside [0, 1)', () => {
    for (const r of [-1, Number.NaN, 1, 7]) {
      const d = backoffDelayMs({ attempt: 1, baseMs: 100, maxMs: 10_000, rng: () => r });
      expect(d).toBeGreaterThanOrEqual(50);
      expect(d).toBeLessThanOrEqual(100);
    }
  });

  it('is deterministic for a seeded rng', () => {
    const run = (): number[] => {
      const rng = seeded(1234);
      return [1, 2, 3, 4, 5, 6].map((attempt) => backoffDelayMs({ attempt, baseMs: 100, maxMs: 1_000, rng }));
    };
    expect(run()).toEqual(run());
  });
});
