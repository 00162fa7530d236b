// Finding out, before a node opens its database, that its port is taken. The gateway's exclusive
// listen (gateway/uws.ts) is what guarantees one process per port, but it happens last, after the
// runtime has started; a second `npm start` in the same checkout would by then have opened the
// same SQLite file and marked the first process's running tasks `interrupted`. So the composition
// root asks here first: a plain bind (no SO_REUSEPORT), released at once, that also tells why it
// failed, which uWS does not. Two processes starting at the same instant can both pass; the
// exclusive listen still stops the second of those.
import { createServer } from 'node:net';
import { PortUnavailableError } from './uws.js';

const REASONS: Readonly<Record<string, string>> = {
  EADDRINUSE: 'the port is already in use',
  EACCES: 'permission denied (ports below 1024 need privileges)',
  EADDRNOTAVAIL: 'HOST is not an address of this machine',
};

/** Resolves when host:port can be listened on now; rejects with PortUnavailableError otherwise. Port 0 always can. */
export function assertPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.once('error', (err: NodeJS.ErrnoException) => {
      const why = REASONS[err.code ?? ''] ?? `${err.code ?? 'error'}: ${err.message}`;
      reject(new PortUnavailableError(host, port, why, err.code === 'EADDRINUSE'));
    });
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}
