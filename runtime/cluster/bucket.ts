// Names and settings of a namespace's cluster bucket, shared by the nodes that write it and the
// gateways that read it.
import type { Bus } from '../bus/bus.js';
import type { KvBucket } from '../bus/kv.js';
import type { Config } from '../config.js';

/** The lease key; nodes live under `node.<id>`. */
export const LEASE_KEY = 'owner';
export const NODE_KEY_PREFIX = 'node.';

export function bucketName(namespace: string): string {
  return `aurora_${namespace}_nodes`;
}

/**
 * Garbage collection only (entries of nodes that died without removing themselves); liveness is
 * judged from the entries' times. Long enough that an operator still sees a dead node for a while.
 */
export function bucketMaxAgeMs(config: Pick<Config, 'nodeDeadAfterMs'>): number {
  return Math.max(60_000, 30 * config.nodeDeadAfterMs);
}

export function openClusterBucket(bus: Bus, config: Pick<Config, 'namespace' | 'nodeDeadAfterMs'>): Promise<KvBucket> | undefined {
  return bus.keyValue?.(bucketName(config.namespace), { maxAgeMs: bucketMaxAgeMs(config) });
}
