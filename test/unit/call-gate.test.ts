import { describe, expect, it } from 'vitest';
import { createCallGate, type Release } from '../../runtime/providers/call-gate.js';

/** Lets every settled promise's callbacks run. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('call gate', () => {
  it('grants up to its limit at once and makes the rest wait', async () => {
    const gate = createCallGate(2);
    const a = await gate.acquire();
    const b = await gate.acquire();
    let third: Release | null = null;
    void gate.acquire().then((r) => (third = r));
    await flush();
    expect(third).toBeNull();
    expect(gate.active).toBe(2);
    expect(gate.waiting).toBe(1);

    a();
    await flush();
    expect(third).not.toBeNull();
    expect(gate.active).toBe(2);
    expect(gate.waiting).toBe(0);
    b();
    third!();
    expect(gate.active).toBe(0);
  });

  it('hands slots to waiters in the order they came', async () => {
    const gate = createCallGate(1);
    const first = await gate.acquire();
    const order: number[] = [];
    const waits = [1, 2, 3].map((n) =>
      gate.acquire().then((release) => {
        order.push(n);
        release();
      }),
    );
    first();
    await Promise.all(waits);
    expect(order).toEqual([1, 2, 3]);
    expect(gate.active).toBe(0);
  });

  it('lets a newcomer wait behind earlier waiters even when a slot is about to free', async () => {
    const gate = createCallGate(1);
    const first = await gate.acquire();
    const order: string[] = [];
    const early = gate.acquire().then((r) => {
      order.push('early');
      r();
    });
    first();
    const late = gate.acquire().then((r) => {
      order.push('late');
      r();
    });
    await Promise.all([early, late]);
    expect(order).toEqual(['early', 'late']);
  });

  it('takes an aborted waiter out of the queue and rejects it with the reason', async () => {
    const gate = createCallGate(1);
    const first = await gate.acquire();
    const controller = new AbortController();
    const aborted = gate.acquire(controller.signal);
    const next = gate.acquire();
    expect(gate.waiting).toBe(2);

    const reason = new Error('task cancelled');
    controller.abort(reason);
    await expect(aborted).rejects.toBe(reason);
    expect(gate.waiting).toBe(1);

    first();
    const release = await next;
    expect(gate.active).toBe(1);
    release();
    expect(gate.active).toBe(0);
  });

  it('refuses at once a signal that is already aborted', async () => {
    const gate = createCallGate(1);
    const controller = new AbortController();
    controller.abort();
    await expect(gate.acquire(controller.signal)).rejects.toMatchObject({ name: 'AbortError' });
    expect(gate.active).toBe(0);
  });

  it('ignores an abort that comes after the slot was granted', async () => {
    const gate = createCallGate(1);
    const controller = new AbortController();
    const release = await gate.acquire(controller.signal);
    controller.abort();
    expect(gate.active).toBe(1);
    release();
    expect(gate.active).toBe(0);
  });

  it('gives a slot back once however often its release is called', async () => {
    const gate = createCallGate(1);
    const release = await gate.acquire();
    release();
    release();
    expect(gate.active).toBe(0);
    await gate.acquire();
    expect(gate.active).toBe(1);
  });

  it('needs a limit of at least one', () => {
    expect(() => createCallGate(0)).toThrow(RangeError);
  });
});
