// One namespace, one owner: a second node refuses to start (naming the owner), GET
// /api/v1/cluster shows who holds the lease, and once the owner is SIGKILLed and its lease has
// lapsed, a new node takes it over (a larger epoch) and serves the agents made before. Heartbeats
// are shortened through the environment; every wait is for a condition, with a safety timeout.
import { existsSync } from 'node:fs';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startFakeOllama, type FakeOllama } from '../fixtures/fake-ollama.js';
import { AuroraExitedError, client, startAurora, StreamClient, tempDir, type AuroraProcess, type TempDir } from '../helpers/e2e.js';
import type { ClusterBody, TaskResultBody } from '../helpers/http-bodies.js';
import { describeWithService, NATS_URL, uniqueNamespace } from '../helpers/services.js';

/** Safety net of the polls below: far beyond NODE_DEAD_AFTER_MS, never what a test measures. */
const POLL_TIMEOUT_MS = 20_000;
/** Safety net of a whole take-over story: a kill, a lapse, a node start and a stop on a loaded machine. */
const STORY_TIMEOUT_MS = 120_000;

await describeWithService('NATS', NATS_URL, 'Cluster: one node owns a namespace', () => {
  let fake: FakeOllama;
  let dir: TempDir;
  let gateway: AuroraProcess;
  const nodes: AuroraProcess[] = [];
  const namespace = uniqueNamespace('e2e_cluster');
  const shared = () => ({
    NATS_URL,
    AURORA_NAMESPACE: namespace,
    OLLAMA_HOST: fake.url,
    // 15 heartbeats: a node busy starting up on a loaded 2-core machine must not look dead.
    NODE_HEARTBEAT_MS: '200',
    NODE_DEAD_AFTER_MS: '3000',
  });
  const startNode = async (database: string) => {
    const node = await startAurora({ ...shared(), AURORA_ROLE: 'node', DATABASE_PATH: dir.file(database) });
    nodes.push(node);
    return node;
  };
  const joined = async (node: AuroraProcess) =>
    String((await node.waitForLog((l) => l.msg === 'node joined the namespace', 'node joined')).node_id);
  const api = () => client(gateway.url);
  const cluster = async () => {
    const res = await api().get<ClusterBody>('/api/v1/cluster');
    expect(res.status).toBe(200);
    return res.body;
  };
  const until = async (what: string, check: (c: ClusterBody) => boolean): Promise<ClusterBody> => {
    const deadline = Date.now() + POLL_TIMEOUT_MS;
    for (;;) {
      const c = await cluster();
      if (check(c)) return c;
      if (Date.now() > deadline) throw new Error(`${what} never happened; last answer: ${JSON.stringify(c)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  let ownerA: AuroraProcess;
  let idA: string;
  let epochA: number;

  beforeAll(async () => {
    fake = await startFakeOllama();
    dir = tempDir();
    ownerA = await startNode('a.db');
    idA = await joined(ownerA);
    gateway = await startAurora({ ...shared(), AURORA_ROLE: 'gateway', DATABASE_PATH: dir.file('gateway-none/x.db') });
  });

  afterAll(async () => {
    await gateway?.kill('SIGKILL');
    for (const n of nodes) await n.kill('SIGKILL');
    // The namespace's bucket must not outlive the test on the shared server.
    const nc = await connect({ servers: NATS_URL });
    await nc.request(`$JS.API.STREAM.DELETE.KV_aurora_${namespace}_nodes`, new Uint8Array(), { timeout: 3_000 }).catch(() => undefined);
    await nc.close();
    await fake?.close();
    dir?.remove();
  });

  it('lists the owner with the lease, and serves agents from it', async () => {
    expect((await api().post('/api/v1/agents/', { name: 'kept' })).status).toBe(201);
    const run = await api().post<TaskResultBody>('/api/v1/tasks/execute', { agent: 'kept', prompt: 'before the crash' });
    expect({ status: run.status, result: run.body.result }).toEqual({ status: 200, result: 'before the crash' });
    const c = await until('the owner reporting its agent', (s) => s.nodes.some((n) => n.node_id === idA && n.agents === 1));
    expect(c).toMatchObject({ mode: 'nats', namespace, dead_after_ms: 3000, lease: { node_id: idA, alive: true } });
    expect(c.nodes).toEqual([expect.objectContaining({ node_id: idA, role: 'node', pid: ownerA.pid, alive: true, holds_lease: true })]);
    epochA = c.lease!.epoch;
  });

  it('refuses a second node on the namespace: exit 1, a message naming the owner, its database untouched', async () => {
    const err = await startNode('b.db').then(
      () => new Error('the second node started'),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AuroraExitedError);
    const exited = err as AuroraExitedError;
    expect(exited.exit.code).toBe(1);
    const failure = exited.logs.find((l) => l.msg === 'aurora failed to start');
    expect(String(failure?.error)).toContain(`Namespace "${namespace}" is already owned by node ${idA}`);
    expect(String(failure?.error)).toContain(`pid ${ownerA.pid}`);
    expect(String(failure?.error)).toMatch(/another AURORA_NAMESPACE, or stop the other node/);
    expect(existsSync(dir.file('b.db'))).toBe(false);
    // The owner is unaffected.
    expect((await cluster()).lease).toMatchObject({ node_id: idA, alive: true });
  });

  it('lets a new node take over once the SIGKILLed owner’s lease lapsed, with a larger epoch and the agents made before', async () => {
    await ownerA.kill('SIGKILL');
    await until('the dead owner’s lease lapsing', (c) => c.lease !== null && !c.lease.alive);
    const stream = await StreamClient.connect(`${gateway.wsUrl}?types=node.*`);
    // Shared history is the next slice: the new owner is pointed at the dead one's database.
    const nodeC = await startNode('a.db');
    const idC = await joined(nodeC);
    const took = await nodeC.waitForLog((l) => l.msg === 'took over the lease of a dead node', 'take-over');
    expect(took).toMatchObject({ previous: { node_id: idA, pid: ownerA.pid } });
    // The lease is written before the node's own entry: wait for both.
    const c = await until('the new owner in the cluster view', (s) => s.lease?.node_id === idC && s.nodes.some((n) => n.node_id === idC));
    expect(c.lease!.epoch).toBeGreaterThan(epochA);
    expect(c.nodes.find((n) => n.node_id === idA)).toMatchObject({ alive: false, holds_lease: false });
    expect(c.nodes.find((n) => n.node_id === idC)).toMatchObject({ alive: true, holds_lease: true });
    expect((await api().get('/api/v1/agents/kept')).body).toMatchObject({ name: 'kept' });
    const run = await api().post<TaskResultBody>('/api/v1/tasks/execute', { agent: 'kept', prompt: 'after the take-over' });
    expect({ status: run.status, result: run.body.result }).toEqual({ status: 200, result: 'after the take-over' });

    // A graceful stop releases the lease and removes the node's entry.
    expect((await nodeC.stop()).code).toBe(0);
    const after = await until('the lease released', (s) => s.lease === null && !s.nodes.some((n) => n.node_id === idC));
    expect(after.nodes.map((n) => n.node_id)).toEqual([idA]);
    try {
      await stream.next((m) => m.type === 'node.left' && m.payload?.node_id === idC, 'node.left of the stopped node');
      expect(stream.events.map((e) => [e.type, e.payload.node_id, e.payload.reason])).toEqual([
        ['node.left', idA, 'dead'],
        ['node.joined', idC, undefined],
        ['node.left', idC, 'stopped'],
      ]);
    } finally {
      await stream.close();
    }
  }, STORY_TIMEOUT_MS);

  it('makes an owner whose lease another writer took stop and exit 70 rather than run split', async () => {
    const nodeD = await startNode('d.db');
    const idD = await joined(nodeD);
    // Someone else writes the lease behind its back (what a take-over after a partition looks like to it).
    const nc = await connect({ servers: NATS_URL });
    try {
      const intruder = { node_id: 'node-intruder', host: 'elsewhere', pid: 1, started_at: new Date().toISOString() };
      await nc.request(`$KV.aurora_${namespace}_nodes.owner`, JSON.stringify(intruder), { timeout: 3_000 });
    } finally {
      await nc.close();
    }
    const lost = await nodeD.waitForLog((l) => l.msg === 'lost the ownership lease; stopping so two nodes never own the same agents', 'lease lost');
    expect(lost).toMatchObject({ level: 'error', node_id: idD, holder: { node_id: 'node-intruder' } });
    expect((await nodeD.exited).code).toBe(70);
  }, STORY_TIMEOUT_MS);
});
