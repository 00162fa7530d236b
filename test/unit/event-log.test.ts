import { describe, expect, it } from 'vitest';
import type { AuroraEvent } from '../../runtime/protocol/index.js';
import { createEventLog, type LoggedEvent } from '../../gateway/event-log.js';

const ev = (n: number, extra: Partial<AuroraEvent> = {}): AuroraEvent => ({
  type: 'task.token',
  time: `2024-01-01T00:00:${String(n % 60).padStart(2, '0')}.000Z`,
  payload: { n },
  ...extra,
});

const seqs = (events: readonly LoggedEvent[]) => events.map((e) => e.seq);

describe('event log', () => {
  it('stamps events with seq 1, 2, 3 … in arrival order', () => {
    const log = createEventLog(10);
    expect(log.lastSeq).toBe(0);
    const a = log.append(ev(1));
    const b = log.append(ev(2));
    expect([a.seq, b.seq]).toEqual([1, 2]);
    expect(log.lastSeq).toBe(2);
    expect(log.at(1)?.event.payload).toEqual({ n: 1 });
  });

  it('serialises each event once into the wire form, seq first, absent fields left out', () => {
    const log = createEventLog(4);
    const withAgent = log.append(ev(1, { agent: 'a1', task_id: 't1' }));
    const bare = log.append(ev(2));
    expect(withAgent.wire.toString('utf8')).toBe(
      '{"seq":1,"time":"2024-01-01T00:00:01.000Z","type":"task.token","agent":"a1","task_id":"t1","payload":{"n":1}}',
    );
    expect(JSON.parse(bare.wire.toString('utf8'))).toEqual({ seq: 2, time: bare.event.time, type: 'task.token', payload: { n: 2 } });
    // The stored entry is the one appended: nothing is re-serialised on read.
    expect(log.at(1)).toBe(withAgent);
  });

  it('keeps at most `capacity` events, dropping the oldest', () => {
    const log = createEventLog(3);
    for (let i = 1; i <= 5; i++) log.append(ev(i));
    expect(log.oldestSeq).toBe(3);
    expect(log.lastSeq).toBe(5);
    expect(log.at(2)).toBeUndefined();
    expect(log.at(3)?.seq).toBe(3);
    expect(log.at(5)?.seq).toBe(5);
    expect(log.at(6)).toBeUndefined();
  });

  it('since(seq) returns exactly the events after seq that are still held, without a gap', () => {
    const log = createEventLog(5);
    for (let i = 1; i <= 4; i++) log.append(ev(i));
    const r = log.since(1);
    expect(r.gap).toBe(false);
    expect(seqs(r.events)).toEqual([2, 3, 4]);
    expect(seqs(log.since(0).events)).toEqual([1, 2, 3, 4]);
    expect(log.since(4)).toEqual({ gap: false, events: [] });
  });

  it('since(seq) on an empty log is an empty replay, not a gap', () => {
    expect(createEventLog(5).since(0)).toEqual({ gap: false, events: [] });
  });

  it('since(seq) reports a gap with the oldest seq when events after seq left the window', () => {
    const log = createEventLog(3);
    for (let i = 1; i <= 10; i++) log.append(ev(i));
    const r = log.since(2);
    expect(r.gap).toBe(true);
    expect(r.gap && r.oldestSeq).toBe(8);
    expect(seqs(r.events)).toEqual([8, 9, 10]);
    // The seq just before the window is still exact: nothing after it is missing.
    const edge = log.since(7);
    expect(edge.gap).toBe(false);
    expect(seqs(edge.events)).toEqual([8, 9, 10]);
  });

  it('treats a seq ahead of the newest event as a gap: it came from another gateway process', () => {
    const log = createEventLog(3);
    log.append(ev(1));
    log.append(ev(2));
    const r = log.since(500);
    expect(r.gap).toBe(true);
    expect(r.gap && r.oldestSeq).toBe(1);
    expect(seqs(r.events)).toEqual([1, 2]);
  });

  it('replays in seq order across the wraparound of the ring', () => {
    const log = createEventLog(4);
    for (let i = 1; i <= 4 * 3 + 2; i++) log.append(ev(i)); // 14 events: slots reused three times
    expect(log.oldestSeq).toBe(11);
    const r = log.since(10);
    expect(r.gap).toBe(false);
    expect(seqs(r.events)).toEqual([11, 12, 13, 14]);
    expect(r.events.map((e) => e.event.payload.n)).toEqual([11, 12, 13, 14]);
    for (let s = 11; s <= 14; s++) expect(log.at(s)?.seq).toBe(s);
  });

  it('with capacity 0 keeps nothing but still numbers events', () => {
    const log = createEventLog(0);
    expect(log.append(ev(1)).seq).toBe(1);
    expect(log.append(ev(2)).seq).toBe(2);
    expect(log.at(2)).toBeUndefined();
    expect(log.oldestSeq).toBe(3);
    expect(log.since(2)).toEqual({ gap: false, events: [] });
    expect(log.since(1)).toEqual({ gap: true, oldestSeq: 3, events: [] });
  });

  it('after a break, tells a cursor from before of the gap, and not a cursor handed out after it', () => {
    const log = createEventLog(10);
    for (let n = 1; n <= 3; n++) log.append(ev(n));
    log.breakHere();
    expect(log.lastSeq).toBe(4);
    expect(log.at(3)).toBeUndefined();
    expect(log.since(3)).toEqual({ gap: true, oldestSeq: 5, events: [] });
    expect(log.since(4)).toEqual({ gap: false, events: [] });
    expect(log.append(ev(5)).seq).toBe(5);
    expect(seqs(log.since(4).events)).toEqual([5]);
    const afterGap = log.since(0);
    expect(afterGap.gap).toBe(true);
    expect(seqs(afterGap.events)).toEqual([5]);
  });

  it('rejects a negative or fractional cursor and a bad capacity', () => {
    const log = createEventLog(2);
    expect(() => log.since(-1)).toThrow(RangeError);
    expect(() => log.since(1.5)).toThrow(RangeError);
    expect(() => createEventLog(-1)).toThrow(RangeError);
  });
});
