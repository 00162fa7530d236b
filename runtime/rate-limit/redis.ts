// The Redis RateLimiter: one count shared by every gateway process. Each hit is ONE Lua script
// (EVALSHA, loaded on first use), so trimming, counting and recording are atomic: two gateways
// hitting the same key at once can never both take the last slot.
//
// Its own connection rather than the cache's, because it sits on every request's path: its
// command timeout is the latency a Redis outage may add to a request before the gateway fails
// open, and that must be much tighter than a cache read's. Like the cache it fails fast while
// Redis is down (no offline queue) and reconnects in the background.
//
// Time comes from the caller's clock, not Redis TIME, so tests can slide the window without
// waiting. Gateways whose clocks disagree by d ms disagree about window edges by d ms, which is
// noise against a one-minute window on NTP-synced hosts.
import { randomBytes } from 'node:crypto';
import { openRedisConnection, type Redis } from '../cache/redis-connection.js';
import { systemClock, type Clock } from '../clock.js';
import { AuroraError, describe } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { assertHitArgs, decide, type RateLimitDecision, type RateLimiter } from './rate-limiter.js';

export interface RedisRateLimiterOptions {
  url: string;
  /** Prepended to every key, e.g. `${namespace}:rl:`, so deployments sharing a Redis never collide. */
  keyPrefix: string;
  /** Longest a hit may wait on Redis before it is rejected as `unavailable`. */
  commandTimeoutMs: number;
  connectTimeoutMs?: number;
  logger?: Logger;
  clock?: Clock;
}

export interface RedisRateLimiter extends RateLimiter {
  /** Opens the connection; rejects with AuroraError `unavailable` (and stops retrying) when Redis cannot be reached. */
  connect(): Promise<void>;
}

// KEYS[1]: the key's sorted set (score = arrival ms). ARGV: now ms, window ms, limit, a unique member.
// Returns {allowed 0|1, count after this hit, oldest counted arrival ms}.
// Refused hits are not recorded, and the key expires one window after its newest entry, so an
// abandoned key costs nothing and a key never holds more than `limit` entries.
const HIT_SCRIPT = `
local key = KEYS[1]
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local count = redis.call('ZCARD', key)
local allowed = 0
if count < limit then
  redis.call('ZADD', key, now, ARGV[4])
  redis.call('PEXPIRE', key, window)
  count = count + 1
  allowed = 1
end
local oldest = now
local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
if first[2] then oldest = tonumber(first[2]) end
return {allowed, count, oldest}
`;

type HitReply = [number, number, number];
type WithHit = Redis & { auroraRateLimitHit(key: string, now: number, windowMs: number, limit: number, member: string): Promise<HitReply> };

/** Builds the limiter without connecting; see RedisRateLimiter.connect. */
export function createRedisRateLimiter(options: RedisRateLimiterOptions): RedisRateLimiter {
  const logger = options.logger ?? silentLogger;
  const clock = options.clock ?? systemClock;
  const connection = openRedisConnection({
    url: options.url,
    keyPrefix: options.keyPrefix,
    // A hit is not idempotent (it records the request): never replay it on a new connection.
    maxRetriesPerRequest: 0,
    connectTimeoutMs: options.connectTimeoutMs ?? 5_000,
    commandTimeoutMs: options.commandTimeoutMs,
    logger,
    messages: { down: 'Redis unavailable to the rate limiter', back: 'Redis is back for the rate limiter' },
  });
  const redis = connection.redis as WithHit;
  redis.defineCommand('auroraRateLimitHit', { numberOfKeys: 1, lua: HIT_SCRIPT });
  // Members must be unique across every gateway sharing the key: two hits in the same
  // millisecond are two requests.
  const instance = randomBytes(6).toString('hex');
  let seq = 0;
  return {
    kind: 'redis',

    connect: () => connection.connect(),

    async hit(key, limit, windowMs): Promise<RateLimitDecision> {
      if (connection.isClosed()) throw new AuroraError('unavailable', 'rate limiter is closed');
      assertHitArgs(key, limit, windowMs);
      // Whole milliseconds: Lua numbers round-trip to Redis integers.
      const now = Math.floor(clock.now());
      let reply: HitReply;
      try {
        reply = await redis.auroraRateLimitHit(key, now, windowMs, limit, `${now}:${instance}:${++seq}`);
      } catch (err) {
        throw new AuroraError('unavailable', `rate limiter unavailable: ${describe(err)}`, { cause: err });
      }
      const [allowed, count, oldest] = reply;
      return decide(allowed === 1, limit, count, oldest, now, windowMs);
    },

    close: () => connection.close(),
  };
}
