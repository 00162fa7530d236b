// Picks the rate limiter from config: none when rate limiting is off, Redis (shared by every
// gateway process) when a server is configured, else the bounded in-memory limiter.
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { createMemoryRateLimiter } from './memory.js';
import type { RateLimiter } from './rate-limiter.js';
import { createRedisRateLimiter } from './redis.js';

export type { RateLimitDecision, RateLimiter } from './rate-limiter.js';

/** Rejects with AuroraError `unavailable` when Redis is configured but unreachable at start. */
export async function createRateLimiter(config: Config, logger: Logger, clock?: Clock): Promise<RateLimiter | undefined> {
  if (!config.rateLimitEnabled) return undefined;
  if (config.redisUrl === undefined) return createMemoryRateLimiter({ maxKeys: config.rateLimitMaxKeys, clock });
  const limiter = createRedisRateLimiter({
    url: config.redisUrl,
    keyPrefix: `${config.namespace}:rl:`,
    commandTimeoutMs: config.rateLimitTimeoutMs,
    logger: logger.child({ component: 'rate-limit' }),
    clock,
  });
  await limiter.connect();
  return limiter;
}
