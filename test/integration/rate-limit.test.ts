// One contract, two limiters: the in-memory limiter and the Redis script against the real Redis.
// Both read time from a manual clock (the Redis script takes "now" from its caller), so windows
// slide by moving the clock, never by waiting. Then the gateway's policy over the port: keying by
// token subject or client address, the header values, and failing open when Redis goes away
// (a private redis-server started and killed by the test).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRateLimitGate, FAIL_OPEN_LOG_INTERVAL_MS, RATE_LIMIT_WINDOW_MS, type RateLimitCaller } from '../../gateway/rate-limit.js';
import { startGateway } from '../../gateway/server.js';
import { createMemoryBus } from '../../runtime/bus/memory.js';
import { createMemoryCache } from '../../runtime/cache/memory.js';
import { createManualClock, systemClock } from '../../runtime/clock.js';
import { loadConfig } from '../../runtime/config.js';
import { AuroraError } from '../../runtime/errors.js';
import { createLogger, silentLogger } from '../../runtime/logger.js';
import { createMetrics, METRIC_NAMES } from '../../runtime/metrics.js';
import { createRateLimiter } from '../../runtime/rate-limit/index.js';
import { createMemoryRateLimiter } from '../../runtime/rate-limit/memory.js';
import type { RateLimiter } from '../../runtime/rate-limit/rate-limiter.js';
import { createRedisRateLimiter } from '../../runtime/rate-limit/redis.js';
import { serve } from '../../runtime/rpc.js';
import { createSubjects } from '../../runtime/subjects.js';
import { describeWithService, freePort, REDIS_URL, uniqueNamespace } from '../helpers/services.js';
import { TEST_KINDS } from '../helpers/kinds.js';

const MINUTE = RATE_LIMIT_WINDOW_MS;
const T0 = 1_800_000_000_000;

type ManualClock = ReturnType<typeof createManualClock>;

interface Harness {
  readonly limiter: RateLimiter;
  readonly clock: ManualClock;
  /** Another limiter over the same store (another gateway process), or undefined when the store is private. */
  twin(): Promise<RateLimiter | undefined>;
}

async function rejection(promise: Promise<unknown>): Promise<AuroraError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(AuroraError);
    return err as AuroraError;
  }
  throw new Error('expected a rejection');
}

