// GET /api/v1/cluster's answer: the namespace's bucket read as it is now, so any gateway answers
// it without asking a node; in embedded mode the one process describes itself.
import type { Bus } from '../bus/bus.js';
import type { KvBucket, KvEntry } from '../bus/kv.js';
import { isoAt, type Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { ClusterNode, ClusterStatus } from '../protocol/index.js';
import { LEASE_KEY, NODE_KEY_PREFIX, openClusterBucket } from './bucket.js';
import { ageOf, isAlive, toHolder } from './lease-decision.js';
import { nodeRecord, type NodeRecord, type NodeStats } from './node-record.js';

export interface ClusterReader {
  read(): Promise<ClusterStatus>;
}

export interface ClusterReaderDeps {
  readonly bus: Bus;
  readonly config: Config;
  readonly clock: Clock;
  /** Embedded mode: who this process is and its figures. */
  readonly self: () => { identity: Omit<NodeRecord, 'heartbeat_at' | 'agents' | 'cpus' | 'load_avg_1m' | 'rss_bytes'>; stats: NodeStats };
}

export function createClusterReader(deps: ClusterReaderDeps): ClusterReader {
  const { config, clock } = deps;
  let bucket: Promise<KvBucket> | undefined;
  return {
    async read() {
      const opening = bucket ?? openClusterBucket(deps.bus, config);
      if (opening === undefined) return embedded(deps);
      // A failed open is retried by the next request instead of being remembered.
      bucket = opening.catch((err: unknown) => {
        bucket = undefined;
        throw err;
      });
      return fromEntries(await (await bucket).entries(), clock.now(), config);
    },
  };
}

function embedded(deps: ClusterReaderDeps): ClusterStatus {
  const now = deps.clock.now();
  const { identity, stats } = deps.self();
  const record = nodeRecord(identity, stats, isoAt(now));
  return {
    mode: 'embedded',
    namespace: deps.config.namespace,
    dead_after_ms: deps.config.nodeDeadAfterMs,
    lease: null,
    nodes: [{ ...pick(record), heartbeat_age_ms: 0, alive: true, holds_lease: true }],
  };
}

/** The bucket's entries as the API shows them; pure, so it is tested without NATS. */
export function fromEntries(entries: readonly KvEntry[], now: number, config: Pick<Config, 'namespace' | 'nodeDeadAfterMs'>): ClusterStatus {
  const thresholds = { deadAfterMs: config.nodeDeadAfterMs };
  const leaseEntry = entries.find((e) => e.key === LEASE_KEY);
  const holder = leaseEntry === undefined ? undefined : toHolder(leaseEntry.value);
  const nodes: ClusterNode[] = entries
    .filter((e) => e.key.startsWith(NODE_KEY_PREFIX))
    .map((e) => {
      const r = e.value as NodeRecord;
      return {
        ...pick(r),
        heartbeat_at: isoAt(e.storedAt),
        heartbeat_age_ms: Math.round(ageOf(e.storedAt, now)),
        alive: isAlive(e.storedAt, now, thresholds),
        holds_lease: holder?.node_id === r.node_id,
      };
    })
    .sort((a, b) => a.started_at.localeCompare(b.started_at));
  return {
    mode: 'nats',
    namespace: config.namespace,
    dead_after_ms: config.nodeDeadAfterMs,
    lease:
      leaseEntry === undefined || holder === undefined
        ? null
        : {
            node_id: holder.node_id,
            epoch: leaseEntry.revision,
            renewed_at: isoAt(leaseEntry.storedAt),
            age_ms: Math.round(ageOf(leaseEntry.storedAt, now)),
            alive: isAlive(leaseEntry.storedAt, now, thresholds),
          },
    nodes,
  };
}

/** The record's fields the API shows, with defaults for an entry written by an older or foreign writer. */
function pick(r: Partial<NodeRecord>): Omit<ClusterNode, 'heartbeat_age_ms' | 'alive' | 'holds_lease'> {
  return {
    node_id: String(r.node_id ?? 'unknown'),
    role: String(r.role ?? 'unknown'),
    version: String(r.version ?? 'unknown'),
    host: String(r.host ?? 'unknown'),
    pid: typeof r.pid === 'number' ? r.pid : 0,
    started_at: String(r.started_at ?? ''),
    heartbeat_at: String(r.heartbeat_at ?? ''),
    agents: typeof r.agents === 'number' ? r.agents : 0,
    kinds: Array.isArray(r.kinds) ? r.kinds.map(String) : [],
    cpus: typeof r.cpus === 'number' ? r.cpus : 0,
    load_avg_1m: typeof r.load_avg_1m === 'number' ? r.load_avg_1m : 0,
    rss_bytes: typeof r.rss_bytes === 'number' ? r.rss_bytes : 0,
  };
}
