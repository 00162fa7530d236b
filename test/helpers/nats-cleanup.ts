// The shared NATS outlives every test run: a node started by a test leaves its namespace's
// membership bucket (KV_aurora_<ns>_nodes) behind (with the entries of nodes a test killed). The end
// of a run removes the buckets of test namespaces (a random 12-hex suffix) that this run created
// and no node writes to any more, so CI runs do not pile them up. Other streams are never touched.
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';

const TEST_BUCKET_STREAM = /^KV_aurora_.+_[0-9a-f]{12}_nodes$/;
/**
 * A node renews its entry every NODE_HEARTBEAT_MS (2 s by default): a bucket written to this
 * recently may belong to a node of another run still going, and is left alone.
 */
const QUIET_MS = 2_500;

/** Deletes the quiet test-namespace buckets created at or after `since`; returns how many went. */
export async function removeTestBuckets(url: string, since: Date): Promise<number> {
  let nc;
  try {
    nc = await connect({ servers: url, timeout: 1_000, reconnect: false });
  } catch {
    return 0; // no NATS here: nothing of ours can be on it
  }
  let removed = 0;
  try {
    const jsm = await jetstreamManager(nc, { timeout: 3_000 });
    const kvm = new Kvm(jetstream(nc, { timeout: 3_000 }));
    const candidates: string[] = [];
    for await (const info of jsm.streams.list()) {
      if (TEST_BUCKET_STREAM.test(info.config.name) && new Date(info.created) >= since) candidates.push(info.config.name);
    }
    const newestWrite = async (stream: string): Promise<number> => {
      const kv = await kvm.open(stream.slice('KV_'.length));
      let newest = 0;
      for await (const key of await kv.keys()) newest = Math.max(newest, (await kv.get(key))?.created.getTime() ?? 0);
      return newest;
    };
    for (const stream of candidates) {
      // The run's last nodes stopped moments ago: one wait lets their writes age past QUIET_MS.
      let age = Date.now() - (await newestWrite(stream));
      if (age < QUIET_MS) {
        await new Promise((resolve) => setTimeout(resolve, QUIET_MS - age));
        age = Date.now() - (await newestWrite(stream));
      }
      if (age >= QUIET_MS && (await jsm.streams.delete(stream).catch(() => false))) removed++;
    }
  } catch {
    // JetStream off or busy: leaving a few buckets behind is harmless.
  } finally {
    await nc.close();
  }
  return removed;
}