function limiterContract(makeHarness: () => Promise<Harness>): void {
  let h: Harness;
  const opened: RateLimiter[] = [];

  beforeEach(async () => {
    h = await makeHarness();
    opened.push(h.limiter);
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((l) => l.close()));
  });

  it('allows exactly `limit` requests in a window, counting Remaining down, and refuses the next', async () => {
    const seen = [];
    for (let i = 0; i < 6; i++) seen.push(await h.limiter.hit('client', 5, MINUTE));
    expect(seen.map((d) => d.allowed)).toEqual([true, true, true, true, true, false]);
    expect(seen.map((d) => d.remaining)).toEqual([4, 3, 2, 1, 0, 0]);
    expect(seen.every((d) => d.limit === 5)).toBe(true);
    // All at the same instant: the first slot frees a whole window from now.
    expect(seen[5]!.resetMs).toBe(MINUTE);
  });

  it('slides: a slot frees exactly when the oldest counted request is a window old', async () => {
    await h.limiter.hit('slide', 3, MINUTE);
    h.clock.advance(10_000);
    await h.limiter.hit('slide', 3, MINUTE);
    h.clock.advance(10_000);
    const third = await h.limiter.hit('slide', 3, MINUTE);
    expect(third).toMatchObject({ allowed: true, remaining: 0, resetMs: 40_000 });

    h.clock.advance(39_999);
    expect(await h.limiter.hit('slide', 3, MINUTE)).toMatchObject({ allowed: false, remaining: 0, resetMs: 1 });
    h.clock.advance(1);
    // T0 left the window; T0+10s and T0+20s still count.
    expect(await h.limiter.hit('slide', 3, MINUTE)).toMatchObject({ allowed: true, remaining: 0, resetMs: 10_000 });
    expect(await h.limiter.hit('slide', 3, MINUTE)).toMatchObject({ allowed: false, resetMs: 10_000 });
  });

  it('never counts refused requests, so hammering past the limit does not push the client out further', async () => {
    await h.limiter.hit('hammer', 2, MINUTE);
    await h.limiter.hit('hammer', 2, MINUTE);
    for (let i = 0; i < 50; i++) {
      h.clock.advance(1_000);
      expect((await h.limiter.hit('hammer', 2, MINUTE)).allowed).toBe(false);
    }
    h.clock.advance(10_000);
    // Both counted requests aged out; had the 50 refusals counted, the window would still be full.
    expect(await h.limiter.hit('hammer', 2, MINUTE)).toMatchObject({ allowed: true, remaining: 1 });
  });

  it('keeps every key on its own budget', async () => {
    expect((await h.limiter.hit('a', 1, MINUTE)).allowed).toBe(true);
    expect((await h.limiter.hit('a', 1, MINUTE)).allowed).toBe(false);
    expect((await h.limiter.hit('b', 1, MINUTE)).allowed).toBe(true);
  });

  it('empties a window entirely once it has passed', async () => {
    for (let i = 0; i < 4; i++) await h.limiter.hit('idle', 4, MINUTE);
    h.clock.advance(MINUTE);
    expect(await h.limiter.hit('idle', 4, MINUTE)).toMatchObject({ allowed: true, remaining: 3, resetMs: MINUTE });
  });

  it('admits exactly `limit` of many concurrent hits, across every instance sharing the store', async () => {
    const twin = await h.twin();
    if (twin !== undefined) opened.push(twin);
    const limiters = twin === undefined ? [h.limiter] : [h.limiter, twin];
    const decisions = await Promise.all(Array.from({ length: 60 }, (_, i) => limiters[i % limiters.length]!.hit('crowd', 25, MINUTE)));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(25);
    expect(new Set(decisions.filter((d) => d.allowed).map((d) => d.remaining)).size).toBe(25);
  });

  it('refuses nonsense arguments as a programming error', async () => {
    await expect(h.limiter.hit('', 1, MINUTE)).rejects.toThrow(RangeError);
    await expect(h.limiter.hit('k', 0, MINUTE)).rejects.toThrow(RangeError);
    await expect(h.limiter.hit('k', 1.5, MINUTE)).rejects.toThrow(RangeError);
    await expect(h.limiter.hit('k', 1, 0)).rejects.toThrow(RangeError);
  });

  it("answers 'unavailable' once closed", async () => {
    await h.limiter.close();
    expect((await rejection(h.limiter.hit('k', 1, MINUTE))).code).toBe('unavailable');
  });
}

describe('in-memory rate limiter', () => {
  limiterContract(async () => {
    const clock = createManualClock(T0);
    return { limiter: createMemoryRateLimiter({ maxKeys: 1_000, clock }), clock, twin: async () => undefined };
  });

  it('tracks at most maxKeys clients, forgetting the one seen longest ago', async () => {
    const clock = createManualClock(T0);
    const limiter = createMemoryRateLimiter({ maxKeys: 3, clock });
    for (const k of ['a', 'b', 'c']) await limiter.hit(k, 1, MINUTE);
    // 'a' is seen again (refused), so 'b' is now the least recent.
    expect((await limiter.hit('a', 1, MINUTE)).allowed).toBe(false);
    await limiter.hit('d', 1, MINUTE);
    expect(limiter.size()).toBe(3);
    expect((await limiter.hit('a', 1, MINUTE)).allowed).toBe(false);
    expect((await limiter.hit('c', 1, MINUTE)).allowed).toBe(false);
    // Forgotten: a fresh budget.
    expect((await limiter.hit('b', 1, MINUTE)).allowed).toBe(true);
    await limiter.close();
  });

  it('drops clients whose window has emptied as new clients arrive, without a timer', async () => {
    const clock = createManualClock(T0);
    const limiter = createMemoryRateLimiter({ maxKeys: 10_000, clock });
    for (let i = 0; i < 100; i++) await limiter.hit(`old${i}`, 5, MINUTE);
    clock.advance(MINUTE);
    for (let i = 0; i < 20; i++) await limiter.hit(`new${i}`, 5, MINUTE);
    expect(limiter.size()).toBe(20);
    await limiter.close();
  });

  it('is what createRateLimiter returns without a Redis URL, and nothing when rate limiting is off', async () => {
    expect(await createRateLimiter(loadConfig({ env: {} }), silentLogger)).toBeUndefined();
    const limiter = await createRateLimiter(loadConfig({ env: { RATE_LIMIT_ENABLED: 'true' } }), silentLogger);
    expect(limiter?.kind).toBe('memory');
    await limiter?.close();
  });
});

