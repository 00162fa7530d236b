// Cross-cutting headers on real sockets (startGateway on port 0): security headers, CORS
// preflights and simple requests, 429s with their RateLimit-* headers, health probes exempt, and
// the request id on every log line. A few socket-free checks through the dispatcher cover what
// the route table does not offer (a route overriding the CSP, a handler's own log line).
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentRecord } from '../../runtime/protocol/index.js';
import type { GatewayDeps } from '../../gateway/deps.js';
import { createDispatcher } from '../../gateway/dispatch.js';
import { route } from '../../gateway/router.js';
import { SECURITY_HEADERS } from '../../gateway/security-headers.js';
import { startGateway, type Gateway } from '../../gateway/server.js';
import type { Bus, Subscription } from '../../runtime/bus/bus.js';
import { createMemoryBus } from '../../runtime/bus/memory.js';
import { createMemoryCache } from '../../runtime/cache/memory.js';
import { systemClock } from '../../runtime/clock.js';
import { loadConfig, type Config } from '../../runtime/config.js';
import { createLogger } from '../../runtime/logger.js';
import { createMetrics } from '../../runtime/metrics.js';
import { createMemoryRateLimiter, type MemoryRateLimiter } from '../../runtime/rate-limit/memory.js';
import { serve } from '../../runtime/rpc.js';
import { createSubjects } from '../../runtime/subjects.js';
import { uniqueNamespace } from '../helpers/services.js';
import { TEST_KINDS } from '../helpers/kinds.js';

const ALLOWED = 'https://app.example';
const LIMIT = 5;

interface LogLine {
  readonly level: string;
  readonly msg: string;
  readonly request_id?: string;
  readonly [k: string]: unknown;
}

const lines: LogLine[] = [];
const logger = createLogger('debug', { service: 'aurora' }, (line) => lines.push(JSON.parse(line) as LogLine));

let bus: Bus;
let limiter: MemoryRateLimiter;
let gateway: Gateway;
let base: string;
const subs: Subscription[] = [];
let nextClient = 1;

/**
 * A client of its own for each test: the gateway trusts one proxy, so X-Forwarded-For names the
 * client, and each test's requests land in a fresh rate-limit bucket.
 */
function client(): (path: string, init?: RequestInit) => Promise<Response> {
  const ip = `198.51.100.${nextClient++}`;
  return (path, init = {}) => fetch(base + path, { ...init, headers: { 'x-forwarded-for': ip, ...(init.headers as Record<string, string>) } });
}

function expectSecurityHeaders(res: Response): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(res.headers.get(name), `${name} on ${res.url} (${res.status})`).toBe(value);
}

beforeAll(async () => {
  bus = createMemoryBus();
  const subjects = createSubjects(uniqueNamespace('gwhdr'));
  const agent: AgentRecord = {
    name: 'a1',
    agent_id: '0b0e7c58-5b6a-4f0e-9d53-3f3c1f1f0a01',
    agent_type: 'llm',
    model_name: 'llama2',
    provider: 'ollama',
    description: '',
    config: {},
    status: 'idle',
    created_at: '2025-01-01T00:00:00.000Z',
    last_run: null,
  };
  subs.push(serve(bus, subjects.registry('list'), () => ({ agents: [agent], next_cursor: null })));
  limiter = createMemoryRateLimiter({ maxKeys: 1_000 });
  gateway = await startGateway({
    host: '127.0.0.1',
    port: 0,
    bus,
    subjects,
    config: loadConfig({
      env: {},
      overrides: {
        maxBodyBytes: 64,
        corsOrigins: [ALLOWED, 'http://localhost:3000'],
        rateLimitEnabled: true,
        rateLimitPerMinute: LIMIT,
        trustProxyHops: 1,
        // Short, so the readiness probe's bus checks answer quickly without a runtime.
        busRequestTimeoutMs: 200,
      },
    }),
    kinds: TEST_KINDS,
    metrics: createMetrics({ defaultMetrics: false }),
    logger,
    cache: createMemoryCache(),
    rateLimiter: limiter,
    clock: systemClock,
    startedAt: Date.now(),
    version: 'test',
  });
  base = `http://127.0.0.1:${gateway.port}`;
});

afterAll(async () => {
  await gateway?.close();
  for (const s of subs) s.unsubscribe();
  await bus?.drain();
  await limiter?.close();
});

