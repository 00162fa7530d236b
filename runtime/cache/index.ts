// Picks the cache from config: Redis when a server is configured, else the in-memory cache.
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Cache } from './cache.js';
import { createMemoryCache } from './memory.js';
import { createRedisCache } from './redis.js';

export { getOrLoad, type Cache } from './cache.js';

/** Rejects with AuroraError `unavailable` when Redis is configured but unreachable at start. */
export async function createCache(config: Config, logger: Logger): Promise<Cache> {
  if (config.redisUrl === undefined) return createMemoryCache();
  const cache = createRedisCache({
    url: config.redisUrl,
    keyPrefix: `${config.namespace}:`,
    logger: logger.child({ component: 'cache' }),
  });
  await cache.connect();
  return cache;
}
