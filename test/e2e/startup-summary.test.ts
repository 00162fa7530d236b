// The start-up line tells an operator, before anything else, whether the switches that change what
// clients may do are on: auth, rate limiting and fault injection, plus role, port and where the
// bus, cache and store live.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAurora, tempDir, type AuroraProcess, type TempDir } from '../helpers/e2e.js';

describe('The start-up summary line', () => {
  let dir: TempDir;
  const servers: AuroraProcess[] = [];

  beforeAll(() => {
    dir = tempDir();
  });

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    dir?.remove();
  });

  async function summary(env: Record<string, string>) {
    // Ollama is not needed to start; an address nobody listens on keeps the test off any real one.
    const server = await startAurora({ OLLAMA_HOST: 'http://127.0.0.1:9', ...env });
    servers.push(server);
    return server.waitForLog((l) => l.msg === 'aurora started' && l.level === 'info', 'the start-up summary');
  }

  it('says auth, rate limiting and fault injection are off by default, with the embedded bus, cache and store', async () => {
    const line = await summary({ DATABASE_PATH: dir.file('off.db') });
    expect(line).toMatchObject({
      role: 'all',
      auth: 'off',
      rate_limit: 'off',
      fault_injection: 'off',
      bus: 'embedded',
      cache: 'embedded',
      store: dir.file('off.db'),
    });
    expect(typeof line.port).toBe('number');
    expect(line.rate_limit_per_minute).toBeUndefined();
  });

  it('says each is on when switched on, with the rate limit', async () => {
    const line = await summary({
      DATABASE_PATH: dir.file('on.db'),
      AUTH_ENABLED: 'true',
      JWT_SECRET: 'a-test-secret-that-is-at-least-32-bytes-long',
      RATE_LIMIT_ENABLED: 'true',
      RATE_LIMIT_PER_MINUTE: '120',
      FAULT_INJECTION_ENABLED: 'true',
    });
    expect(line).toMatchObject({ auth: 'on', rate_limit: 'on', rate_limit_per_minute: 120, fault_injection: 'on' });
    expect(JSON.stringify(line)).not.toContain('a-test-secret');
  });
});