describe('security headers', () => {
  it('are on every answer: success, 404, 405, 400, 413 and 429', async () => {
    const get = client();
    const answers = [
      await get('/api/v1/agents'),
      await get('/no/such/path'),
      await get('/api/v1/agents', { method: 'PUT' }),
      await get('/api/v1/agents', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{nope' }),
      await get('/api/v1/agents', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x'.repeat(100) }) }),
    ];
    expect(answers.map((r) => r.status)).toEqual([200, 404, 405, 400, 413]);
    // The five answers above were counted too (all but the 404, which no route serves).
    let limited = await get('/api/v1/agents');
    for (let i = 0; i < LIMIT && limited.status !== 429; i++) limited = await get('/api/v1/agents');
    expect(limited.status).toBe(429);
    for (const res of [...answers, limited]) {
      expectSecurityHeaders(res);
      expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      await res.arrayBuffer();
    }
  });

  it('are on a refused WebSocket upgrade too, with the request id the client sent', async () => {
    const refused = await new Promise<{ status: number; headers: Record<string, string | string[] | undefined> }>((resolve, reject) => {
      const ws = new WebSocket(`${base.replace('http', 'ws')}/api/v1/stream?since=soon`, { headers: { 'x-request-id': 'ws-trace-7' } });
      ws.once('unexpected-response', (_req, res) => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers });
        ws.terminate();
      });
      ws.once('open', () => reject(new Error('the upgrade was accepted')));
      ws.once('error', () => {});
    });
    expect(refused.status).toBe(400);
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(refused.headers[name], name).toBe(value);
    expect(refused.headers['x-request-id']).toBe('ws-trace-7');
  });

  it('are on health probes too', async () => {
    const res = await fetch(`${base}/health/live`);
    expect(res.status).toBe(200);
    expectSecurityHeaders(res);
  });
});

