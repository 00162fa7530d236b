// GET /api/v1/cluster's answer from the bucket's entries: alive and dead nodes, the lease holder.
import { describe, expect, it } from 'vitest';
import { fromEntries } from '../../runtime/cluster/cluster-reader.js';
import type { KvEntry } from '../../runtime/bus/kv.js';

const config = { namespace: 'prod', nodeDeadAfterMs: 10_000 };
const record = (node_id: string, started_at: string) => ({
  node_id,
  role: 'node',
  version: '0.1.0',
  host: 'worker',
  pid: 1,
  started_at,
  heartbeat_at: started_at,
  kinds: ['llm'],
  agents: 2,
  cpus: 2,
  load_avg_1m: 0.5,
  rss_bytes: 1000,
});

describe('fromEntries', () => {
  it('marks the node whose heartbeat lapsed dead and shows who holds the lease at which epoch', () => {
    const entries: KvEntry[] = [
      { key: 'node.node-a', value: record('node-a', '2025-01-31T12:00:00.000Z'), revision: 3, storedAt: 1_000 },
      { key: 'node.node-b', value: record('node-b', '2025-01-31T12:00:01.000Z'), revision: 9, storedAt: 19_000 },
      { key: 'owner', value: { node_id: 'node-b', host: 'worker', pid: 1, started_at: 'x' }, revision: 10, storedAt: 19_500 },
    ];
    const status = fromEntries(entries, 20_000, config);
    expect(status.lease).toEqual({ node_id: 'node-b', epoch: 10, renewed_at: '1970-01-01T00:00:19.500Z', age_ms: 500, alive: true });
    expect(status.nodes.map((n) => [n.node_id, n.alive, n.holds_lease, n.heartbeat_age_ms])).toEqual([
      ['node-a', false, false, 19_000],
      ['node-b', true, true, 1_000],
    ]);
    expect(status).toMatchObject({ mode: 'nats', namespace: 'prod', dead_after_ms: 10_000 });
  });

  it('answers no lease and no nodes for an empty bucket', () => {
    expect(fromEntries([], 0, config)).toEqual({ mode: 'nats', namespace: 'prod', dead_after_ms: 10_000, lease: null, nodes: [] });
  });
});
