// Integration suites need the real NATS and Redis. On a developer's machine without them the suite
// says so loudly and skips; under CI=true a missing service is a failure, never a silent skip.
import { connect, createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'vitest';

export const NATS_URL = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export function reachable(url: string, timeoutMs = 1000): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: u.hostname, port: Number(u.port) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Runs `body` as a describe block when `url` answers. Otherwise: under CI a failing test that
 * names the service; elsewhere a loud warning and a skipped block.
 */
export async function describeWithService(name: string, url: string, title: string, body: () => void): Promise<void> {
  const up = await reachable(url);
  if (up) {
    describe(title, body);
    return;
  }
  if (process.env.CI === 'true') {
    describe(title, () => {
      it(`needs ${name} at ${url}`, () => {
        throw new Error(`${name} is not reachable at ${url}; CI must start it before running the tests`);
      });
    });
    return;
  }
  process.stderr.write(`\n!!! ${name} is not reachable at ${url}: SKIPPING "${title}" !!!\n\n`);
  describe.skipIf(true)(title, body);
}

/** A subject namespace of its own for each test file, so suites never see each other's messages. */
export function uniqueNamespace(prefix = 't'): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/** A local port nobody listens on right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
