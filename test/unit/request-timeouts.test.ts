// Request timeouts on a simulated clock: one timer per timeout value, not per request, and no
// request expires before its time or survives past it.
import { describe, expect, it } from 'vitest';
import { createMemoryBus } from '../../runtime/bus/memory.js';
import { RequestTimeouts, type Timed, type TimeoutLane } from '../../runtime/bus/request-timeouts.js';
import { createManualClock, type Clock, type ManualClock } from '../../runtime/clock.js';
import { AuroraError } from '../../runtime/errors.js';

class Entry implements Timed<Entry> {
  expiresAt = 0;
  prev: Entry | undefined = undefined;
  next: Entry | undefined = undefined;
  lane: TimeoutLane<Entry> | undefined = undefined;
  constructor(readonly name: string) {}
}

/** A manual clock that counts the timers armed on it. */
function countingClock(): ManualClock & { readonly timersArmed: number } {
  const clock = createManualClock(1_000);
  let armed = 0;
  return {
    ...clock,
    setTimeout(fn, ms) {
      armed++;
      return clock.setTimeout(fn, ms);
    },
    get timersArmed() {
      return armed;
    },
  };
}

function harness(clock: Clock = createManualClock(1_000)) {
  const expired: string[] = [];
  const timeouts = new RequestTimeouts<Entry>(clock, (e) => expired.push(e.name));
  return { expired, timeouts };
}

describe('request timeouts', () => {
  it('expires each entry once its timeout has passed, never before, in the order they were armed', () => {
    const clock = createManualClock(1_000);
    const { expired, timeouts } = harness(clock);
    timeouts.arm(new Entry('a'), 100);
    clock.advance(30);
    timeouts.arm(new Entry('b'), 100);
    clock.advance(69);
    expect(expired).toEqual([]);
    clock.advance(1);
    expect(expired).toEqual(['a']);
    clock.advance(29);
    expect(expired).toEqual(['a']);
    clock.advance(1);
    expect(expired).toEqual(['a', 'b']);
  });

  it('never expires a disarmed entry, wherever it sits in its lane', () => {
    const clock = createManualClock(1_000);
    const { expired, timeouts } = harness(clock);
    const entries = ['a', 'b', 'c', 'd'].map((n) => new Entry(n));
    for (const e of entries) timeouts.arm(e, 50);
    timeouts.disarm(entries[0]!);
    timeouts.disarm(entries[2]!);
    timeouts.disarm(entries[2]!);
    clock.advance(50);
    expect(expired).toEqual(['b', 'd']);
    expect(entries.map((e) => e.lane)).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('keeps entries of different timeouts apart, each expiring at its own deadline', () => {
    const clock = createManualClock(1_000);
    const { expired, timeouts } = harness(clock);
    timeouts.arm(new Entry('slow'), 300);
    timeouts.arm(new Entry('fast'), 100);
    clock.advance(100);
    expect(expired).toEqual(['fast']);
    clock.advance(200);
    expect(expired).toEqual(['fast', 'slow']);
  });

  it('arms one timer per timeout value and period, not one per request', () => {
    const clock = countingClock();
    const { expired, timeouts } = harness(clock);
    // Answered requests, one after another, over ten timeout periods.
    for (let i = 0; i < 1_000; i++) {
      const e = new Entry(`r${i}`);
      timeouts.arm(e, 100);
      clock.advance(1);
      timeouts.disarm(e);
    }
    expect(expired).toEqual([]);
    expect(clock.timersArmed).toBeLessThanOrEqual(11);
    const last = new Entry('unanswered');
    timeouts.arm(last, 100);
    clock.advance(100);
    expect(expired).toEqual(['unanswered']);
  });

  it('takes an entry armed while its lane expires others, and expires it on time', () => {
    const clock = createManualClock(1_000);
    const expired: string[] = [];
    const timeouts: RequestTimeouts<Entry> = new RequestTimeouts<Entry>(clock, (e) => {
      expired.push(e.name);
      if (e.name === 'first') timeouts.arm(new Entry('retry'), 100);
    });
    timeouts.arm(new Entry('first'), 100);
    clock.advance(40);
    timeouts.arm(new Entry('second'), 100);
    clock.advance(60);
    expect(expired).toEqual(['first']);
    clock.advance(40);
    expect(expired).toEqual(['first', 'second']);
    clock.advance(60);
    expect(expired).toEqual(['first', 'second', 'retry']);
  });
});

describe('the in-process bus on a simulated clock', () => {
  it("rejects a request with 'bus_timeout' when the clock passes its timeout, not before", async () => {
    const clock = createManualClock(1_000);
    const bus = createMemoryBus({ clock });
    let received!: () => void;
    const delivered = new Promise<void>((resolve) => (received = resolve));
    bus.subscribe('m.silent', () => received());
    let outcome: unknown = 'pending';
    const settled = bus.request('m.silent', 1, { timeoutMs: 250 }).then(
      (value: unknown) => (outcome = value),
      (err: unknown) => (outcome = err),
    );
    await delivered;
    clock.advance(249);
    await Promise.resolve();
    expect(outcome).toBe('pending');
    clock.advance(1);
    await settled;
    expect(outcome).toBeInstanceOf(AuroraError);
    expect((outcome as AuroraError).code).toBe('bus_timeout');
    await bus.drain();
  });
});
