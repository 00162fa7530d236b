// Acknowledging writes: what the services answer, once the writes behind it are committed.
import { AuroraError } from '../errors.js';
import type { Store } from './store.js';

/** Whether every write made so far is committed (false: the group commit failed). */
export function committed(store: Pick<Store, 'afterCommit'>): Promise<boolean> {
  return new Promise((resolve) => store.afterCommit(resolve));
}

/** Resolves with `value` once the writes behind it are committed: no client hears of a write a crash could undo. */
export async function durable<T>(store: Pick<Store, 'afterCommit'>, value: T): Promise<T> {
  if (!(await committed(store))) throw new AuroraError('internal', 'the change could not be stored');
  return value;
}
