// A nats-server of the test's own (own port, own store dir), for tests that take NATS down. The
// shared NATS on 127.0.0.1:4222 serves every other suite and must never be stopped.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { privateProcess } from './private-process.js';
import { freePort } from './services.js';

export interface NatsProcess {
  readonly url: string;
  /** Starts it again on the same port (after kill). */
  start(): Promise<void>;
  /** SIGKILL: the connections drop at once, as in a crash. */
  kill(): Promise<void>;
  /** Kills it and removes its store dir. */
  close(): Promise<void>;
}

/**
 * `startNow: false` reserves the port and leaves it closed until start(): a service that comes up late.
 * `jetstream: false`: a server without JetStream, which a node must refuse.
 */
export async function privateNats(binary = 'nats-server', { startNow = true, jetstream = true } = {}): Promise<NatsProcess> {
  const port = await freePort();
  const storeDir = mkdtempSync(join(tmpdir(), 'aurora-nats-'));
  const { start, kill } = privateProcess({
    binary,
    // JetStream on, as in nats.conf: nodes keep their membership and lease in a KV bucket.
    args: ['-a', '127.0.0.1', '-p', String(port), ...(jetstream ? ['-js'] : []), '-sd', storeDir],
    readyOn: 'stderr',
    readyLine: 'Server is ready',
  });
  if (startNow) await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    start,
    kill,
    close: async () => {
      await kill();
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}
