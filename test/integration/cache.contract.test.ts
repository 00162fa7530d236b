// One contract, two caches: the in-memory cache (time moved by a manual clock) and real Redis
// (short real TTLs, bounded polling). Each Redis test gets its own key prefix.
import { connect, createServer, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { getOrLoad, type Cache } from '../../runtime/cache/cache.js';
import { createCache } from '../../runtime/cache/index.js';
import { createMemoryCache } from '../../runtime/cache/memory.js';
import { createRedisCache } from '../../runtime/cache/redis.js';
import { createManualClock } from '../../runtime/clock.js';
import { loadConfig } from '../../runtime/config.js';
import { AuroraError } from '../../runtime/errors.js';
import { silentLogger } from '../../runtime/logger.js';
import { describeWithService, freePort, REDIS_URL, uniqueNamespace } from '../helpers/services.js';

interface Harness {
  cache: Cache;
  /** A TTL short enough to watch expire. */
  shortTtlMs: number;
  /** Lets `shortTtlMs` pass; resolves true once `expired()` holds, false if it never does within a bound. */
  outlive(expired: () => Promise<boolean>): Promise<boolean>;
  /** A cache of the same kind whose backend is unreachable; created without failing. */
  broken(): Promise<Cache>;
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

function counting<T>(value: T): { loader: () => Promise<T>; calls: () => number } {
  let calls = 0;
  return {
    loader: async () => {
      calls++;
      return value;
    },
    calls: () => calls,
  };
}

function cacheContract(makeHarness: () => Promise<Harness>): void {
  let h: Harness;
  let cache: Cache;

  beforeEach(async () => {
    h = await makeHarness();
    cache = h.cache;
  });

  afterEach(async () => {
    await cache.close();
  });

  it('stores, reads back a copy, and deletes structured values', async () => {
    const value = { name: 'llama3 — ü 🚀', sizes: [1, 2.5], nested: { ok: true, none: null } };
    await cache.set('models', value, 60_000);
    const got = await cache.get<typeof value>('models');
    expect(got).toEqual(value);
    got!.sizes.push(99);
    expect(await cache.get('models')).toEqual(value);
    await cache.del('models');
    expect(await cache.get('models')).toBeUndefined();
    await cache.del('never-set');
  });

  it('keeps falsy values apart from a miss', async () => {
    for (const [key, value] of [['zero', 0], ['empty', ''], ['no', false], ['nothing', null]] as const) {
      await cache.set(key, value, 60_000);
      expect(await cache.get(key)).toBe(value);
    }
    expect(await cache.get('absent')).toBeUndefined();
  });

  it('overwrites a key and treats undefined or a non-positive TTL as removal', async () => {
    await cache.set('k', 1, 60_000);
    await cache.set('k', 2, 60_000);
    expect(await cache.get('k')).toBe(2);
    await cache.set('k', undefined, 60_000);
    expect(await cache.get('k')).toBeUndefined();
    await cache.set('k', 3, 60_000);
    await cache.set('k', 4, 0);
    expect(await cache.get('k')).toBeUndefined();
  });

  it('forgets an entry once its TTL has passed while a longer-lived one stays', async () => {
    await cache.set('short', 'soon gone', h.shortTtlMs);
    await cache.set('long', 'stays', 60_000);
    expect(await cache.get('short')).toBe('soon gone');
    const expired = await h.outlive(async () => (await cache.get('short')) === undefined);
    expect(expired).toBe(true);
    expect(await cache.get('long')).toBe('stays');
  });

  it('getOrLoad calls the loader once and serves the cached copy afterwards', async () => {
    const { loader, calls } = counting({ list: ['a', 'b'] });
    const first = await getOrLoad(cache, 'list', 60_000, loader);
    const second = await getOrLoad(cache, 'list', 60_000, loader);
    expect(first).toEqual({ list: ['a', 'b'] });
    expect(second).toEqual(first);
    expect(calls()).toBe(1);
  });

  it('getOrLoad loads again after the entry expired', async () => {
    const { loader, calls } = counting('v');
    await getOrLoad(cache, 'again', h.shortTtlMs, loader);
    expect(await h.outlive(async () => (await cache.get('again')) === undefined)).toBe(true);
    await getOrLoad(cache, 'again', h.shortTtlMs, loader);
    expect(calls()).toBe(2);
  });

  it("getOrLoad passes the loader's own error through and caches nothing", async () => {
    await expect(getOrLoad(cache, 'fails', 60_000, () => Promise.reject(new Error('loader down')))).rejects.toThrow('loader down');
    expect(await cache.get('fails')).toBeUndefined();
  });

  it('getOrLoad treats an unreachable cache as a miss and still returns the loaded value', async () => {
    const broken = await h.broken();
    try {
      expect((await rejection(broken.get('x'))).code).toBe('unavailable');
      expect((await rejection(broken.set('x', 1, 1_000))).code).toBe('unavailable');
      const { loader, calls } = counting({ fresh: true });
      expect(await getOrLoad(broken, 'x', 60_000, loader)).toEqual({ fresh: true });
      expect(await getOrLoad(broken, 'x', 60_000, loader)).toEqual({ fresh: true });
      expect(calls()).toBe(2);
      expect(await broken.ping()).toBe(false);
    } finally {
      await broken.close();
    }
  });

  it('pings true while open and false after close, and refuses work once closed', async () => {
    expect(await cache.ping()).toBe(true);
    await cache.close();
    expect(await cache.ping()).toBe(false);
    expect((await rejection(cache.get('k'))).code).toBe('unavailable');
    await cache.close();
  });

  it('rejects a TTL that is not a finite number', async () => {
    await expect(cache.set('k', 1, Number.POSITIVE_INFINITY)).rejects.toThrow(RangeError);
    await expect(cache.set('k', 1, Number.NaN)).rejects.toThrow(RangeError);
  });
}

describe('in-memory cache', () => {
  cacheContract(async () => {
    const clock = createManualClock(1_000_000);
    const shortTtlMs = 1_000;
    return {
      cache: createMemoryCache({ clock }),
      shortTtlMs,
      async outlive(expired) {
        clock.advance(shortTtlMs);
        return expired();
      },
      async broken() {
        const dead = createMemoryCache();
        await dead.close();
        return dead;
      },
    };
  });

  it('keeps an entry until the last millisecond of its TTL', async () => {
    const clock = createManualClock(0);
    const cache = createMemoryCache({ clock });
    await cache.set('k', 'v', 500);
    clock.advance(499);
    expect(await cache.get('k')).toBe('v');
    clock.advance(1);
    expect(await cache.get('k')).toBeUndefined();
  });

  it('holds at most maxEntries, evicting the entry written longest ago', async () => {
    const cache = createMemoryCache({ maxEntries: 3 });
    for (const k of ['a', 'b', 'c']) await cache.set(k, k, 60_000);
    await cache.set('a', 'a2', 60_000);
    await cache.set('d', 'd', 60_000);
    expect(await cache.get('b')).toBeUndefined();
    expect(await cache.get('a')).toBe('a2');
    expect(await cache.get('c')).toBe('c');
    expect(await cache.get('d')).toBe('d');
    for (let i = 0; i < 100; i++) await cache.set(`k${i}`, i, 60_000);
    const present = await Promise.all(['a', 'c', 'd', ...Array.from({ length: 100 }, (_, i) => `k${i}`)].map((k) => cache.get(k)));
    expect(present.filter((v) => v !== undefined)).toEqual([97, 98, 99]);
  });

  it('is what createCache returns without a Redis URL', async () => {
    const cache = await createCache(loadConfig({ env: {} }), silentLogger);
    expect(cache.kind).toBe('memory');
    await cache.close();
  });
});

await describeWithService('Redis', REDIS_URL, 'Redis cache', () => {
  const filePrefix = uniqueNamespace('cache');
  const raw = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });

  afterAll(async () => {
    const keys = await raw.keys(`${filePrefix}*`);
    if (keys.length > 0) await raw.del(...keys);
    await raw.quit();
  });

  const connected = async (keyPrefix: string): Promise<Cache> => {
    const cache = createRedisCache({ url: REDIS_URL, keyPrefix });
    await cache.connect();
    return cache;
  };

  cacheContract(async () => {
    const shortTtlMs = 150;
    return {
      cache: await connected(`${uniqueNamespace(filePrefix)}:`),
      shortTtlMs,
      async outlive(expired) {
        // Redis expires on its own clock (exactly, on access): poll, with a margin for a busy machine.
        const deadline = Date.now() + shortTtlMs + 500;
        while (Date.now() < deadline) {
          if (await expired()) return true;
          await new Promise((r) => setTimeout(r, 25));
        }
        return false;
      },
      async broken() {
        return createRedisCache({ url: `redis://127.0.0.1:${await freePort()}`, keyPrefix: `${filePrefix}:broken:` });
      },
    };
  });

  it('stores JSON under the key prefix with a millisecond TTL', async () => {
    const prefix = `${uniqueNamespace(filePrefix)}:`;
    const cache = await connected(prefix);
    try {
      await cache.set('k', { a: 1 }, 1_500);
      expect(await raw.get(`${prefix}k`)).toBe('{"a":1}');
      // Not rounded to seconds.
      const pttl = await raw.pttl(`${prefix}k`);
      expect(pttl).toBeGreaterThan(1_000);
      expect(pttl).toBeLessThanOrEqual(1_500);
    } finally {
      await cache.close();
    }
  });

  it('keeps caches with different prefixes apart', async () => {
    const a = await connected(`${uniqueNamespace(filePrefix)}:`);
    const b = await connected(`${uniqueNamespace(filePrefix)}:`);
    try {
      await a.set('shared', 'from a', 60_000);
      expect(await b.get('shared')).toBeUndefined();
      await b.set('shared', 'from b', 60_000);
      await b.del('shared');
      expect(await a.get('shared')).toBe('from a');
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('reads a value it did not write as a miss', async () => {
    const prefix = `${uniqueNamespace(filePrefix)}:`;
    const cache = await connected(prefix);
    try {
      await raw.set(`${prefix}foreign`, 'not json', 'PX', 60_000);
      expect(await cache.get('foreign')).toBeUndefined();
    } finally {
      await cache.close();
    }
  });

  it("fails fast on a dead Redis instead of queueing, with 'unavailable'", async () => {
    const cache = createRedisCache({ url: `redis://127.0.0.1:${await freePort()}`, keyPrefix: 'x:' });
    try {
      const started = Date.now();
      expect((await rejection(cache.get('k'))).code).toBe('unavailable');
      expect(Date.now() - started).toBeLessThan(1_000);
    } finally {
      await cache.close();
    }
  });

  it('fails fast instead of waiting when Redis accepts connections but never answers', async () => {
    const silent = await startRelay(undefined);
    const cache = createRedisCache({ url: silent.url, keyPrefix: 'x:', connectTimeoutMs: 10_000 });
    try {
      const started = Date.now();
      expect((await rejection(cache.get('k'))).code).toBe('unavailable');
      expect(Date.now() - started).toBeLessThan(1_000);
    } finally {
      await cache.close();
      await silent.close();
    }
  });

  it('bounds a command by its timeout when a connected Redis stops answering', async () => {
    const relay = await startRelay(new URL(REDIS_URL));
    const cache = createRedisCache({ url: relay.url, keyPrefix: `${uniqueNamespace(filePrefix)}:`, commandTimeoutMs: 200 });
    try {
      await cache.connect();
      await cache.set('k', 1, 30_000);
      relay.freeze();
      const started = Date.now();
      expect((await rejection(cache.get('k'))).code).toBe('unavailable');
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(await cache.ping()).toBe(false);
    } finally {
      await cache.close();
      await relay.close();
    }
  });

  it("refuses to start with 'unavailable' when Redis cannot be reached", async () => {
    const port = await freePort();
    const err = await rejection(
      createCache(loadConfig({ env: { REDIS_URL: `redis://:hunter2@127.0.0.1:${port}` } }), silentLogger),
    );
    expect(err.code).toBe('unavailable');
    expect(err.message).toContain(`cannot connect to Redis at redis://:***@127.0.0.1:${port}`);
    expect(err.message).not.toContain('hunter2');
  });

  it('is what createCache returns with a Redis URL, keyed under the namespace', async () => {
    const namespace = uniqueNamespace(filePrefix);
    const cache = await createCache(loadConfig({ env: { REDIS_URL, AURORA_NAMESPACE: namespace } }), silentLogger);
    try {
      expect(cache.kind).toBe('redis');
      await cache.set('k', 1, 30_000);
      expect(await raw.get(`${namespace}:k`)).toBe('1');
    } finally {
      await cache.close();
    }
  });
});

/**
 * A TCP relay to `target`; without a target it accepts connections and never answers.
 * freeze() stops forwarding in both directions while keeping the sockets open.
 */
async function startRelay(target: URL | undefined): Promise<{ url: string; freeze(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let frozen = false;
  const server = createServer((client) => {
    sockets.add(client);
    client.on('error', () => {});
    client.on('close', () => sockets.delete(client));
    if (target === undefined) return;
    const upstream = connect({ host: target.hostname, port: Number(target.port) });
    sockets.add(upstream);
    upstream.on('error', () => {});
    upstream.on('close', () => sockets.delete(upstream));
    client.on('data', (chunk) => frozen || upstream.write(chunk));
    upstream.on('data', (chunk) => frozen || client.write(chunk));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `redis://127.0.0.1:${port}`,
    freeze() {
      frozen = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
