// A node's place in its namespace: it takes the ownership lease (or refuses to start), announces
// itself, and renews both every NODE_HEARTBEAT_MS. Losing the lease to another node is fatal:
// running on would split the namespace's agents between two owners.
import { randomBytes } from 'node:crypto';
import type { Bus } from '../bus/bus.js';
import { KvConflictError, type KvBucket } from '../bus/kv.js';
import { isoAt, type Clock, type Timer } from '../clock.js';
import type { Config } from '../config.js';
import { describe } from '../errors.js';
import { createEventPublisher } from '../events.js';
import type { Logger } from '../logger.js';
import { createSubjects } from '../subjects.js';
import { LEASE_KEY, NODE_KEY_PREFIX, openClusterBucket } from './bucket.js';
import { decideLease, holderProcessGone, refusalMessage, toHolder, type LeaseHolder } from './lease-decision.js';
import { nodeRecord, pidRunning, thisHost, type NodeIdentity, type NodeStats } from './node-record.js';

/** Start-up refused: another live node owns the namespace. */
export class LeaseHeldError extends Error {
  override readonly name = 'LeaseHeldError';
  constructor(
    message: string,
    readonly holder: LeaseHolder,
  ) {
    super(message);
  }
}

export interface MembershipDeps {
  readonly bus: Bus;
  readonly config: Config;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly version: string;
  readonly kinds: readonly string[];
  /** Another node took the lease: stop taking work and exit. Called once. */
  readonly onLeaseLost: (reason: string) => void;
}

export interface Membership {
  readonly nodeId: string;
  /** The lease's current revision. */
  epoch(): number;
  /** Where the heartbeat reads the node's figures from (the runtime exists only after the lease is held). */
  report(stats: () => NodeStats): void;
  /** Graceful leave: stops renewing, removes the node's entry and releases the lease if still ours. */
  leave(): Promise<void>;
}

/** Attempts when creates and take-overs race other newcomers; each re-reads the lease. */
const ACQUIRE_ATTEMPTS = 3;

/** Joins the namespace, or rejects with LeaseHeldError. Undefined on a bus without KV (embedded). */
export async function joinCluster(deps: MembershipDeps): Promise<Membership | undefined> {
  const { config, clock, logger } = deps;
  const opened = openClusterBucket(deps.bus, config);
  if (opened === undefined) return undefined;
  const bucket = await opened;
  const identity: NodeIdentity = {
    node_id: `node-${randomBytes(4).toString('hex')}`,
    role: config.role,
    version: deps.version,
    host: thisHost(),
    pid: process.pid,
    started_at: isoAt(clock.now()),
    kinds: deps.kinds,
  };
  const holder: LeaseHolder = { node_id: identity.node_id, host: identity.host, pid: identity.pid, started_at: identity.started_at };
  const log = logger.child({ component: 'cluster', node_id: identity.node_id });
  const events = createEventPublisher(deps.bus, createSubjects(config.namespace), clock);
  const { revision: acquired, previous } = await acquire(bucket, holder, deps, log);
  let revision = acquired;
  if (previous !== undefined) events.publish('node.left', { payload: { node_id: previous.node_id, host: previous.host, pid: previous.pid, reason: 'dead' } });
  let stats: () => NodeStats = () => ({ agents: 0 });
  const nodeKey = NODE_KEY_PREFIX + identity.node_id;
  await bucket.put(nodeKey, nodeRecord(identity, stats(), isoAt(clock.now())));
  log.info('node joined the namespace', { namespace: config.namespace, bucket: bucket.name, epoch: revision });
  events.publish('node.joined', { payload: { node_id: identity.node_id, host: identity.host, pid: identity.pid, role: identity.role, epoch: revision } });

  let timer: Timer | undefined;
  let stopped = false;
  let beating: Promise<void> = Promise.resolve();

  const beat = async (): Promise<void> => {
    try {
      revision = await bucket.update(LEASE_KEY, holder, revision);
    } catch (err) {
      if (stopped) return;
      if (err instanceof KvConflictError) {
        stopped = true;
        const now = await bucket.get(LEASE_KEY).catch(() => undefined);
        const reason = `lease of namespace "${config.namespace}" lost at epoch ${revision}: now held by ${now === undefined ? 'nobody' : toHolder(now.value).node_id}`;
        log.error('lost the ownership lease; stopping so two nodes never own the same agents', {
          namespace: config.namespace,
          epoch: revision,
          holder: now === undefined ? null : toHolder(now.value),
        });
        deps.onLeaseLost(reason);
        return;
      }
      // NATS unreachable: nobody can take the lease meanwhile; the next renewal's CAS tells.
      log.warn('lease renewal failed; retrying at the next heartbeat', { error: describe(err) });
    }
    try {
      await bucket.put(nodeKey, nodeRecord(identity, stats(), isoAt(clock.now())));
    } catch (err) {
      if (!stopped) log.warn('heartbeat failed; retrying at the next one', { error: describe(err) });
    }
  };

  const schedule = (): void => {
    if (stopped) return;
    timer = clock.setTimeout(() => {
      beating = beat().finally(schedule);
    }, config.nodeHeartbeatMs);
  };
  schedule();

  return {
    nodeId: identity.node_id,
    epoch: () => revision,
    report(next) {
      stats = next;
    },
    async leave() {
      if (stopped) return;
      stopped = true;
      timer?.cancel();
      await beating;
      await bucket.delete(nodeKey).catch((err: unknown) => log.warn('could not remove the node entry', { error: describe(err) }));
      // With the revision: a lease someone else holds by now is theirs to keep.
      await bucket
        .delete(LEASE_KEY, revision)
        .catch((err: unknown) => log.warn('could not release the lease', { error: describe(err) }));
      events.publish('node.left', { payload: { node_id: identity.node_id, host: identity.host, pid: identity.pid, reason: 'stopped' } });
      log.info('node left the namespace', { namespace: config.namespace, epoch: revision });
    },
  };
}

/** The lease's revision, and the dead holder it was taken from (none when it was free). */
async function acquire(
  bucket: KvBucket,
  holder: LeaseHolder,
  deps: MembershipDeps,
  log: Logger,
): Promise<{ revision: number; previous?: LeaseHolder }> {
  const { config, clock } = deps;
  const thresholds = { deadAfterMs: config.nodeDeadAfterMs };
  for (let attempt = 1; ; attempt++) {
    const entry = await bucket.get(LEASE_KEY);
    const seen = entry === undefined ? undefined : { holder: toHolder(entry.value), revision: entry.revision, storedAt: entry.storedAt };
    const gone = seen !== undefined && holderProcessGone(seen.holder, holder.host, holder.pid, pidRunning);
    const decision = decideLease(seen, clock.now(), thresholds, gone);
    try {
      switch (decision.action) {
        case 'create':
          return { revision: await bucket.create(LEASE_KEY, holder) };
        case 'refuse':
          throw new LeaseHeldError(refusalMessage(config.namespace, decision, config.nodeDeadAfterMs), decision.holder);
        case 'take_over': {
          const revision = await bucket.update(LEASE_KEY, holder, decision.revision);
          log.warn('took over the lease of a dead node', {
            namespace: config.namespace,
            why: decision.why,
            previous: decision.holder,
            silent_for_ms: decision.ageMs,
            epoch: revision,
          });
          return { revision, previous: decision.holder };
        }
      }
    } catch (err) {
      // Another newcomer moved first: read again and decide on what it wrote.
      if (!(err instanceof KvConflictError) || attempt >= ACQUIRE_ATTEMPTS) throw err;
    }
  }
}