describe('CORS', () => {
  it('answers a preflight from an allowed origin with 204, the methods of that path and the headers a page may send', async () => {
    const send = client();
    const res = await send('/api/v1/agents', {
      method: 'OPTIONS',
      headers: { origin: ALLOWED, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(res.headers.get('access-control-allow-methods')!.split(', ').sort()).toEqual(['GET', 'POST']);
    const allowHeaders = res.headers.get('access-control-allow-headers')!.toLowerCase().split(', ');
    expect(allowHeaders).toEqual(expect.arrayContaining(['authorization', 'content-type', 'x-request-id']));
    expect(res.headers.get('access-control-max-age')).toBe('600');
    expect(res.headers.get('vary')).toBe('Origin');
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    expect(res.headers.get('content-type')).toBeNull();
    expect(await res.text()).toBe('');
    expectSecurityHeaders(res);
    // Preflights are not counted: the first real request still has the whole budget but one.
    expect(res.headers.get('ratelimit-limit')).toBeNull();
    const real = await send('/api/v1/agents', { headers: { origin: ALLOWED } });
    expect(real.headers.get('ratelimit-remaining')).toBe(String(LIMIT - 1));
  });

  it('treats a preflight from an origin not listed as if CORS did not exist', async () => {
    const res = await client()('/api/v1/agents', {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'DELETE' },
    });
    expect(res.status).toBe(405);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.headers.get('access-control-allow-methods')).toBeNull();
    expect(res.headers.get('vary')).toBe('Origin');
    expect(await res.json()).toEqual({ detail: 'Method Not Allowed' });
  });

  it('answers a preflight for a path that does not exist with a 404 the page may read', async () => {
    const res = await client()('/api/v1/nothing', { method: 'OPTIONS', headers: { origin: ALLOWED, 'access-control-request-method': 'GET' } });
    expect(res.status).toBe(404);
    expect(res.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    await res.arrayBuffer();
  });

  it('lets an allowed origin read the answer and the request id and rate-limit headers', async () => {
    const res = await client()('/api/v1/agents', { headers: { origin: 'http://localhost:3000' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('http://localhost:3000');
    expect(res.headers.get('vary')).toBe('Origin');
    const exposed = res.headers.get('access-control-expose-headers')!.toLowerCase().split(', ');
    expect(exposed).toEqual(
      expect.arrayContaining(['x-request-id', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset', 'retry-after']),
    );
    await res.arrayBuffer();
  });

  it('serves other origins and non-browser clients without CORS headers', async () => {
    const send = client();
    const variants: Record<string, string>[] = [{ origin: 'https://evil.example' }, { origin: 'https://app.example.evil.example' }, { origin: 'null' }, {}];
    for (const headers of variants) {
      const res = await send('/api/v1/agents', { headers });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      expect(res.headers.get('access-control-expose-headers')).toBeNull();
      expect(res.headers.get('vary')).toBe('Origin');
      await res.arrayBuffer();
    }
  });
});

describe('rate limiting on the wire', () => {
  it(`serves ${LIMIT} requests a minute per client, then 429 with Retry-After and RateLimit-* headers`, async () => {
    const send = client();
    for (let i = 1; i <= LIMIT; i++) {
      const res = await send('/api/v1/agents');
      expect(res.status).toBe(200);
      expect(res.headers.get('ratelimit-limit')).toBe(String(LIMIT));
      expect(res.headers.get('ratelimit-remaining')).toBe(String(LIMIT - i));
      const reset = Number(res.headers.get('ratelimit-reset'));
      expect(reset).toBeGreaterThanOrEqual(1);
      expect(reset).toBeLessThanOrEqual(60);
      await res.arrayBuffer();
    }
    const refused = await send('/api/v1/agents', { headers: { origin: ALLOWED, 'x-request-id': 'over-the-limit' } });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('content-type')).toBe('application/json');
    expect(await refused.json()).toEqual({ detail: `Rate limit exceeded: ${LIMIT} requests per minute` });
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.headers.get('ratelimit-reset')).toBe(String(retryAfter));
    expect(refused.headers.get('ratelimit-remaining')).toBe('0');
    expect(refused.headers.get('ratelimit-limit')).toBe(String(LIMIT));
    expect(refused.headers.get('x-request-id')).toBe('over-the-limit');
    // A page on an allowed origin can read why it was refused and when to come back.
    expect(refused.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expectSecurityHeaders(refused);
  });

  it('gives a constant probe its CORS headers when the page sends an Origin', async () => {
    const res = await client()('/health/live', { headers: { origin: ALLOWED } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(res.headers.get('vary')).toContain('Origin');
    expectSecurityHeaders(res);
    const plain = await client()('/health/live');
    expect(plain.headers.get('access-control-allow-origin')).toBeNull();
    expectSecurityHeaders(plain);
  });

  it('keeps health probes open to a client that is over its limit, and never counts them', async () => {
    const send = client();
    for (let i = 0; i < LIMIT; i++) await (await send('/api/v1/agents')).arrayBuffer();
    expect((await send('/api/v1/agents')).status).toBe(429);
    for (const path of ['/health/', '/health/live', '/health/startup', '/health/ready']) {
      const res = await send(path);
      expect(res.status, path).not.toBe(429);
      expect(res.headers.get('ratelimit-limit'), path).toBeNull();
      await res.arrayBuffer();
    }
  });

  it('counts each client apart, by the address the trusted proxy reports or else the socket peer', async () => {
    const a = client();
    const b = client();
    for (let i = 0; i < LIMIT; i++) await (await a('/api/v1/agents')).arrayBuffer();
    expect((await a('/api/v1/agents')).status).toBe(429);
    expect((await b('/api/v1/agents')).status).toBe(200);
    // No X-Forwarded-For: the socket peer (127.0.0.1) is the client, with its own budget.
    const direct = await fetch(`${base}/api/v1/agents`);
    expect(direct.status).toBe(200);
    expect(direct.headers.get('ratelimit-remaining')).toBe(String(LIMIT - 1));
  });
});

describe('request ids in logs', () => {
  it('writes the request id on every line logged while a request is handled', async () => {
    const from = lines.length;
    // No runtime answers models.list on this bus: the gateway logs the 503 it answers.
    const res = await client()('/api/v1/models', { headers: { 'x-request-id': 'trace-me-1' } });
    expect(res.status).toBe(503);
    expect(res.headers.get('x-request-id')).toBe('trace-me-1');
    await res.arrayBuffer();
    const logged = lines.slice(from);
    expect(logged.length).toBeGreaterThan(0);
    for (const line of logged) expect(line, JSON.stringify(line)).toMatchObject({ request_id: 'trace-me-1', service: 'aurora' });
    expect(logged.some((l) => l.level === 'warn' && l.msg === 'request failed')).toBe(true);
  });

  it('gives handlers a logger that carries the request id, and mints an id when the client sends none', async () => {
    const own: LogLine[] = [];
    const config = loadConfig({ env: {} });
    const deps: GatewayDeps = {
      bus,
      subjects: createSubjects(uniqueNamespace('gwhdr')),
      config,
      kinds: TEST_KINDS,
      metrics: createMetrics({ defaultMetrics: false }),
      logger: createLogger('debug', {}, (line) => own.push(JSON.parse(line) as LogLine)),
      cache: createMemoryCache(),
      clock: systemClock,
      startedAt: Date.now(),
      version: 'test',
    };
    const d = createDispatcher(deps, {
      routes: [
        route({
          method: 'GET',
          path: '/chatty',
          responses: { 200: 'Alive' },
          handler: async (_req, handlerDeps) => {
            handlerDeps.logger.info('handler at work', { step: 1 });
            handlerDeps.logger.child({ component: 'deeper' }).debug('still at work');
            return { status: 200, body: { status: 'ok' } };
          },
        }),
      ],
    });
    const exchange = d.begin({ method: 'GET', url: '/chatty', query: '', headers: {} });
    const out = await exchange.run(null);
    expect(out.status).toBe(200);
    expect(own.map((l) => [l.msg, l.request_id])).toEqual([
      ['handler at work', exchange.requestId],
      ['still at work', exchange.requestId],
    ]);
    expect(out.headers['x-request-id']).toBe(exchange.requestId);
  });
});

describe('headers through the dispatcher', () => {
  function dispatcher(config: Config) {
    const deps: GatewayDeps = {
      bus,
      subjects: createSubjects(uniqueNamespace('gwhdr')),
      config,
      kinds: TEST_KINDS,
      metrics: createMetrics({ defaultMetrics: false }),
      logger: createLogger('silent'),
      cache: createMemoryCache(),
      clock: systemClock,
      startedAt: Date.now(),
      version: 'test',
    };
    return createDispatcher(deps, {
      routes: [
        route({ method: 'GET', path: '/plain', responses: { 200: 'Alive' }, handler: async () => ({ status: 200, body: { status: 'ok' } }) }),
        route({
          method: 'GET',
          path: '/page',
          responses: { 200: 'Alive' },
          handler: async () => ({ status: 200, body: { status: 'ok' }, headers: { 'content-security-policy': "default-src 'self'" } }),
        }),
      ],
    });
  }
  const run = (d: ReturnType<typeof dispatcher>, url: string, headers: Record<string, string> = {}, method = 'GET') =>
    d.begin({ method, url, query: '', headers }).run(null);

  it('lets a route override the CSP while every other security header stays', async () => {
    const out = await run(dispatcher(loadConfig({ env: {} })), '/page');
    expect(out.headers['content-security-policy']).toBe("default-src 'self'");
    for (const name of ['x-content-type-options', 'x-frame-options', 'referrer-policy', 'cache-control'] as const) {
      expect(out.headers[name]).toBe(SECURITY_HEADERS[name]);
    }
  });

  it("answers any origin with '*' when CORS_ORIGINS is '*'", async () => {
    const d = dispatcher(loadConfig({ env: { CORS_ORIGINS: '*' } }));
    expect((await run(d, '/plain', { origin: 'https://anyone.example' })).headers['access-control-allow-origin']).toBe('*');
    const pre = await run(d, '/plain', { origin: 'https://anyone.example', 'access-control-request-method': 'GET' }, 'OPTIONS');
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe('*');
  });

  it('sends no CORS header at all when CORS_ORIGINS is unset', async () => {
    const d = dispatcher(loadConfig({ env: {} }));
    const out = await run(d, '/plain', { origin: ALLOWED });
    expect(Object.keys(out.headers).filter((k) => k.startsWith('access-control-') || k === 'vary')).toEqual([]);
    const pre = await run(d, '/plain', { origin: ALLOWED, 'access-control-request-method': 'GET' }, 'OPTIONS');
    expect(pre.status).toBe(405);
  });

  it('refuses at start a CORS_ORIGINS entry that is not an origin, and a rate limit with no limiter', () => {
    expect(() => loadConfig({ env: { CORS_ORIGINS: 'https://app.example/path' } })).toThrow(/CORS_ORIGINS/);
    expect(() => loadConfig({ env: { CORS_ORIGINS: 'app.example' } })).toThrow(/CORS_ORIGINS/);
    expect(loadConfig({ env: { CORS_ORIGINS: 'https://App.Example:443/, http://localhost:3000' } }).corsOrigins).toEqual([
      'https://app.example',
      'http://localhost:3000',
    ]);
    expect(() => dispatcher(loadConfig({ env: { RATE_LIMIT_ENABLED: 'true' } }))).toThrow(/no rate limiter/);
  });
});
