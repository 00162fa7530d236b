// The gateway's rate-limit policy over the RateLimiter port: whom a request is counted against,
// which requests are exempt, what the headers say, and what a store outage means.
//
// Fail open: when the store (Redis) cannot answer, the request is served uncounted. Rate limiting
// protects capacity; an outage of its store must not become an outage of the API. Each such
// request increments aurora_rate_limit_fail_open_total, and a warning is logged at most once per
// FAIL_OPEN_LOG_INTERVAL_MS (with how many requests passed uncounted), so an outage under load
// cannot flood the logs.
import { createHash } from 'node:crypto';
import { systemClock, type Clock } from '../runtime/clock.js';
import { isAuroraError } from '../runtime/errors.js';
import type { Logger } from '../runtime/logger.js';
import type { Metrics } from '../runtime/metrics.js';
import type { RateLimiter } from '../runtime/rate-limit/rate-limiter.js';
import { addressBucket, clientAddress } from './client-address.js';
import type { Headers } from './http.js';
import { UI_PATH } from './ui-paths.js';

/** "Per minute": the sliding window every limit is counted over. */
export const RATE_LIMIT_WINDOW_MS = 60_000;
export const FAIL_OPEN_LOG_INTERVAL_MS = 10_000;
/** Subjects longer than this are hashed so a key stays small whatever the token carries. */
const MAX_SUBJECT_KEY_CHARS = 128;

/**
 * Probes must answer while a client (or the kubelet's node address) is over its budget. The
 * dashboard's static files cost nothing and are cached; counting them would spend an operator's
 * budget on loading the page rather than on the API calls it makes.
 */
export function isRateLimitExempt(routeLabel: string): boolean {
  return routeLabel === '/health' || routeLabel.startsWith('/health/') || routeLabel.startsWith(UI_PATH);
}

/** Who a request is counted against. */
export interface RateLimitCaller {
  /** The authenticated principal, when auth ran and accepted a token. */
  readonly principal: { readonly sub: string } | null;
  /** The socket peer as uWS reported it. */
  readonly peer: string | undefined;
  readonly headers: Headers;
}

export type RateLimitVerdict =
  | { readonly allowed: true; readonly headers: Readonly<Record<string, string>> }
  | { readonly allowed: false; readonly headers: Readonly<Record<string, string>>; readonly detail: string };

export interface RateLimitGate {
  /** Counts the request; never rejects for a store outage (that is a pass, see fail open above). */
  check(caller: RateLimitCaller, logger: Logger): Promise<RateLimitVerdict>;
  /** The bucket a caller is counted in: `sub:<subject>`, `ip:<v4>` or `ip6:<prefix>::/64`. */
  keyOf(caller: RateLimitCaller): string;
}

export interface RateLimitGateOptions {
  readonly limiter: RateLimiter;
  readonly limitPerMinute: number;
  readonly trustProxyHops: number;
  readonly metrics: Pick<Metrics, 'rateLimitFailOpen'>;
  readonly clock?: Clock;
}

const seconds = (ms: number) => Math.ceil(ms / 1000);

export function createRateLimitGate(options: RateLimitGateOptions): RateLimitGate {
  const { limiter, limitPerMinute: limit, trustProxyHops, metrics } = options;
  const clock = options.clock ?? systemClock;
  const detail = `Rate limit exceeded: ${limit} requests per minute`;
  let lastWarnAt = Number.NEGATIVE_INFINITY;
  let unwarned = 0;
  let failing = false;

  const keyOf = (caller: RateLimitCaller): string => {
    if (caller.principal !== null) {
      const sub = caller.principal.sub;
      return sub.length <= MAX_SUBJECT_KEY_CHARS ? `sub:${sub}` : `sub#${createHash('sha256').update(sub).digest('hex')}`;
    }
    return addressBucket(clientAddress(caller.peer, caller.headers['x-forwarded-for'], trustProxyHops));
  };

  return {
    keyOf,
    async check(caller, logger) {
      const key = keyOf(caller);
      let decision;
      try {
        decision = await limiter.hit(key, limit, RATE_LIMIT_WINDOW_MS);
      } catch (err) {
        // Anything but an outage is a defect of ours and must surface as one.
        if (!isAuroraError(err) || err.code !== 'unavailable') throw err;
        metrics.rateLimitFailOpen.inc();
        failing = true;
        unwarned++;
        const now = clock.now();
        if (now - lastWarnAt >= FAIL_OPEN_LOG_INTERVAL_MS) {
          logger.warn('rate limiter unavailable; letting requests through uncounted (fail open)', {
            limiter: limiter.kind,
            uncounted_since_last_warning: unwarned,
            err,
          });
          lastWarnAt = now;
          unwarned = 0;
        }
        return { allowed: true, headers: {} };
      }
      if (failing) {
        failing = false;
        logger.info('rate limiter is counting again', { limiter: limiter.kind, uncounted_since_last_warning: unwarned });
        unwarned = 0;
        lastWarnAt = Number.NEGATIVE_INFINITY;
      }
      const headers: Record<string, string> = {
        'ratelimit-limit': String(decision.limit),
        'ratelimit-remaining': String(decision.remaining),
        'ratelimit-reset': String(seconds(decision.resetMs)),
      };
      if (decision.allowed) return { allowed: true, headers };
      // At least 1: "retry in 0 seconds" invites a client to spin.
      headers['retry-after'] = String(Math.max(1, seconds(decision.resetMs)));
      return { allowed: false, headers, detail };
    },
  };
}
