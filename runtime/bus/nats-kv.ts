// A JetStream KV bucket over the documented JetStream API ($JS.API.*, $KV.<bucket>.<key>), on the
// bus's own connection. The official @nats-io/kv client is not among our dependencies; this is the
// part of it Aurora uses (create, compare-and-set update, get, delete, list), with the same
// stream layout (KV_<bucket>, one message kept per key), so the `nats kv` CLI reads the bucket and
// swapping in @nats-io/kv later changes this file only.
import { headers, NoRespondersError, RequestError, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import { decode, encode } from './bus.js';
import { JetStreamUnavailableError, KvConflictError, type KvBucket, type KvBucketOptions, type KvEntry } from './kv.js';

/** JetStream API error codes we act on (nats-server's errors.json). */
const ERR_WRONG_LAST_SEQUENCE = 10071;
const ERR_NO_MESSAGE_FOUND = 10037;
const ERR_STREAM_NOT_FOUND = 10059;

const OPERATION_HEADER = 'KV-Operation';
const EXPECTED_LAST_SUBJECT_SEQ = 'Nats-Expected-Last-Subject-Sequence';

interface ApiError {
  code: number;
  err_code?: number;
  description?: string;
}

interface StoredMessage {
  subject: string;
  seq: number;
  hdrs?: string;
  data?: string;
  time: string;
}

const NS_PER_MS = 1_000_000;

export async function openNatsKvBucket(nc: NatsConnection, bucket: string, options: KvBucketOptions, timeoutMs: number): Promise<KvBucket> {
  const stream = `KV_${bucket}`;
  const prefix = `$KV.${bucket}.`;

  async function api<T>(subject: string, body: unknown, hdrs?: MsgHdrs): Promise<T & { error?: ApiError }> {
    try {
      const reply = await nc.request(subject, body === undefined ? new Uint8Array() : encode(body), { timeout: timeoutMs, headers: hdrs });
      return decode(reply.data) as T & { error?: ApiError };
    } catch (err) {
      const noResponders = err instanceof NoRespondersError || (err instanceof RequestError && err.cause instanceof NoRespondersError);
      if (noResponders) {
        throw new JetStreamUnavailableError(
          `NATS answers but JetStream does not (no responders on ${subject}); enable it (nats-server -js, or a jetstream {} block in nats.conf)`,
          { cause: err },
        );
      }
      throw err;
    }
  }

  const maxAgeNs = options.maxAgeMs * NS_PER_MS;
  const created = await api<unknown>(`$JS.API.STREAM.CREATE.${stream}`, {
    name: stream,
    subjects: [`${prefix}>`],
    retention: 'limits',
    max_msgs_per_subject: 1,
    max_age: maxAgeNs,
    max_msgs: -1,
    max_bytes: -1,
    max_msg_size: -1,
    max_consumers: -1,
    storage: 'file',
    discard: 'new',
    num_replicas: 1,
    duplicate_window: Math.min(maxAgeNs, 120_000 * NS_PER_MS),
    allow_rollup_hdrs: true,
    deny_delete: true,
    deny_purge: false,
    allow_direct: true,
  });
  // An existing bucket made with other settings (an older Aurora, or by hand) is used as it is.
  if (created.error !== undefined && created.error.err_code !== 10058) throw apiError(created.error, `creating bucket ${bucket}`);

  async function write(key: string, value: unknown, hdrs: MsgHdrs | undefined): Promise<number> {
    const ack = await api<{ seq: number }>(prefix + key, value, hdrs);
    if (ack.error !== undefined) {
      if (ack.error.err_code === ERR_WRONG_LAST_SEQUENCE) {
        throw new KvConflictError(key, `${bucket}/${key} was written by someone else: ${ack.error.description ?? 'wrong last sequence'}`);
      }
      throw apiError(ack.error, `writing ${bucket}/${key}`);
    }
    return ack.seq;
  }

  /** The key's latest message, live or a delete marker; undefined when it has none. */
  async function last(key: string): Promise<{ entry: KvEntry; deleted: boolean } | undefined> {
    const res = await api<{ message?: StoredMessage }>(`$JS.API.STREAM.MSG.GET.${stream}`, { last_by_subj: prefix + key });
    if (res.error !== undefined) {
      if (res.error.err_code === ERR_NO_MESSAGE_FOUND || res.error.code === 404) return undefined;
      throw apiError(res.error, `reading ${bucket}/${key}`);
    }
    const m = res.message!;
    const hdrs = m.hdrs === undefined ? '' : Buffer.from(m.hdrs, 'base64').toString('utf8');
    const deleted = /^KV-Operation:\s*(DEL|PURGE)\s*$/im.test(hdrs);
    const data = m.data === undefined ? new Uint8Array() : Buffer.from(m.data, 'base64');
    return {
      entry: { key, value: deleted || data.length === 0 ? null : decode(data), revision: m.seq, storedAt: Date.parse(m.time) },
      deleted,
    };
  }

  const expecting = (revision: number): MsgHdrs => {
    const h = headers();
    h.set(EXPECTED_LAST_SUBJECT_SEQ, String(revision));
    return h;
  };

  const bucketApi: KvBucket = {
    name: bucket,
    async get(key) {
      const found = await last(key);
      return found === undefined || found.deleted ? undefined : found.entry;
    },
    async create(key, value) {
      try {
        return await write(key, value, expecting(0));
      } catch (err) {
        if (!(err instanceof KvConflictError)) throw err;
        // A deleted key keeps its delete marker as latest message: creating over it is allowed,
        // still as a compare-and-set on the marker's revision.
        const found = await last(key);
        if (found === undefined || !found.deleted) throw err;
        return write(key, value, expecting(found.entry.revision));
      }
    },
    update(key, value, revision) {
      return write(key, value, expecting(revision));
    },
    put(key, value) {
      return write(key, value, undefined);
    },
    async delete(key, revision) {
      const h = revision === undefined ? headers() : expecting(revision);
      h.set(OPERATION_HEADER, 'DEL');
      await write(key, null, h);
    },
    async entries() {
      const info = await api<{ state?: { subjects?: Record<string, number> } }>(`$JS.API.STREAM.INFO.${stream}`, {
        subjects_filter: `${prefix}>`,
      });
      if (info.error !== undefined) {
        if (info.error.err_code === ERR_STREAM_NOT_FOUND) return [];
        throw apiError(info.error, `listing ${bucket}`);
      }
      const keys = Object.keys(info.state?.subjects ?? {}).map((s) => s.slice(prefix.length));
      const found = await Promise.all(keys.map((k) => last(k)));
      return found.filter((f): f is { entry: KvEntry; deleted: boolean } => f !== undefined && !f.deleted).map((f) => f.entry);
    },
  };
  return bucketApi;
}

function apiError(error: ApiError, doing: string): Error {
  return new Error(`JetStream refused ${doing}: ${error.description ?? 'unknown error'} (code ${error.code}, err_code ${error.err_code ?? '-'})`);
}
