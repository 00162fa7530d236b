// Picks the bus from config: NATS when a server is configured, else the in-process bus.
import { systemClock, type Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Bus } from './bus.js';
import { createMemoryBus } from './memory.js';
import { createNatsBus } from './nats.js';

export { JetStreamUnavailableError, KvConflictError, type KvBucket, type KvBucketOptions, type KvEntry } from './kv.js';
export type { Bus, BusHandler, BusMessage, RequestOptions, SubscribeOptions, Subscription } from './bus.js';

export async function createBus(config: Config, logger: Logger, clock: Clock = systemClock): Promise<Bus> {
  const busLogger = logger.child({ component: 'bus' });
  // Handlers get the same grace on drain as the rest of shutdown.
  const drainTimeoutMs = config.shutdownGraceMs;
  if (config.natsUrl !== undefined) {
    return createNatsBus({ url: config.natsUrl, name: `aurora-${config.namespace}`, logger: busLogger, drainTimeoutMs, clock });
  }
  return createMemoryBus({ logger: busLogger, drainTimeoutMs, clock });
}