describe('gateway rate-limit policy', () => {
  const peer = (ip: string, extra: Partial<RateLimitCaller> = {}): RateLimitCaller => ({ principal: null, peer: ip, headers: {}, ...extra });

  function gate(limit: number, trustProxyHops = 0) {
    const clock = createManualClock(T0);
    const limiter = createMemoryRateLimiter({ maxKeys: 100, clock });
    const metrics = createMetrics({ defaultMetrics: false });
    return { clock, limiter, metrics, gate: createRateLimitGate({ limiter, limitPerMinute: limit, trustProxyHops, metrics, clock }) };
  }

  it('counts an authenticated caller by token subject, whatever address it comes from', async () => {
    const { gate: g, limiter } = gate(2);
    const alice = { principal: { sub: 'alice' } };
    expect((await g.check(peer('10.0.0.1', alice), silentLogger)).allowed).toBe(true);
    expect((await g.check(peer('10.0.0.2', alice), silentLogger)).allowed).toBe(true);
    expect((await g.check(peer('10.0.0.3', alice), silentLogger)).allowed).toBe(false);
    // Same address, other subject or no token: other buckets.
    expect((await g.check(peer('10.0.0.1', { principal: { sub: 'bob' } }), silentLogger)).allowed).toBe(true);
    expect((await g.check(peer('10.0.0.1'), silentLogger)).allowed).toBe(true);
    expect(g.keyOf(peer('10.0.0.1', alice))).toBe('sub:alice');
    expect(g.keyOf(peer('10.0.0.1', { principal: { sub: 'x'.repeat(500) } }))).toMatch(/^sub#[0-9a-f]{64}$/);
    await limiter.close();
  });

  it('counts an anonymous caller by socket address, ignoring X-Forwarded-For unless proxies are trusted', async () => {
    const { gate: g, limiter } = gate(1);
    const spoof = (xff: string) => peer('203.0.113.7', { headers: { 'x-forwarded-for': xff } });
    expect((await g.check(spoof('1.1.1.1'), silentLogger)).allowed).toBe(true);
    expect((await g.check(spoof('2.2.2.2'), silentLogger)).allowed).toBe(false);
    expect(g.keyOf(spoof('2.2.2.2'))).toBe('ip:203.0.113.7');
    // uWS spells IPv4 clients of a dual-stack socket as mapped IPv6: the same client either way.
    expect(g.keyOf(peer('0000:0000:0000:0000:0000:ffff:cb00:7107'))).toBe('ip:203.0.113.7');
    await limiter.close();
  });

  it('believes only the X-Forwarded-For entries the trusted proxies wrote', async () => {
    const one = gate(1, 1).gate;
    const via = (xff: string | undefined): RateLimitCaller => ({
      principal: null,
      peer: '10.0.0.254',
      headers: xff === undefined ? {} : { 'x-forwarded-for': xff },
    });
    expect(one.keyOf(via('198.51.100.4'))).toBe('ip:198.51.100.4');
    // The client prepended a lie; the proxy appended the truth.
    expect(one.keyOf(via('6.6.6.6, 198.51.100.4'))).toBe('ip:198.51.100.4');
    expect(one.keyOf(via(undefined))).toBe('ip:10.0.0.254');
    expect(one.keyOf(via('not-an-address'))).toBe('ip:10.0.0.254');
    const two = gate(1, 2).gate;
    expect(two.keyOf(via('6.6.6.6, 198.51.100.4, 10.0.0.9'))).toBe('ip:198.51.100.4');
    expect(two.keyOf(via('[2001:db8::1]:443, 10.0.0.9'))).toBe('ip6:2001:0db8:0000:0000::/64');
  });

  it('puts every address of one IPv6 /64 in one bucket', async () => {
    const { gate: g, limiter } = gate(1);
    expect((await g.check(peer('2001:0db8:0001:0002:0000:0000:0000:0001'), silentLogger)).allowed).toBe(true);
    expect((await g.check(peer('2001:0db8:0001:0002:ffff:1234:5678:9abc'), silentLogger)).allowed).toBe(false);
    expect((await g.check(peer('2001:0db8:0001:0003:0000:0000:0000:0001'), silentLogger)).allowed).toBe(true);
    await limiter.close();
  });

  it('sends RateLimit-* on allowed answers and Retry-After equal to RateLimit-Reset on a refusal', async () => {
    const { gate: g, clock, limiter } = gate(3);
    const caller = peer('192.0.2.1');
    expect((await g.check(caller, silentLogger)).headers).toEqual({ 'ratelimit-limit': '3', 'ratelimit-remaining': '2', 'ratelimit-reset': '60' });
    clock.advance(1_000);
    await g.check(caller, silentLogger);
    clock.advance(1_500);
    expect((await g.check(caller, silentLogger)).headers).toEqual({ 'ratelimit-limit': '3', 'ratelimit-remaining': '0', 'ratelimit-reset': '58' });
    const refused = await g.check(caller, silentLogger);
    expect(refused).toEqual({
      allowed: false,
      detail: 'Rate limit exceeded: 3 requests per minute',
      headers: { 'ratelimit-limit': '3', 'ratelimit-remaining': '0', 'ratelimit-reset': '58', 'retry-after': '58' },
    });
    // Waiting exactly Retry-After seconds is enough.
    clock.advance(58 * 1000);
    expect((await g.check(caller, silentLogger)).allowed).toBe(true);
    await limiter.close();
  });

  it('never tells a refused client to retry in 0 seconds', async () => {
    const { gate: g, clock, limiter } = gate(1);
    await g.check(peer('192.0.2.2'), silentLogger);
    clock.advance(MINUTE - 1);
    expect((await g.check(peer('192.0.2.2'), silentLogger)).headers['retry-after']).toBe('1');
    await limiter.close();
  });

  it('lets a defect of the limiter surface instead of failing open', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const broken: RateLimiter = { kind: 'memory', hit: async () => Promise.reject(new TypeError('bug')), close: async () => {} };
    const g = createRateLimitGate({ limiter: broken, limitPerMinute: 1, trustProxyHops: 0, metrics });
    await expect(g.check(peer('192.0.2.3'), silentLogger)).rejects.toThrow(TypeError);
    expect((await metrics.registry.getSingleMetric(METRIC_NAMES.rateLimitFailOpen)!.get()).values[0]?.value ?? 0).toBe(0);
  });
});

