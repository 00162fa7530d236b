// Readiness names what is actually down (issue 18): with NATS gone, only the bus is; the database
// and the LLM are checked by the node over the bus, so they are unknown, not blamed. Runs on a
// private nats-server that the test kills and starts again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOllama, type FakeOllama } from '../fixtures/fake-ollama.js';
import { client, startAurora, tempDir, type AuroraProcess, type TempDir } from '../helpers/e2e.js';
import type { ReadyBody } from '../helpers/http-bodies.js';
import { privateNats, type NatsProcess } from '../helpers/private-nats.js';
import { uniqueNamespace } from '../helpers/services.js';

describe('Readiness across a NATS outage', () => {
  let fake: FakeOllama;
  let dir: TempDir;
  let nats: NatsProcess;
  let server: AuroraProcess;

  beforeAll(async () => {
    fake = await startFakeOllama();
    dir = tempDir();
    nats = await privateNats();
    server = await startAurora({
      NATS_URL: nats.url,
      AURORA_NAMESPACE: uniqueNamespace('e2e_ready'),
      DATABASE_PATH: dir.file('ready.db'),
      OLLAMA_HOST: fake.url,
    });
  });

  afterAll(async () => {
    await server?.kill('SIGKILL');
    await nats?.close();
    await fake?.close();
    dir?.remove();
  });

  it('reports only the bus down while NATS is gone, the database and the LLM unknown, and ready once it is back', async () => {
    const api = client(server.url);
    expect((await api.get('/health/ready')).status).toBe(200);

    const from = server.logs.length;
    await nats.kill();
    await server.waitForLog((l) => l.msg === 'NATS disconnected; reconnecting', 'the disconnect', from);
    const down = await api.get<ReadyBody>('/health/ready');
    expect(down.status, down.text).toBe(503);
    expect(down.body).toMatchObject({
      status: 'not_ready',
      checks: { database: null, bus: false, cache: true, llm: null },
      detail: 'Not ready: bus (not connected); database and llm unknown: the node checks them over the bus',
    });
    expect(down.headers.get('retry-after')).toBe('5');

    const before = server.logs.length;
    await nats.start();
    await server.waitForLog((l) => l.msg === 'NATS reconnected', 'the reconnect', before);
    const up = await api.get<ReadyBody>('/health/ready');
    expect(up.status, up.text).toBe(200);
    expect(up.body.checks).toEqual({ database: true, bus: true, cache: true, llm: true });
  });
});
