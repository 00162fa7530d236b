// Who may own a namespace's agents: pure decisions over what a node read from the KV bucket, so
// they are tested without NATS. Until placement exists a namespace has one owner; the lease key's
// revision is its epoch.
//
// Time: a holder is judged by when the *server* stored its last renewal (the entry's own time),
// not by what the holder wrote, so a holder with a wrong clock cannot keep a dead lease alive.
// What remains is the skew between the reader's clock and the server's: keep hosts on NTP and
// NODE_DEAD_AFTER_MS many heartbeats long.

export interface LeaseHolder {
  readonly node_id: string;
  readonly host: string;
  readonly pid: number;
  readonly started_at: string;
}

/** The lease key as read: its value, revision (epoch) and when the server stored it. */
export interface SeenLease {
  readonly holder: LeaseHolder;
  readonly revision: number;
  readonly storedAt: number;
}

export interface LeaseThresholds {
  /** A renewal older than this (ms) means the holder is dead. */
  readonly deadAfterMs: number;
}

export type LeaseDecision =
  | { readonly action: 'create' }
  | { readonly action: 'refuse'; readonly holder: LeaseHolder; readonly ageMs: number; readonly epoch: number }
  /** Compare-and-set on `revision`: of two newcomers seeing the same dead holder, one wins. */
  | { readonly action: 'take_over'; readonly holder: LeaseHolder; readonly ageMs: number; readonly revision: number };

/** How long ago the server stored `storedAt`, never negative (a reader's clock behind the server's). */
export function ageOf(storedAt: number, now: number): number {
  return Math.max(0, now - storedAt);
}

export function isAlive(storedAt: number, now: number, thresholds: LeaseThresholds): boolean {
  return ageOf(storedAt, now) <= thresholds.deadAfterMs;
}

/** What a starting node does about the lease it found (undefined: no lease key). */
export function decideLease(seen: SeenLease | undefined, now: number, thresholds: LeaseThresholds): LeaseDecision {
  if (seen === undefined) return { action: 'create' };
  const ageMs = ageOf(seen.storedAt, now);
  if (ageMs <= thresholds.deadAfterMs) return { action: 'refuse', holder: seen.holder, ageMs, epoch: seen.revision };
  return { action: 'take_over', holder: seen.holder, ageMs, revision: seen.revision };
}

/** The start-up error of a node refused because another one owns the namespace. */
export function refusalMessage(namespace: string, decision: Extract<LeaseDecision, { action: 'refuse' }>, deadAfterMs: number): string {
  const { holder, ageMs, epoch } = decision;
  return (
    `Namespace "${namespace}" is already owned by node ${holder.node_id} (host ${holder.host}, pid ${holder.pid}, ` +
    `started ${holder.started_at}, lease epoch ${epoch}, renewed ${ageMs} ms ago). ` +
    'One node per namespace owns the agents until placement across nodes exists, so this node refuses to start. ' +
    `Fix: give this node another AURORA_NAMESPACE, or stop the other node (its lease lapses ${deadAfterMs} ms after its last renewal, ` +
    'then a node started here takes it over).'
  );
}

/** Reads a lease value; anything else (a key written by hand) is a holder nobody can name. */
export function toHolder(value: unknown): LeaseHolder {
  const v = (typeof value === 'object' && value !== null ? value : {}) as Partial<Record<keyof LeaseHolder, unknown>>;
  return {
    node_id: typeof v.node_id === 'string' ? v.node_id : 'unknown',
    host: typeof v.host === 'string' ? v.host : 'unknown',
    pid: typeof v.pid === 'number' ? v.pid : 0,
    started_at: typeof v.started_at === 'string' ? v.started_at : 'unknown',
  };
}
