// Aurora started before NATS or Redis listen (a compose stack, a host reboot) waits for them with
// bounded retries instead of exiting. Each service is a private process whose port stays closed
// until Aurora has said it is retrying.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOllama, type FakeOllama } from '../fixtures/fake-ollama.js';
import { client, privateRedis, startAurora, tempDir, type AuroraProcess, type LogLine, type RedisProcess, type TempDir } from '../helpers/e2e.js';
import { privateNats, type NatsProcess } from '../helpers/private-nats.js';
import { uniqueNamespace } from '../helpers/services.js';

// Short waits so the test does not idle; many attempts so a slow service start cannot exhaust them.
const RETRY_ENV = { CONNECT_ATTEMPTS: '100', CONNECT_RETRY_BASE_MS: '100', CONNECT_RETRY_MAX_MS: '500' };

const retrying = (target: string) => (line: LogLine) => line.level === 'warn' && line.target === target && line.msg?.includes('retrying') === true;

describe('Services that come up after Aurora', () => {
  let fake: FakeOllama;
  let dir: TempDir;
  let nats: NatsProcess | undefined;
  let redis: RedisProcess | undefined;
  const servers: AuroraProcess[] = [];

  beforeAll(async () => {
    fake = await startFakeOllama();
    dir = tempDir();
  });

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.kill('SIGKILL')));
    await nats?.close();
    await redis?.close();
    await fake?.close();
    dir?.remove();
  });

  /** Starts Aurora and starts `service` once Aurora has logged its first retry about `target`. */
  async function startBefore(target: string, service: { start(): Promise<void> }, env: Record<string, string>): Promise<AuroraProcess> {
    let serviceStarted: Promise<void> | undefined;
    const isRetry = retrying(target);
    const server = await startAurora(
      { ...RETRY_ENV, OLLAMA_HOST: fake.url, AURORA_NAMESPACE: uniqueNamespace('e2e_late'), ...env },
      { onLog: (line) => void (isRetry(line) && (serviceStarted ??= service.start())) },
    );
    servers.push(server);
    await serviceStarted;
    return server;
  }

  it('waits for NATS, logging each attempt, and becomes ready once it listens', async () => {
    nats = await privateNats('nats-server', { startNow: false });
    const server = await startBefore('NATS', nats, { NATS_URL: nats.url, DATABASE_PATH: dir.file('nats.db') });
    const warning = server.logs.find(retrying('NATS'));
    expect(warning).toMatchObject({ attempt: 1, attempts: 100, retry_in_ms: 100 });
    expect(await server.waitForLog((l) => l.msg === 'aurora started')).toMatchObject({ bus: nats.url });
    const ready = await client(server.url).get('/health/ready');
    expect(ready.status, ready.text).toBe(200);
  });

  it('waits for Redis the same way', async () => {
    redis = await privateRedis('redis-server', { startNow: false });
    const server = await startBefore('Redis', redis, { REDIS_URL: redis.url, DATABASE_PATH: dir.file('redis.db') });
    expect(server.logs.find(retrying('Redis'))).toMatchObject({ attempt: 1 });
    expect(await server.waitForLog((l) => l.msg === 'aurora started')).toMatchObject({ cache: redis.url });
    const ready = await client(server.url).get('/health/ready');
    expect(ready.status, ready.text).toBe(200);
  });

  it('still ends the start with the error when the service never comes', async () => {
    const never = await privateNats('nats-server', { startNow: false });
    await expect(
      startAurora({ CONNECT_ATTEMPTS: '2', CONNECT_RETRY_BASE_MS: '1', NATS_URL: never.url, DATABASE_PATH: dir.file('never.db'), OLLAMA_HOST: fake.url }),
    ).rejects.toMatchObject({ exit: { code: 1 } });
    await never.close();
  });
});
