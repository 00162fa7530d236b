// WAL checkpoints off the event loop.
//
// A checkpoint copies the WAL back into the database file and fsyncs both. SQLite runs it inside
// whichever COMMIT crosses wal_autocheckpoint, i.e. on Aurora's event loop: under load a pause of
// ~20 ms about once a second for every request in flight (the p99). Here a worker thread with its
// own connection runs PASSIVE checkpoints on a timer instead (PASSIVE never waits for, nor blocks,
// the writer or readers), and the main connection's own threshold stays only as a backstop that
// bounds the WAL if the worker falls behind or dies.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

export interface Checkpointer {
  /** Stops the worker. Idempotent. */
  stop(): void;
}

export interface CheckpointerOptions {
  path: string;
  intervalMs: number;
  busyTimeoutMs: number;
  /** Told when the worker fails; the main connection's backstop threshold keeps the WAL bounded. */
  onError(err: unknown): void;
}

// Inline (eval) so it runs the same from TypeScript sources under test and from dist/: a worker
// file would need a build step of its own. better-sqlite3 is resolved by the parent, so the
// worker does not depend on its working directory.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlitePath);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('busy_timeout = ' + workerData.busyTimeoutMs);
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (err) {
    // SQLITE_BUSY: another checkpoint is running; the next tick tries again.
    if (!(err && err.code === 'SQLITE_BUSY')) throw err;
  }
}, workerData.intervalMs);
parentPort.on('message', (msg) => {
  if (msg !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

export function startCheckpointer(options: CheckpointerOptions): Checkpointer {
  const sqlitePath = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { sqlitePath, path: options.path, intervalMs: options.intervalMs, busyTimeoutMs: options.busyTimeoutMs },
  });
  // Never what keeps the process alive.
  worker.unref();
  let stopped = false;
  worker.on('error', (err) => {
    if (!stopped) options.onError(err);
  });
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      worker.postMessage('stop');
    },
  };
}
