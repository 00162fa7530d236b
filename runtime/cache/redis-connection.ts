// The one place a Redis connection is opened (ioredis lives here). Commands fail fast while Redis
// is down (no offline queue, a command timeout) instead of piling up, the client reconnects in the
// background, and an outage is logged once when it starts and once when it ends.
import { Redis } from 'ioredis';
import { AuroraError, describe } from '../errors.js';
import type { Logger } from '../logger.js';
import { redactUrl } from '../redact.js';

export type { Redis } from 'ioredis';

export interface RedisConnectionOptions {
  url: string;
  keyPrefix: string;
  commandTimeoutMs: number;
  connectTimeoutMs?: number;
  /** 0 for commands that must never be replayed on a new connection. */
  maxRetriesPerRequest: number;
  logger: Logger;
  messages: { down: string; back: string };
}

export interface RedisConnection {
  readonly redis: Redis;
  /** The URL without its password. */
  readonly target: string;
  /** Rejects with AuroraError `unavailable` (and stops retrying) when Redis cannot be reached. */
  connect(): Promise<void>;
  isClosed(): boolean;
  close(): Promise<void>;
}

export function openRedisConnection(options: RedisConnectionOptions): RedisConnection {
  const target = redactUrl(options.url);
  const redis = new Redis(options.url, {
    keyPrefix: options.keyPrefix,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: options.maxRetriesPerRequest,
    connectTimeout: options.connectTimeoutMs ?? 5_000,
    commandTimeout: options.commandTimeoutMs,
  });
  let closed = false;
  // The client emits an error on every reconnect attempt: warn once per outage.
  let healthy = true;
  redis.on('error', (err: Error) => {
    if (closed) return;
    if (healthy) options.logger.warn(options.messages.down, { url: target, err });
    healthy = false;
  });
  redis.on('ready', () => {
    if (!healthy) options.logger.info(options.messages.back, { url: target });
    healthy = true;
  });
  return {
    redis,
    target,
    async connect() {
      try {
        await redis.connect();
      } catch (err) {
        // Otherwise the client would go on retrying in the background after we gave up.
        redis.disconnect();
        throw new AuroraError('unavailable', `cannot connect to Redis at ${target}: ${describe(err)}`, { cause: err });
      }
    },
    isClosed: () => closed,
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
