// Authentication on the wire: real uWS gateways (startGateway on port 0, the in-process bus with
// in-test responders), `fetch` for REST and `ws` for the stream. What the unit tests cannot see:
// the challenge headers as clients receive them, the upgrade refused or accepted, events withheld
// from a socket whose token may not read them, and the warning for an open non-loopback bind.
import { createHmac, randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentRecord, AuroraEvent, EventType } from '../../runtime/protocol/index.js';
import { startGateway, type Gateway } from '../../gateway/server.js';
import { STREAM_PATH, TOKEN_EXPIRED_CLOSE } from '../../gateway/stream.js';
import type { Bus, Subscription } from '../../runtime/bus/bus.js';
import { createMemoryBus } from '../../runtime/bus/memory.js';
import { createMemoryCache } from '../../runtime/cache/memory.js';
import { systemClock } from '../../runtime/clock.js';
import { loadConfig, type Config } from '../../runtime/config.js';
import { createLogger, type Logger } from '../../runtime/logger.js';
import { createMetrics } from '../../runtime/metrics.js';
import { serve } from '../../runtime/rpc.js';
import { createSubjects, type EventKind, type Subjects } from '../../runtime/subjects.js';
import { uniqueNamespace } from '../helpers/services.js';
import { TEST_KINDS } from '../helpers/kinds.js';

const SECRET = randomBytes(32).toString('base64url');
const WARNING = 'AUTHENTICATION IS OFF on a non-loopback address';

/** Signed by hand (RFC 7519 + HMAC-SHA256), as any client library would. */
function token(claims: { sub?: string; scope?: string; exp?: number }, secret = SECRET): string {
  const nowS = Math.floor(Date.now() / 1000);
  const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const input = `${enc({ alg: 'HS256', typ: 'JWT' })}.${enc({ sub: 'alice', iat: nowS, exp: nowS + 300, ...claims })}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

interface Started {
  gateway: Gateway;
  base: string;
  logLines: string[];
}

const AGENT: AgentRecord = {
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

let bus: Bus;
let subjects: Subjects;
const subs: Subscription[] = [];
const gateways: Gateway[] = [];
const sockets: WebSocket[] = [];
const restarts: string[] = [];

async function start(host: string, overrides: Partial<Config>): Promise<Started> {
  const logLines: string[] = [];
  const logger: Logger = createLogger('debug', {}, (line) => logLines.push(line));
  const config = loadConfig({ env: {}, overrides: { namespace: subjects.namespace, docsEnabled: false, ...overrides } });
  const gateway = await startGateway({
    host,
    port: 0,
    bus,
    subjects,
    config,
    kinds: TEST_KINDS,
    metrics: createMetrics({ defaultMetrics: false }),
    logger,
    cache: createMemoryCache(),
    clock: systemClock,
    startedAt: Date.now(),
    version: 'test',
  });
  gateways.push(gateway);
  return { gateway, base: `http://127.0.0.1:${gateway.port}`, logLines };
}

let secured: Started;

beforeAll(async () => {
  bus = createMemoryBus();
  subjects = createSubjects(uniqueNamespace('gwauth'));
  subs.push(
    serve(bus, subjects.registry('list'), () => ({ agents: [AGENT], next_cursor: null })),
    serve(bus, subjects.registry('restart'), ({ name }: { name: string }) => {
      restarts.push(name);
      return { ...AGENT, name };
    }),
  );
  // Skew 0, so a socket's token runs out when its exp says.
  secured = await start('127.0.0.1', { authEnabled: true, jwtSecret: SECRET, jwtClockSkewS: 0 });
});

afterAll(async () => {
  for (const ws of sockets) ws.terminate();
  for (const g of gateways) await g.close();
  for (const s of subs) s.unsubscribe();
  await bus?.drain();
});

function publish(type: EventType, agent: string, payload: Record<string, unknown>): void {
  const kind = type.slice(0, type.indexOf('.')) as EventKind;
  const event: AuroraEvent = { type, time: new Date().toISOString(), agent, payload };
  bus.publish(subjects.event(kind, type.slice(kind.length + 1), agent), event);
}

// ---------------------------------------------------------------- REST

