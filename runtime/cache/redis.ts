// The Redis Cache. A cache outage must cost callers a miss, not memory or latency: commands fail
// fast while Redis is down (see redis-connection.ts) and the connection comes back by itself.
import { AuroraError, describe } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { assertTtl, type Cache } from './cache.js';
import { openRedisConnection } from './redis-connection.js';

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
  const connection = openRedisConnection({
    url: options.url,
    keyPrefix: options.keyPrefix,
    maxRetriesPerRequest: 1,
    connectTimeoutMs: options.connectTimeoutMs ?? 5_000,
    commandTimeoutMs: options.commandTimeoutMs ?? 1_000,
    logger: options.logger ?? silentLogger,
    messages: { down: 'Redis unavailable; cache reads are misses until it is back', back: 'Redis is back' },
  });
  const { redis } = connection;

  const unavailable = (err: unknown): AuroraError =>
    new AuroraError('unavailable', `cache unavailable: ${describe(err)}`, { cause: err });

  return {
    kind: 'redis',

    connect: () => connection.connect(),

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

    async setIfAbsent(key, value, ttlMs) {
      assertTtl(ttlMs);
      try {
        return (await redis.set(key, JSON.stringify(value), 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX')) === 'OK';
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
      if (connection.isClosed()) return false;
      try {
        return (await redis.ping()) === 'PONG';
      } catch {
        return false;
      }
    },

    close: () => connection.close(),
  };
}
