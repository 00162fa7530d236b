// GET /api/v1/cluster: the nodes of a namespace as their heartbeats in NATS describe them, and
// which of them holds the ownership lease. Read from the KV bucket, so every gateway answers it.
import { Type, type Static } from '@sinclair/typebox';
import { IsoTime, NullableObject } from './common.js';
import { EXAMPLE } from './examples.js';

export const CLUSTER_MODES = ['nats', 'embedded'] as const;

export const ClusterNode = Type.Object({
  node_id: Type.String({ description: 'Chosen by the node at start-up; a restarted process is a new node' }),
  role: Type.String({ description: 'AURORA_ROLE of the process: `node` or `all`' }),
  version: Type.String({ description: "Aurora's version on that node" }),
  host: Type.String({ description: 'Host name of the machine it runs on' }),
  pid: Type.Integer({ description: 'Process id on that host' }),
  started_at: IsoTime({ description: 'When the node started' }),
  heartbeat_at: IsoTime({ description: 'Its last heartbeat, as the NATS server stored it' }),
  heartbeat_age_ms: Type.Integer({ description: 'How long ago that was, by the clock of the gateway answering' }),
  alive: Type.Boolean({ description: 'False once no heartbeat came for longer than `dead_after_ms`' }),
  agents: Type.Integer({ description: 'Agents the node runs, as of its last heartbeat' }),
  kinds: Type.Array(Type.String(), { description: 'Agent kinds the node can run' }),
  cpus: Type.Integer({ description: 'CPUs of its host' }),
  load_avg_1m: Type.Number({ description: "Its host's one-minute load average (0 where the platform has none)" }),
  rss_bytes: Type.Integer({ description: 'Resident memory of the node process' }),
  holds_lease: Type.Boolean({ description: 'True for the node that owns the namespace’s agents' }),
});
export type ClusterNode = Static<typeof ClusterNode>;

export const ClusterLease = Type.Object({
  node_id: Type.String({ description: 'The node holding it' }),
  epoch: Type.Integer({ description: 'The lease key’s revision: grows with every renewal and take-over, so a newer owner always has a larger epoch' }),
  renewed_at: IsoTime({ description: 'Its last renewal, as the NATS server stored it' }),
  age_ms: Type.Integer({ description: 'How long ago that was' }),
  alive: Type.Boolean({ description: 'False once not renewed for longer than `dead_after_ms`: the next node to start takes it over' }),
});

export const ClusterStatus = Type.Object(
  {
    mode: Type.Union(
      CLUSTER_MODES.map((m) => Type.Literal(m)),
      { description: '`nats`: read from the namespace’s KV bucket; `embedded`: no NATS, this process is the only node' },
    ),
    namespace: Type.String({ description: 'AURORA_NAMESPACE' }),
    dead_after_ms: Type.Integer({ description: 'NODE_DEAD_AFTER_MS of the gateway answering' }),
    lease: NullableObject(ClusterLease, { description: 'The ownership lease; null when nobody holds it (and in embedded mode)' }),
    nodes: Type.Array(ClusterNode, { description: 'Nodes that announced themselves, dead ones included until the bucket forgets them' }),
  },
  {
    examples: [
      {
        mode: 'nats',
        namespace: 'aurora',
        dead_after_ms: 10_000,
        lease: { node_id: 'node-3f9a1c2b', epoch: 1842, renewed_at: EXAMPLE.later, age_ms: 812, alive: true },
        nodes: [
          {
            node_id: 'node-3f9a1c2b',
            role: 'node',
            version: '0.1.0',
            host: 'worker-1',
            pid: 4121,
            started_at: EXAMPLE.time,
            heartbeat_at: EXAMPLE.later,
            heartbeat_age_ms: 812,
            alive: true,
            agents: 3,
            kinds: ['llm', 'workflow'],
            cpus: 2,
            load_avg_1m: 0.42,
            rss_bytes: 104_857_600,
            holds_lease: true,
          },
        ],
      },
    ],
  },
);
export type ClusterStatus = Static<typeof ClusterStatus>;
