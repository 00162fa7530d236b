// The KV bucket Aurora's cluster membership stands on, against the real NATS (JetStream): create
// refuses an existing key, update is a compare-and-set on the revision, a deleted key can be
// created again, and entries() lists the live keys only.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Bus } from '../../runtime/bus/bus.js';
import { JetStreamUnavailableError, KvConflictError, type KvBucket } from '../../runtime/bus/kv.js';
import { createNatsBus } from '../../runtime/bus/nats.js';
import { privateNats } from '../helpers/private-nats.js';
import { describeWithService, NATS_URL, uniqueNamespace } from '../helpers/services.js';

await describeWithService('NATS', NATS_URL, 'JetStream KV bucket over the NATS bus', () => {
  let bus: Bus;
  let kv: KvBucket;
  const bucket = uniqueNamespace('kv');

  beforeAll(async () => {
    bus = await createNatsBus({ url: NATS_URL });
    kv = await bus.keyValue!(bucket, { maxAgeMs: 60_000 });
  });

  afterAll(async () => {
    // Leaves nothing behind on the shared server.
    await bus?.drain();
    const { connect } = await import('@nats-io/transport-node');
    const nc = await connect({ servers: NATS_URL });
    await nc.request(`$JS.API.STREAM.DELETE.KV_${bucket}`, new Uint8Array(), { timeout: 3_000 }).catch(() => undefined);
    await nc.close();
  });

  it('creates a key once and refuses the second create', async () => {
    const rev = await kv.create('owner', { node_id: 'a' });
    expect(rev).toBeGreaterThan(0);
    await expect(kv.create('owner', { node_id: 'b' })).rejects.toBeInstanceOf(KvConflictError);
    expect(await kv.get('owner')).toMatchObject({ key: 'owner', value: { node_id: 'a' }, revision: rev });
  });

  it('updates only on the latest revision, so of two writers on one revision one wins', async () => {
    const seen = (await kv.get('owner'))!;
    const results = await Promise.allSettled([kv.update('owner', { node_id: 'b' }, seen.revision), kv.update('owner', { node_id: 'c' }, seen.revision)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(rejected.reason).toBeInstanceOf(KvConflictError);
    expect((await kv.get('owner'))!.revision).toBeGreaterThan(seen.revision);
  });

  it('deletes on a revision only if it is still the latest, and a deleted key can be created again', async () => {
    const seen = (await kv.get('owner'))!;
    await expect(kv.delete('owner', seen.revision - 1)).rejects.toBeInstanceOf(KvConflictError);
    await kv.delete('owner', seen.revision);
    expect(await kv.get('owner')).toBeUndefined();
    await kv.create('owner', { node_id: 'd' });
    expect((await kv.get('owner'))!.value).toEqual({ node_id: 'd' });
  });

  it('lists the live entries with the time the server stored them', async () => {
    await kv.put('node.x', { n: 1 });
    await kv.put('node.y', { n: 2 });
    await kv.delete('node.y');
    const entries = await kv.entries();
    expect(entries.map((e) => e.key).sort()).toEqual(['node.x', 'owner']);
    for (const e of entries) expect(Number.isFinite(e.storedAt)).toBe(true);
  });

  it('refuses a server without JetStream with a JetStreamUnavailableError that says how to enable it', async () => {
    const plain = await privateNats('nats-server', { jetstream: false });
    const other = await createNatsBus({ url: plain.url });
    try {
      const opened = other.keyValue!(uniqueNamespace('kv'), { maxAgeMs: 60_000 });
      await expect(opened).rejects.toBeInstanceOf(JetStreamUnavailableError);
      await expect(opened).rejects.toThrow(/-js/);
    } finally {
      await other.drain();
      await plain.close();
    }
  });
});
