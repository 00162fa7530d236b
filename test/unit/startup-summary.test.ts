import { describe, expect, it } from 'vitest';
import { startupSummary } from '../../bin/startup-summary.js';
import { loadConfig } from '../../runtime/config.js';

describe('startupSummary', () => {
  it('names the NATS and Redis servers without their credentials', () => {
    const config = loadConfig({
      env: { AURORA_ROLE: 'gateway', NATS_URL: 'nats://aurora:s3cret@nats:4222', REDIS_URL: 'redis://:hunter2@redis:6379/0' },
    });
    const line = startupSummary(config, { port: 8000, rateLimiting: false, runsStore: false });
    expect(line).toMatchObject({ role: 'gateway', port: 8000, bus: 'nats://nats:4222', cache: 'redis://redis:6379/0', store: 'none' });
    expect(JSON.stringify(line)).not.toMatch(/s3cret|hunter2|aurora:/);
  });
});
