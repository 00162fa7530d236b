import { describe, expect, it } from 'vitest';
import { CONFIG_FIELDS, ConfigError, loadConfig } from '../../runtime/config.js';

describe('loadConfig', () => {
  it('uses the documented defaults when the environment is empty', () => {
    const config = loadConfig({ env: {} });
    expect(config).toMatchObject({
      port: 8000,
      host: '127.0.0.1',
      natsUrl: undefined,
      redisUrl: undefined,
      ollamaHost: 'http://127.0.0.1:11434',
      ollamaIdleTimeoutMs: 300_000,
      ollamaMaxConcurrency: 32,
      databasePath: './data/aurora.db',
      logLevel: 'info',
      faultInjection: false,
    });
    expect(config.supervision).toEqual({ maxRestarts: 5, periodMs: 60_000, backoffBaseMs: 100, backoffMaxMs: 10_000 });
  });

  it('reads every variable from the environment it is given', () => {
    const config = loadConfig({
      env: {
        PORT: '9000',
        HOST: '0.0.0.0',
        NATS_URL: 'nats://127.0.0.1:4222',
        REDIS_URL: 'redis://127.0.0.1:6379',
        OLLAMA_HOST: 'http://ollama:11434',
        OLLAMA_IDLE_TIMEOUT_MS: '45000',
        OLLAMA_MAX_CONCURRENCY: '8',
        DATABASE_PATH: '/tmp/x.db',
        LOG_LEVEL: 'DEBUG',
        SUPERVISOR_MAX_RESTARTS: '2',
        FAULT_INJECTION_ENABLED: 'yes',
      },
    });
    expect(config).toMatchObject({
      port: 9000,
      host: '0.0.0.0',
      natsUrl: 'nats://127.0.0.1:4222',
      redisUrl: 'redis://127.0.0.1:6379',
      ollamaHost: 'http://ollama:11434',
      ollamaIdleTimeoutMs: 45_000,
      ollamaMaxConcurrency: 8,
      databasePath: '/tmp/x.db',
      logLevel: 'debug',
      faultInjection: true,
    });
    expect(config.supervision.maxRestarts).toBe(2);
  });

  it('lists every problem at once instead of stopping at the first', () => {
    let error: unknown;
    try {
      loadConfig({ env: { PORT: 'eighty', NATS_URL: 'http://x', LOG_LEVEL: 'loud', AGENT_MAILBOX_SIZE: '0' } });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(4);
    expect(problems.join('\n')).toMatch(/PORT must be an integer/);
    expect(problems.join('\n')).toMatch(/NATS_URL must use nats:/);
    expect(problems.join('\n')).toMatch(/LOG_LEVEL must be one of/);
    expect(problems.join('\n')).toMatch(/AGENT_MAILBOX_SIZE must be between 1/);
  });

  it('refuses a backoff ceiling below its base', () => {
    expect(() => loadConfig({ env: { SUPERVISOR_BACKOFF_BASE_MS: '500', SUPERVISOR_BACKOFF_MAX_MS: '100' } })).toThrow(
      /SUPERVISOR_BACKOFF_MAX_MS \(100\) must be at least SUPERVISOR_BACKOFF_BASE_MS \(500\)/,
    );
  });

  it('lets explicit overrides win over the environment and freezes the result', () => {
    const config = loadConfig({ env: { PORT: '9000' }, overrides: { port: 0, supervision: { maxRestarts: 1 } } });
    expect(config.port).toBe(0);
    expect(config.supervision.maxRestarts).toBe(1);
    expect(config.supervision.periodMs).toBe(60_000);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.supervision)).toBe(true);
  });

  it('runs gateway and node together by default, and refuses a split role without NATS to meet over', () => {
    expect(loadConfig({ env: {} }).role).toBe('all');
    expect(loadConfig({ env: { AURORA_ROLE: 'Gateway', NATS_URL: 'nats://127.0.0.1:4222' } }).role).toBe('gateway');
    expect(() => loadConfig({ env: { AURORA_ROLE: 'node' } })).toThrow(/AURORA_ROLE=node needs NATS_URL/);
    expect(() => loadConfig({ env: { AURORA_ROLE: 'worker', NATS_URL: 'nats://127.0.0.1:4222' } })).toThrow(
      /AURORA_ROLE must be one of all, gateway, node/,
    );
  });

  it('logs JSON unless told pretty, and retries the first connections a bounded number of times', () => {
    expect(loadConfig({ env: {} })).toMatchObject({ logFormat: 'json', connectAttempts: 10, connectRetryBaseMs: 500, connectRetryMaxMs: 5_000 });
    expect(loadConfig({ env: { LOG_FORMAT: 'pretty', CONNECT_ATTEMPTS: '1' } })).toMatchObject({ logFormat: 'pretty', connectAttempts: 1 });
    expect(() => loadConfig({ env: { LOG_FORMAT: 'xml' } })).toThrow(/LOG_FORMAT must be one of/);
    expect(() => loadConfig({ env: { CONNECT_ATTEMPTS: '0' } })).toThrow(/CONNECT_ATTEMPTS must be between 1/);
    expect(() => loadConfig({ env: { CONNECT_RETRY_BASE_MS: '2000', CONNECT_RETRY_MAX_MS: '1000' } })).toThrow(/CONNECT_RETRY_MAX_MS \(1000\) must be at least/);
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ env: { NATS_URL: '', PORT: '' } })).toMatchObject({ natsUrl: undefined, port: 8000 });
  });

  it('names a distinct environment variable for every field', () => {
    const names = Object.values(CONFIG_FIELDS).map((f) => f.env);
    expect(new Set(names).size).toBe(names.length);
  });
});
