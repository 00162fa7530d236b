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
  | {
      readonly action: 'take_over';
      readonly holder: LeaseHolder;
      readonly ageMs: number;
      readonly revision: number;
      /** `lapsed`: not renewed in time; `process_gone`: its process is known to be gone (same host). */
      readonly why: 'lapsed' | 'process_gone';
    };

/** How long ago the server stored `storedAt`, never negative (a reader's clock behind the server's). */
export function ageOf(storedAt: number, now: number): number {
  return Math.max(0, now - storedAt);
}

export function isAlive(storedAt: number, now: number, thresholds: LeaseThresholds): boolean {
  return ageOf(storedAt, now) <= thresholds.deadAfterMs;
}

/**
 * What a starting node does about the lease it found (undefined: no lease key). `holderGone`: the
 * holder ran on this very host and its process is not there any more (a node restarted after a
 * crash), so waiting for the lease to lapse would only delay the restart.
 */
export function decideLease(seen: SeenLease | undefined, now: number, thresholds: LeaseThresholds, holderGone = false): LeaseDecision {
  if (seen === undefined) return { action: 'create' };
  const ageMs = ageOf(seen.storedAt, now);
  if (holderGone) return { action: 'take_over', holder: seen.holder, ageMs, revision: seen.revision, why: 'process_gone' };
  if (ageMs <= thresholds.deadAfterMs) return { action: 'refuse', holder: seen.holder, ageMs, epoch: seen.revision };
  return { action: 'take_over', holder: seen.holder, ageMs, revision: seen.revision, why: 'lapsed' };
}

/**
 * True when `holder` ran on `host` (this machine) and its process is gone: another pid is not
 * running, or its pid is ours (a container restarted keeps its host name and pid 1). On another
 * host nothing can be known locally: false.
 */
export function holderProcessGone(holder: LeaseHolder, host: string, ownPid: number, pidRunning: (pid: number) => boolean): boolean {
  if (holder.host !== host || holder.pid <= 0) return false;
  return holder.pid === ownPid || !pidRunning(holder.pid);
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
