// One Aurora per port. uWS listens with SO_REUSEPORT unless told otherwise, so a second process on
// a busy port used to start and take every other connection (issue 17: with auth on in one and off
// in the other, half the tokenless requests got through). Now the second one refuses to start, in
// every role, before it opens a database.
import { existsSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOllama, type FakeOllama } from '../fixtures/fake-ollama.js';
import { AuroraExitedError, client, startAurora, tempDir, type AuroraProcess, type TempDir } from '../helpers/e2e.js';
import { NATS_URL, reachable, uniqueNamespace } from '../helpers/services.js';

const natsUp = await reachable(NATS_URL);
// As everywhere (test/helpers/services.ts): a missing NATS skips loudly, and fails under CI.
if (!natsUp && process.env.CI === 'true') throw new Error(`NATS is not reachable at ${NATS_URL}; CI must start it before running the tests`);
if (!natsUp) process.stderr.write(`\n!!! NATS is not reachable at ${NATS_URL}: the gateway and node roles are SKIPPED below !!!\n\n`);

describe('A second Aurora on a port already served', () => {
  let fake: FakeOllama;
  let dir: TempDir;
  let first: AuroraProcess;
  const extra: AuroraProcess[] = [];

  beforeAll(async () => {
    fake = await startFakeOllama();
    dir = tempDir();
    first = await startAurora({ DATABASE_PATH: dir.file('first.db'), OLLAMA_HOST: fake.url, AUTH_ENABLED: 'false' });
  });

  afterEach(async () => {
    await Promise.all(extra.splice(0).map((p) => p.kill('SIGKILL')));
  });

  afterAll(async () => {
    await first?.kill('SIGKILL');
    await fake?.close();
    dir?.remove();
  });

  /** Starts a second process on the first one's port and returns how it ended; fails the test if it listens. */
  async function secondOnSamePort(env: Record<string, string>): Promise<AuroraExitedError> {
    try {
      extra.push(await startAurora({ ...env, PORT: String(first.port), OLLAMA_HOST: fake.url }));
    } catch (err) {
      if (err instanceof AuroraExitedError) return err;
      throw err;
    }
    throw new Error('the second process started listening on a port already served');
  }

  function expectClearRefusal(failure: AuroraExitedError): void {
    expect(failure.exit.code, failure.message).toBe(1);
    const line = failure.logs.find((l) => l.msg === 'aurora failed to start');
    expect(line?.error, failure.message).toBe(
      `Cannot listen on 127.0.0.1:${first.port}: the port is already in use. Another Aurora (or another program) ` +
        'is listening there: stop it, or set PORT to a free port (0 picks one).',
    );
    expect(failure.logs.some((l) => l.msg === 'gateway listening')).toBe(false);
  }

  async function expectFirstStillServes(): Promise<void> {
    const api = client(first.url);
    // Several connections, each a fresh one: none may land anywhere but the first process.
    const answers = await Promise.all(Array.from({ length: 8 }, () => api.get('/health/ready')));
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(200));
  }

  it('in the default role exits 1 saying the port is in use, before it creates its database', async () => {
    const failure = await secondOnSamePort({ DATABASE_PATH: dir.file('second/all.db'), AUTH_ENABLED: 'false' });
    expectClearRefusal(failure);
    expect(existsSync(dir.file('second'))).toBe(false);
    await expectFirstStillServes();
  });

  it.skipIf(!natsUp)('as a node (which listens for its probes and /metrics) exits 1 the same way', async () => {
    const env = { AURORA_ROLE: 'node', NATS_URL, AURORA_NAMESPACE: uniqueNamespace('e2e_port'), DATABASE_PATH: dir.file('second/node.db') };
    const failure = await secondOnSamePort(env);
    expectClearRefusal(failure);
    expect(existsSync(dir.file('second'))).toBe(false);
    await expectFirstStillServes();
  });

  it.skipIf(!natsUp)('as a gateway exits 1 the same way', async () => {
    const failure = await secondOnSamePort({ AURORA_ROLE: 'gateway', NATS_URL, AURORA_NAMESPACE: uniqueNamespace('e2e_port') });
    expectClearRefusal(failure);
    await expectFirstStillServes();
  });
});
