// The Redis Cache (the only file that knows ioredis).
//
// Commands fail fast while Redis is down (no offline queue, one retry, a command timeout)
// instead of piling up: a cache outage must cost callers a miss, not memory or latency. The
// client keeps reconnecting in the background.
import { Redis } from 'ioredis';
import { AuroraError, describe } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { assertTtl, type Cache } from './cache.js';

export interface RedisCacheOptions {
  url: string;
  /** Prepended to every key, e.g. `${namespace}:`, so deployments sharing a Redis never collide. */
  keyPrefix: string;
  logger?: Logger;
  connectTimeoutMs?: number;
  commandTimeoutMs?: number;
}

export interface RedisCache extends Cache {
  /**
   * Opens the connection. Rejects with AuroraError `unavailable` (and stops retrying) when
   * Redis cannot be reached. Until it is called the cache is usable but every command fails
   * fast, which is what callers of getOrLoad see during an outage.
   */
  connect(): Promise<void>;
}

/** Builds the cache without connecting; see RedisCache.connect. */
export function createRedisCache(options: RedisCacheOptions): RedisCache {
  const logger = options.logger ?? silentLogger;
  const target = redact(options.url);
  const redis = new Redis(options.url, {
    keyPrefix: options.keyPrefix,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: options.connectTimeoutMs ?? 5_000,
    commandTimeout: options.commandTimeoutMs ?? 1_000,
  });
  let closed = false;
  // One warning per outage: the client emits an error on every reconnect attempt.
  let healthy = true;
  redis.on('error', (err: Error) => {
    if (closed) return;
    if (healthy) logger.warn('Redis unavailable; cache reads are misses until it is back', { url: target, err });
    healthy = false;
  });
  redis.on('ready', () => {
    if (!healthy) logger.info('Redis is back', { url: target });
    healthy = true;
  });

  const unavailable = (err: unknown): AuroraError =>
    new AuroraError('unavailable', `cache unavailable: ${describe(err)}`, { cause: err });

  return {
    kind: 'redis',

    async connect() {
      try {
        await redis.connect();
      } catch (err) {
        // Otherwise the client would go on retrying in the background after we gave up.
        redis.disconnect();
        throw new AuroraError('unavailable', `cannot connect to Redis at ${target}: ${describe(err)}`, { cause: err });
      }
    },

    async get<T>(key: string): Promise<T | undefined> {
      let raw: string | null;
      try {
        raw = await redis.get(key);
      } catch (err) {
        throw unavailable(err);
      }
      if (raw === null) return undefined;
      try {
        return JSON.parse(raw) as T;
      } catch {
        // Not written by us (or by an older format): as good as absent, the next set replaces it.
        return undefined;
      }
    },

    async set(key, value, ttlMs) {
      assertTtl(ttlMs);
      try {
        if (value === undefined || ttlMs <= 0) await redis.del(key);
        else await redis.set(key, JSON.stringify(value), 'PX', Math.max(1, Math.ceil(ttlMs)));
      } catch (err) {
        throw unavailable(err);
      }
    },

    async del(key) {
      try {
        await redis.del(key);
      } catch (err) {
        throw unavailable(err);
      }
    },

    async ping() {
      if (closed) return false;
      try {
        return (await redis.ping()) === 'PONG';
      } catch {
        return false;
      }
    },

    async close() {
      if (closed) return;
      closed = true;
      if (redis.status === 'ready') {
        try {
          await redis.quit();
          return;
        } catch {
          // Fall through to a hard disconnect.
        }
      }
      redis.disconnect();
    },
  };
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}