describe('REST with AUTH_ENABLED', () => {
  it('keeps the health probes and / open', async () => {
    for (const path of ['/', '/health/', '/health/live', '/health/startup']) {
      const res = await fetch(secured.base + path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('www-authenticate'), path).toBeNull();
    }
  });

  it('answers 401 with a bare Bearer challenge when no token is sent', async () => {
    const res = await fetch(`${secured.base}/api/v1/agents/`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="aurora"');
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({ detail: 'Missing bearer token' });
  });

  it('answers 401 invalid_token for an expired, forged or alg-none token', async () => {
    const nowS = Math.floor(Date.now() / 1000);
    const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const cases: [string, string][] = [
      [token({ scope: 'agents:read', exp: nowS - 60 }), 'token expired'],
      [token({ scope: 'agents:read' }, randomBytes(32).toString('hex')), 'signature verification failed'],
      [`${enc({ alg: 'none' })}.${enc({ sub: 'eve', exp: nowS + 60, scope: 'admin' })}.`, 'algorithm not allowed'],
    ];
    for (const [t, reason] of cases) {
      const res = await fetch(`${secured.base}/api/v1/agents/`, { headers: bearer(t) });
      expect(res.status, reason).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe(
        `Bearer realm="aurora", error="invalid_token", error_description="${reason}"`,
      );
      expect(await res.json()).toEqual({ detail: `Invalid token: ${reason}` });
    }
  });

  it('serves a token that carries the route\'s scope', async () => {
    const res = await fetch(`${secured.base}/api/v1/agents/`, { headers: bearer(token({ scope: 'agents:read' })) });
    expect(res.status).toBe(200);
    expect(((await res.json()) as AgentRecord[]).map((a) => a.name)).toEqual(['a1']);
  });

  it('answers 403 insufficient_scope, before the body is even validated, when the scope is missing', async () => {
    const res = await fetch(`${secured.base}/api/v1/tasks/execute`, {
      method: 'POST',
      headers: { ...bearer(token({ scope: 'agents:read tasks:read' })), 'content-type': 'application/json' },
      body: '{"broken',
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toBe('Bearer error="insufficient_scope", scope="tasks:execute"');
    expect(await res.json()).toEqual({ detail: 'Missing scope: tasks:execute' });
  });

  it('keeps the operator commands for admin: agents:write is not enough', async () => {
    const url = `${secured.base}/api/v1/agents/a1/restart`;
    const writer = await fetch(url, { method: 'POST', headers: bearer(token({ scope: 'agents:write agents:read' })) });
    expect(writer.status).toBe(403);
    expect(await writer.json()).toEqual({ detail: 'Missing scope: admin' });
    expect(restarts).toEqual([]);
    const admin = await fetch(url, { method: 'POST', headers: bearer(token({ scope: 'admin' })) });
    expect(admin.status).toBe(200);
    expect(restarts).toEqual(['a1']);
  });

  it('protects /metrics by default: metrics:read or admin', async () => {
    const anonymous = await fetch(`${secured.base}/metrics`);
    expect(anonymous.status).toBe(401);
    const wrong = await fetch(`${secured.base}/metrics`, { headers: bearer(token({ scope: 'agents:read' })) });
    expect(wrong.status).toBe(403);
    for (const scope of ['metrics:read', 'admin']) {
      const res = await fetch(`${secured.base}/metrics`, { headers: bearer(token({ scope })) });
      expect(res.status, scope).toBe(200);
      expect(await res.text()).toContain('aurora_http_requests_total');
    }
  });

  it('leaves /metrics open to scrapers with AUTH_PROTECT_METRICS=false, and the API still closed', async () => {
    const open = await start('127.0.0.1', { authEnabled: true, jwtSecret: SECRET, authProtectMetrics: false });
    expect((await fetch(`${open.base}/metrics`)).status).toBe(200);
    expect((await fetch(`${open.base}/api/v1/agents/`)).status).toBe(401);
  });
});

// ---------------------------------------------------------------- WebSocket

type Msg = Record<string, unknown>;

class Socket {
  private readonly inbox: Msg[] = [];
  private wake: (() => void) | undefined;
  readonly closed: Promise<{ code: number; reason: string }>;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.inbox.push(JSON.parse(data.toString()) as Msg);
      this.wake?.();
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  async next(): Promise<Msg> {
    while (this.inbox.length === 0) await new Promise<void>((resolve) => (this.wake = resolve));
    return this.inbox.shift()!;
  }

  send(msg: unknown): void {
    this.ws.send(JSON.stringify(msg));
  }
}

type Refusal = { status: number; challenge: string | undefined; body: unknown };

/** Opens a socket, or resolves with how the upgrade was refused. */
function connect(query: string, headers: Record<string, string> = {}): Promise<Socket | Refusal> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${secured.gateway.port}${STREAM_PATH}${query}`, { headers });
    sockets.push(ws);
    ws.once('open', () => resolve(new Socket(ws)));
    ws.once('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        ws.terminate();
        const challenge = res.headers['www-authenticate'];
        resolve({ status: res.statusCode ?? 0, challenge: Array.isArray(challenge) ? challenge[0] : challenge, body: JSON.parse(Buffer.concat(chunks).toString()) });
      });
    });
    ws.once('error', reject);
  });
}

async function open(query: string, headers?: Record<string, string>): Promise<Socket> {
  const s = await connect(query, headers);
  if (!(s instanceof Socket)) throw new Error(`upgrade refused: ${JSON.stringify(s)}`);
  return s;
}

describe('the WebSocket stream with AUTH_ENABLED', () => {
  it('refuses the upgrade with 401 and a challenge when no token is given', async () => {
    expect(await connect('')).toEqual({ status: 401, challenge: 'Bearer realm="aurora"', body: { detail: 'Missing bearer token' } });
  });

  it('refuses the upgrade with 401 invalid_token for a bad token, in the header or the query', async () => {
    const expired = token({ scope: 'events:read', exp: Math.floor(Date.now() / 1000) - 5 });
    const want = {
      status: 401,
      challenge: 'Bearer realm="aurora", error="invalid_token", error_description="token expired"',
      body: { detail: 'Invalid token: token expired' },
    };
    expect(await connect(`?access_token=${expired}`)).toEqual(want);
    expect(await connect('', bearer(expired))).toEqual(want);
  });

  it('refuses with 403 a token that may neither read events nor execute', async () => {
    expect(await connect(`?access_token=${token({ scope: 'agents:read' })}`)).toEqual({
      status: 403,
      challenge: 'Bearer error="insufficient_scope", scope="events:read tasks:execute"',
      body: { detail: 'Missing scope: events:read or tasks:execute' },
    });
  });

  it('accepts ?access_token= (browsers cannot set headers) and the Authorization header alike', async () => {
    const viaQuery = await open(`?access_token=${token({ scope: 'events:read' })}&agents=x`);
    expect(await viaQuery.next()).toMatchObject({ type: 'subscribed' });
    const viaHeader = await open('', bearer(token({ scope: 'events:read' })));
    expect(await viaHeader.next()).toMatchObject({ type: 'subscribed' });
  });

  it('sends no events to a socket whose token lacks events:read, while a reader gets them', async () => {
    const reader = await open(`?access_token=${token({ scope: 'events:read' })}`);
    expect(await reader.next()).toMatchObject({ type: 'subscribed' });
    const blind = await open('', bearer(token({ scope: 'tasks:execute' })));
    expect(await blind.next()).toEqual({
      type: 'error',
      detail: 'Missing scope: events:read: this socket receives only the events of tasks it starts',
    });
    blind.send({ op: 'subscribe', types: ['agent.*'] });
    expect(await blind.next()).toEqual({ type: 'error', detail: 'Missing scope: events:read' });

    publish('agent.created', 'secret-agent', { n: 1 });
    expect(await reader.next()).toMatchObject({ type: 'agent.created', agent: 'secret-agent' });
    // The gateway fanned that event out to every socket before the reader saw it; the blind socket's
    // next message is therefore the pong, with nothing before it.
    blind.send({ op: 'ping' });
    expect(await blind.next()).toEqual({ type: 'pong' });
  });

  it('refuses the execute op to a token without tasks:execute', async () => {
    const reader = await open('', bearer(token({ scope: 'events:read' })));
    expect(await reader.next()).toMatchObject({ type: 'subscribed' });
    reader.send({ op: 'execute', agent: 'a1', prompt: 'hi', request_id: 'r1' });
    expect(await reader.next()).toEqual({ type: 'error', detail: 'Missing scope: tasks:execute', request_id: 'r1' });
  });

  it('closes a socket with 4401 when its token expires', async () => {
    const shortLived = token({ scope: 'events:read', exp: Math.floor(Date.now() / 1000) + 2 });
    const s = await open(`?access_token=${shortLived}`);
    expect(await s.closed).toEqual({ code: TOKEN_EXPIRED_CLOSE.code, reason: TOKEN_EXPIRED_CLOSE.reason });
  });
});

// ---------------------------------------------------------------- the open-bind warning

describe('binding with auth off', () => {
  const warned = (lines: string[]) => lines.some((l) => l.includes(WARNING) && JSON.parse(l).level === 'warn');

  it('warns loudly at start on a non-loopback address', async () => {
    const exposed = await start('0.0.0.0', {});
    expect(warned(exposed.logLines)).toBe(true);
  });

  it('stays quiet on loopback, or when auth is on', async () => {
    expect(warned((await start('127.0.0.1', {})).logLines)).toBe(false);
    expect(warned((await start('0.0.0.0', { authEnabled: true, jwtSecret: SECRET })).logLines)).toBe(false);
    expect(warned(secured.logLines)).toBe(false);
  });
});
