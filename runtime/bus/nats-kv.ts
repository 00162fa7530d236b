// A JetStream KV bucket through the official @nats-io/kv client, on the bus's own connection.
// Only the part Aurora uses (create, compare-and-set update, get, delete, list), behind the KvBucket
// port so the cluster code sees revisions and server times, not the client's types.
import { jetstream, JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import { Kvm, type KV, type KvEntry as NatsKvEntry } from '@nats-io/kv';
import { NoRespondersError, RequestError, type NatsConnection } from '@nats-io/transport-node';
import { decode, encode } from './bus.js';
import { JetStreamUnavailableError, KvConflictError, type KvBucket, type KvBucketOptions, type KvEntry } from './kv.js';

const WRONG_LAST_SEQUENCE: ReadonlySet<number> = new Set([
  JetStreamApiCodes.StreamWrongLastSequence,
  JetStreamApiCodes.StreamWrongLastSequenceUnknown,
]);

export async function openNatsKvBucket(nc: NatsConnection, bucket: string, options: KvBucketOptions, timeoutMs: number): Promise<KvBucket> {
  let kv: KV;
  try {
    // One message kept per key: a key's history is of no use to membership or the lease.
    kv = await new Kvm(jetstream(nc, { timeout: timeoutMs })).create(bucket, { history: 1, ttl: options.maxAgeMs });
  } catch (err) {
    if (noJetStream(err)) {
      throw new JetStreamUnavailableError(
        'NATS answers but JetStream does not; enable it (nats-server -js, or a jetstream {} block in nats.conf)',
        { cause: err },
      );
    }
    throw err;
  }

  const conflictOr = (key: string, err: unknown): never => {
    if (err instanceof JetStreamApiError && WRONG_LAST_SEQUENCE.has(err.code)) {
      throw new KvConflictError(key, `${bucket}/${key} was written by someone else: ${err.message}`);
    }
    throw err;
  };
  const toEntry = (e: NatsKvEntry): KvEntry => ({
    key: e.key,
    value: e.value.length === 0 ? null : decode(e.value),
    revision: e.revision,
    storedAt: e.created.getTime(),
  });
  const live = async (key: string): Promise<KvEntry | undefined> => {
    const e = await kv.get(key);
    return e === null || e.operation !== 'PUT' ? undefined : toEntry(e);
  };

  return {
    name: bucket,
    get: live,
    create: (key, value) => kv.create(key, encode(value)).catch((err: unknown) => conflictOr(key, err)),
    update: (key, value, revision) => kv.update(key, encode(value), revision).catch((err: unknown) => conflictOr(key, err)),
    put: (key, value) => kv.put(key, encode(value)),
    delete: (key, revision) =>
      kv.delete(key, revision === undefined ? undefined : { previousSeq: revision }).catch((err: unknown) => conflictOr(key, err)),
    async entries() {
      const keys: string[] = [];
      for await (const k of await kv.keys()) keys.push(k);
      const found = await Promise.all(keys.map(live));
      return found.filter((e): e is KvEntry => e !== undefined);
    },
  };
}

function noJetStream(err: unknown): boolean {
  if (err instanceof NoRespondersError || (err instanceof RequestError && err.cause instanceof NoRespondersError)) return true;
  // The client raises JetStreamNotEnabled ("jetstream is not enabled") when the server answers without it.
  return err instanceof Error && (err.name === 'JetStreamNotEnabled' || /jetstream is not enabled|no responders/i.test(err.message));
}
