// The one start-up line an operator reads first: which role, which port, where the bus, cache and
// store live, and whether the switches that change what clients may do (auth, rate limiting,
// fault injection) are on. URLs lose their credentials: log lines travel further than config does.
import type { Config } from '../runtime/config.js';
import type { LogFields } from '../runtime/logger.js';
import { withoutCredentials } from '../runtime/redact.js';

export interface StartupFacts {
  readonly port: number;
  readonly rateLimiting: boolean;
  readonly runsStore: boolean;
}

const onOff = (on: boolean) => (on ? 'on' : 'off');

export function startupSummary(config: Config, facts: StartupFacts): LogFields {
  return {
    role: config.role,
    port: facts.port,
    url: `http://${config.host}:${facts.port}`,
    auth: onOff(config.authEnabled),
    rate_limit: onOff(facts.rateLimiting),
    ...(facts.rateLimiting && { rate_limit_per_minute: config.rateLimitPerMinute }),
    fault_injection: onOff(config.faultInjection),
    bus: config.natsUrl === undefined ? 'embedded' : withoutCredentials(config.natsUrl),
    cache: config.redisUrl === undefined ? 'embedded' : withoutCredentials(config.redisUrl),
    store: facts.runsStore ? config.databasePath : 'none',
    ...(facts.runsStore && { ollama: withoutCredentials(config.ollamaHost) }),
  };
}