await describeWithService('Redis', REDIS_URL, 'Redis rate limiter', () => {
  const filePrefix = uniqueNamespace('rl');
  const raw = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });

  afterAll(async () => {
    const keys = await raw.keys(`${filePrefix}*`);
    if (keys.length > 0) await raw.del(...keys);
    await raw.quit();
  });

  const connected = async (keyPrefix: string, clock: ManualClock, commandTimeoutMs = 5_000) => {
    const limiter = createRedisRateLimiter({ url: REDIS_URL, keyPrefix, commandTimeoutMs, clock });
    await limiter.connect();
    return limiter;
  };

  limiterContract(async () => {
    const clock = createManualClock(T0);
    const keyPrefix = `${uniqueNamespace(filePrefix)}:`;
    return { limiter: await connected(keyPrefix, clock), clock, twin: () => connected(keyPrefix, clock) };
  });

  it('shares one count between two limiters on one Redis, as two gateway processes would', async () => {
    const clock = createManualClock(T0);
    const keyPrefix = `${uniqueNamespace(filePrefix)}:`;
    const a = await connected(keyPrefix, clock);
    const b = await connected(keyPrefix, clock);
    try {
      expect(await a.hit('ip:192.0.2.9', 3, MINUTE)).toMatchObject({ allowed: true, remaining: 2 });
      expect(await b.hit('ip:192.0.2.9', 3, MINUTE)).toMatchObject({ allowed: true, remaining: 1 });
      expect(await a.hit('ip:192.0.2.9', 3, MINUTE)).toMatchObject({ allowed: true, remaining: 0 });
      expect(await b.hit('ip:192.0.2.9', 3, MINUTE)).toMatchObject({ allowed: false, remaining: 0 });
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('stores one sorted set per key under the prefix, never more than `limit` entries, expiring a window after its newest', async () => {
    const clock = createManualClock(Date.now());
    const keyPrefix = `${uniqueNamespace(filePrefix)}:`;
    const limiter = await connected(keyPrefix, clock);
    try {
      for (let i = 0; i < 10; i++) await limiter.hit('k', 4, 2_000);
      expect(await raw.type(`${keyPrefix}k`)).toBe('zset');
      expect(await raw.zcard(`${keyPrefix}k`)).toBe(4);
      const pttl = await raw.pttl(`${keyPrefix}k`);
      expect(pttl).toBeGreaterThan(0);
      expect(pttl).toBeLessThanOrEqual(2_000);
    } finally {
      await limiter.close();
    }
  });

  it('keeps deployments with different prefixes apart', async () => {
    const clock = createManualClock(T0);
    const a = await connected(`${uniqueNamespace(filePrefix)}:`, clock);
    const b = await connected(`${uniqueNamespace(filePrefix)}:`, clock);
    try {
      expect((await a.hit('k', 1, MINUTE)).allowed).toBe(true);
      expect((await b.hit('k', 1, MINUTE)).allowed).toBe(true);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('is what createRateLimiter returns with a Redis URL, keyed under <namespace>:rl:', async () => {
    const namespace = uniqueNamespace(filePrefix);
    const limiter = await createRateLimiter(
      loadConfig({ env: { RATE_LIMIT_ENABLED: 'true', REDIS_URL, AURORA_NAMESPACE: namespace } }),
      silentLogger,
    );
    try {
      expect(limiter?.kind).toBe('redis');
      await limiter!.hit('ip:192.0.2.10', 5, MINUTE);
      expect(await raw.zcard(`${namespace}:rl:ip:192.0.2.10`)).toBe(1);
    } finally {
      await limiter?.close();
    }
  });

  it("refuses to start with 'unavailable' when Redis cannot be reached", async () => {
    const port = await freePort();
    const err = await rejection(createRateLimiter(loadConfig({ env: { RATE_LIMIT_ENABLED: 'true', REDIS_URL: `redis://127.0.0.1:${port}` } }), silentLogger));
    expect(err.code).toBe('unavailable');
  });

  describe('when Redis goes away mid-flight', () => {
    let server: ChildProcess | undefined;
    let url: string;

    /** A redis-server of the test's own, on a free port, resolved once it accepts connections. */
    async function startRedis(port: number): Promise<ChildProcess> {
      const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      await new Promise<void>((resolve, reject) => {
        child.once('error', reject);
        child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${out}`)));
        child.stdout!.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes('Ready to accept connections')) resolve();
        });
      });
      child.removeAllListeners('exit');
      return child;
    }

    async function kill(child: ChildProcess): Promise<void> {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    }

    beforeEach(async () => {
      const port = await freePort();
      url = `redis://127.0.0.1:${port}`;
      server = await startRedis(port);
    });

    afterEach(async () => {
      if (server !== undefined) await kill(server);
    });

    it("rejects hits with 'unavailable', promptly, instead of queueing them", async () => {
      const limiter = createRedisRateLimiter({ url, keyPrefix: 'rl:', commandTimeoutMs: 1_000 });
      try {
        await limiter.connect();
        expect((await limiter.hit('k', 5, MINUTE)).allowed).toBe(true);
        await kill(server!);
        for (let i = 0; i < 3; i++) expect((await rejection(limiter.hit('k', 5, MINUTE))).code).toBe('unavailable');
      } finally {
        await limiter.close();
      }
    });

    it('fails open: requests pass uncounted, the metric counts each one, and the warning is rate-limited', async () => {
      const clock = createManualClock(T0);
      const limiter = createRedisRateLimiter({ url, keyPrefix: 'rl:', commandTimeoutMs: 1_000, clock });
      const lines: Record<string, unknown>[] = [];
      const logger = createLogger('debug', {}, (line) => lines.push(JSON.parse(line) as Record<string, unknown>));
      const metrics = createMetrics({ defaultMetrics: false });
      const g = createRateLimitGate({ limiter, limitPerMinute: 1, trustProxyHops: 0, metrics, clock });
      const failOpen = async () => (await metrics.registry.getSingleMetric(METRIC_NAMES.rateLimitFailOpen)!.get()).values[0]?.value ?? 0;
      const caller: RateLimitCaller = { principal: null, peer: '192.0.2.20', headers: {} };
      try {
        await limiter.connect();
        expect((await g.check(caller, logger)).allowed).toBe(true);
        expect((await g.check(caller, logger)).allowed).toBe(false);
        await kill(server!);

        for (let i = 0; i < 5; i++) {
          const verdict = await g.check(caller, logger.child({ request_id: `r${i}` }));
          // Passed, and without RateLimit-* headers: nothing was counted, so they would be lies.
          expect(verdict).toEqual({ allowed: true, headers: {} });
        }
        expect(await failOpen()).toBe(5);
        let warnings = lines.filter((l) => l.level === 'warn' && String(l.msg).includes('fail open'));
        expect(warnings).toHaveLength(1);
        expect(warnings[0]).toMatchObject({ request_id: 'r0', limiter: 'redis', uncounted_since_last_warning: 1 });

        clock.advance(FAIL_OPEN_LOG_INTERVAL_MS);
        await g.check(caller, logger.child({ request_id: 'r5' }));
        warnings = lines.filter((l) => l.level === 'warn' && String(l.msg).includes('fail open'));
        expect(warnings).toHaveLength(2);
        expect(warnings[1]).toMatchObject({ request_id: 'r5', uncounted_since_last_warning: 5 });
        expect(await failOpen()).toBe(6);
      } finally {
        await limiter.close();
      }
    });

    it('counts again once Redis is back', async () => {
      const port = Number(new URL(url).port);
      const clock = createManualClock(T0);
      const limiter = createRedisRateLimiter({ url, keyPrefix: 'rl:', commandTimeoutMs: 1_000, clock });
      const lines: string[] = [];
      const metrics = createMetrics({ defaultMetrics: false });
      const g = createRateLimitGate({ limiter, limitPerMinute: 1, trustProxyHops: 0, metrics, clock });
      const caller: RateLimitCaller = { principal: null, peer: '192.0.2.21', headers: {} };
      const logger = createLogger('debug', {}, (line) => lines.push(line));
      try {
        await limiter.connect();
        await kill(server!);
        expect((await g.check(caller, logger)).headers).toEqual({});
        server = await startRedis(port);
        // The client reconnects on its own schedule; nothing to await but its answers.
        const deadline = Date.now() + 15_000;
        let verdict = await g.check(caller, logger);
        while (verdict.headers['ratelimit-limit'] === undefined && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 50));
          verdict = await g.check(caller, logger);
        }
        expect(verdict).toMatchObject({ allowed: true, headers: { 'ratelimit-remaining': '0' } });
        expect((await g.check(caller, logger)).allowed).toBe(false);
        expect(lines.some((l) => l.includes('rate limiter is counting again'))).toBe(true);
      } finally {
        await limiter.close();
      }
    });

    it('keeps the gateway answering on the wire while its Redis is down', async () => {
      const limiter = createRedisRateLimiter({ url, keyPrefix: 'rl:', commandTimeoutMs: 1_000 });
      const lines: Record<string, unknown>[] = [];
      const logger = createLogger('debug', {}, (line) => lines.push(JSON.parse(line) as Record<string, unknown>));
      const metrics = createMetrics({ defaultMetrics: false });
      const bus = createMemoryBus();
      const subjects = createSubjects(uniqueNamespace('rlwire'));
      const sub = serve(bus, subjects.registry('list'), () => ({ agents: [], next_cursor: null }));
      await limiter.connect();
      const gateway = await startGateway({
        host: '127.0.0.1',
        port: 0,
        bus,
        subjects,
        config: loadConfig({ env: {}, overrides: { rateLimitEnabled: true, rateLimitPerMinute: 1 } }),
        kinds: TEST_KINDS,
        metrics,
        logger,
        cache: createMemoryCache(),
        rateLimiter: limiter,
        clock: systemClock,
        startedAt: Date.now(),
        version: 'test',
      });
      try {
        const base = `http://127.0.0.1:${gateway.port}/api/v1/agents`;
        const first = await fetch(base);
        expect(first.status).toBe(200);
        expect(first.headers.get('ratelimit-remaining')).toBe('0');
        expect((await fetch(base)).status).toBe(429);
        await kill(server!);
        const open = await fetch(base, { headers: { 'x-request-id': 'while-redis-down' } });
        expect(open.status).toBe(200);
        expect(open.headers.get('ratelimit-limit')).toBeNull();
        expect(await open.json()).toEqual([]);
        const failOpen = (await metrics.registry.getSingleMetric(METRIC_NAMES.rateLimitFailOpen)!.get()).values[0]?.value;
        expect(failOpen).toBe(1);
        expect(lines.find((l) => String(l.msg).includes('fail open'))).toMatchObject({ level: 'warn', request_id: 'while-redis-down' });
      } finally {
        await gateway.close();
        sub.unsubscribe();
        await bus.drain();
        await limiter.close();
      }
    });
  });
});
