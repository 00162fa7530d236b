// A nats-server of the test's own (own port, own store dir), for tests that take NATS down. The
// shared NATS on 127.0.0.1:4222 serves every other suite and must never be stopped.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { freePort } from './services.js';

const START_TIMEOUT_MS = 10_000;

export interface NatsProcess {
  readonly url: string;
  /** Starts it again on the same port (after kill). */
  start(): Promise<void>;
  /** SIGKILL: the connections drop at once, as in a crash. */
  kill(): Promise<void>;
  /** Kills it and removes its store dir. */
  close(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export async function privateNats(binary = 'nats-server'): Promise<NatsProcess> {
  const port = await freePort();
  const storeDir = mkdtempSync(join(tmpdir(), 'aurora-nats-'));
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();

  const start = async () => {
    if (child) return;
    const proc = spawn(binary, ['-a', '127.0.0.1', '-p', String(port), '-sd', storeDir], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    live.add(proc);
    exited = new Promise((resolve) =>
      proc.once('exit', () => {
        live.delete(proc);
        resolve();
      }),
    );
    const output: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`nats-server did not start:\n${output.join('\n')}`)), START_TIMEOUT_MS);
      proc.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`nats-server exited at start:\n${output.join('\n')}`));
      });
      createInterface({ input: proc.stderr! }).on('line', (line) => {
        output.push(line);
        if (line.includes('Server is ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  };
  const kill = async () => {
    const proc = child;
    if (!proc) return;
    child = null;
    proc.kill('SIGKILL');
    await exited;
  };
  await start();
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
