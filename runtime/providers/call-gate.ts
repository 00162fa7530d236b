// At most `limit` calls at once; the rest wait here in arrival order. A model server given thousands
// of requests at once opens thousands of sockets and queues them itself, where Aurora can neither
// see nor cancel them; waiting here keeps the queue visible and each waiter abortable.
//
// Waiters are not bounded here: every one of them is a task in an agent's slot, and agents, their
// slots and their task timeouts bound those.

/** Gives a slot back; calling it more than once gives back one slot. */
export type Release = () => void;

export interface CallGate {
  /**
   * Resolves once a slot is free. Rejects with the signal's reason when it is aborted first (or
   * already), and the waiter leaves the queue.
   */
  acquire(signal?: AbortSignal): Promise<Release>;
  /** Calls holding a slot. */
  readonly active: number;
  /** Calls waiting for a slot. */
  readonly waiting: number;
}

interface Waiter {
  grant(release: Release): void;
}

export function createCallGate(limit: number): CallGate {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`a call gate needs a limit of at least 1, got ${limit}`);
  let active = 0;
  // A Set keeps insertion order and removes an aborted waiter in O(1), wherever it stands.
  const queue = new Set<Waiter>();

  const release = (): Release => {
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      const next = queue.values().next();
      if (next.done === true) {
        active--;
        return;
      }
      // The slot passes straight to the next waiter: `active` does not change.
      queue.delete(next.value);
      next.value.grant(release());
    };
  };

  return {
    acquire(signal) {
      if (signal?.aborted === true) return Promise.reject(abortReason(signal));
      if (active < limit && queue.size === 0) {
        active++;
        return Promise.resolve(release());
      }
      return new Promise<Release>((resolve, reject) => {
        const onAbort = () => {
          queue.delete(waiter);
          reject(abortReason(signal!));
        };
        const waiter: Waiter = {
          grant: (r) => {
            signal?.removeEventListener('abort', onAbort);
            resolve(r);
          },
        };
        queue.add(waiter);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
    get active() {
      return active;
    },
    get waiting() {
      return queue.size;
    },
  };
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}
