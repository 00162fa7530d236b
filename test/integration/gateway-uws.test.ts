// The uWS adapter over real sockets: what the pure dispatcher tests cannot see (routing through
// uWS, body reading under the byte cap, headers on the wire, listen on port 0, close).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentRecord, TaskRequest, TaskResult } from '../../runtime/protocol/index.js';
import { startGateway, type Gateway } from '../../gateway/server.js';
import type { Bus, Subscription } from '../../runtime/bus/bus.js';
import { createMemoryBus } from '../../runtime/bus/memory.js';
import { createMemoryCache } from '../../runtime/cache/memory.js';
import { systemClock } from '../../runtime/clock.js';
import { loadConfig } from '../../runtime/config.js';
import { AuroraError } from '../../runtime/errors.js';
import { createLogger } from '../../runtime/logger.js';
import { createMetrics, type Metrics } from '../../runtime/metrics.js';
import { serve } from '../../runtime/rpc.js';
import { createSubjects } from '../../runtime/subjects.js';
import { uniqueNamespace } from '../helpers/services.js';
import { TEST_KINDS } from '../helpers/kinds.js';

const MAX_BODY = 1024;

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Resolves when the gateway logs that a client went away; released by the test's slow task. */
const clientGone = deferred();
const releaseSlowTask = deferred();
const slowTaskArrived = deferred();
const logger = createLogger('debug', {}, (line) => {
  if (line.includes('client went away')) clientGone.resolve();
});

let bus: Bus;
let metrics: Metrics;
let gateway: Gateway;
let base: string;
const subs: Subscription[] = [];

beforeAll(async () => {
  bus = createMemoryBus();
  const subjects = createSubjects(uniqueNamespace('gwuws'));
  const agents = new Map<string, AgentRecord>();
  subs.push(
    serve(bus, subjects.registry('list'), () => ({ agents: [...agents.values()], next_cursor: null })),
    serve(bus, subjects.registry('create'), (def: AgentRecord) => {
      const rec: AgentRecord = {
        ...def,
        agent_id: '0b0e7c58-5b6a-4f0e-9d53-3f3c1f1f0a01',
        status: 'idle',
        created_at: '2025-01-01T00:00:00.000Z',
        last_run: null,
      };
      agents.set(def.name, rec);
      return rec;
    }),
    serve(bus, subjects.agentAny(), async (req: TaskRequest): Promise<TaskResult> => {
      slowTaskArrived.resolve();
      await releaseSlowTask.promise;
      return {
        task_id: req.task_id,
        agent: req.agent,
        result: 'late',
        status: 'completed',
        model: 'llama2',
        provider: 'ollama',
        tokens_used: 1,
        prompt_tokens: 1,
        completion_tokens: 0,
        completed_at: '2025-01-01T00:00:00.000Z',
        duration_ms: 1,
        timings: { queued_ms: 0, total_duration_ms: null, load_duration_ms: null, prompt_eval_duration_ms: null, eval_duration_ms: null },
      };
    }),
    serve(bus, subjects.registry('get'), ({ name }: { name: string }) => {
      const rec = agents.get(name);
      if (!rec) throw new AuroraError('agent_not_found', `Agent ${name} not found`);
      return rec;
    }),
  );
  metrics = createMetrics({ defaultMetrics: false });
  gateway = await startGateway({
    host: '127.0.0.1',
    port: 0,
    bus,
    subjects,
    config: loadConfig({ env: {}, overrides: { maxBodyBytes: MAX_BODY } }),
    kinds: TEST_KINDS,
    metrics,
    logger,
    cache: createMemoryCache(),
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
});

describe('gateway over uWebSockets.js', () => {
  it('listens on the port it was given by the OS when asked for port 0', () => {
    expect(gateway.port).toBeGreaterThan(0);
  });

  it('serves a collection with and without the trailing slash, as JSON with X-Request-Id', async () => {
    const created = await fetch(`${base}/api/v1/agents/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'abc-123' },
      body: JSON.stringify({ name: 'wire-agent' }),
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('x-request-id')).toBe('abc-123');
    expect(created.headers.get('content-type')).toBe('application/json');
    for (const path of ['/api/v1/agents', '/api/v1/agents/']) {
      const res = await fetch(base + path);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      expect(((await res.json()) as AgentRecord[]).map((a) => a.name)).toEqual(['wire-agent']);
    }
  });

  it('answers 404 for an unknown route and 405 with Allow for a wrong method', async () => {
    const missing = await fetch(`${base}/no/such/route`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ detail: 'Not Found' });
    const wrong = await fetch(`${base}/api/v1/agents/x`, { method: 'PUT', body: '{}' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('DELETE, GET, PATCH');
    expect(await wrong.json()).toEqual({ detail: 'Method Not Allowed' });
  });

  it('answers 400 on invalid JSON', async () => {
    const res = await fetch(`${base}/api/v1/agents/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":' });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ detail: 'Invalid JSON body' });
  });

  it('refuses a body whose Content-Length passes the cap with 413, before reading it', async () => {
    const res = await fetch(`${base}/api/v1/agents/`, { method: 'POST', body: 'x'.repeat(256 * 1024) });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ detail: `Request body exceeds ${MAX_BODY} bytes` });
    expect(res.headers.get('x-request-id')).toBeTruthy();
  });

  it('stops reading a chunked body as soon as it passes the cap and answers 413', async () => {
    const chunk = new TextEncoder().encode('y'.repeat(700));
    let pulls = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        // Endless: only the server's 413 ends this request.
        pulls++;
        controller.enqueue(chunk);
        if (pulls > 10_000) controller.close();
      },
    });
    const res = await fetch(`${base}/api/v1/agents/`, { method: 'POST', body, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ detail: `Request body exceeds ${MAX_BODY} bytes` });
  });

  it('still serves the next request after a 413', async () => {
    const res = await fetch(`${base}/health/live`);
    expect(await res.json()).toEqual({ status: 'alive' });
  });

  it('answers HEAD through the GET route, without a body', async () => {
    const res = await fetch(`${base}/health/live`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
  });

  it('does not write to a client that went away; the server keeps serving', async () => {
    const controller = new AbortController();
    const pending = fetch(`${base}/api/v1/tasks/execute`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ agent: 'wire-agent', prompt: 'slow' }),
      signal: controller.signal,
    }).catch((err: unknown) => err);
    await slowTaskArrived.promise;
    controller.abort();
    expect(await pending).toBeInstanceOf(Error);
    await clientGone.promise;
    releaseSlowTask.resolve();
    // The late answer is dropped, not written: wait until the dispatcher has counted it.
    const counted = 'aurora_http_requests_total{method="POST",route="/api/v1/tasks/execute",status="200"} 1';
    while (!(await metrics.registry.metrics()).includes(counted)) await new Promise((r) => setImmediate(r));
    const res = await fetch(`${base}/health/live`);
    expect(res.status).toBe(200);
  });

  it('exposes Prometheus metrics with their content type, labelled by route template', async () => {
    await fetch(`${base}/api/v1/agents/wire-agent`);
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(metrics.registry.contentType);
    const text = await res.text();
    expect(text).toContain('aurora_http_requests_total{method="GET",route="/api/v1/agents/:name",status="200"} 1');
    expect(text).not.toContain('route="/api/v1/agents/wire-agent"');
  });

  it('answers a constant probe outside the pipeline exactly as the pipeline would', async () => {
    const before = await metrics.registry.metrics();
    const countOf = (text: string) =>
      Number(/aurora_http_requests_total\{method="GET",route="\/health\/live",status="200"\} (\d+)/.exec(text)?.[1] ?? 0);
    const direct = await fetch(`${base}/health/live`, { headers: { 'x-request-id': 'probe-1' } });
    // The trailing slash is not the path uWS routes to the constant answer: it takes the pipeline.
    const piped = await fetch(`${base}/health/live/`, { headers: { 'x-request-id': 'probe-2' } });
    expect(direct.status).toBe(200);
    expect(await direct.text()).toBe(await piped.text());
    const headersOf = (res: Response) => [...res.headers].filter(([k]) => k !== 'date' && k !== 'x-request-id');
    expect(headersOf(direct)).toEqual(headersOf(piped));
    expect(direct.headers.get('x-request-id')).toBe('probe-1');
    // An id the gateway will not carry is replaced, as everywhere else.
    const minted = (await fetch(`${base}/health/live`, { headers: { 'x-request-id': 'bad id!' } })).headers.get('x-request-id');
    expect(minted).toMatch(/^[0-9a-f-]{36}$/);
    // A query goes to the pipeline, which refuses a parameter given twice.
    const polluted = await fetch(`${base}/health/live?a=1&a=2`);
    expect(polluted.status).toBe(400);
    expect(await polluted.json()).toEqual({ detail: 'Query parameter "a" is given more than once' });
    // Counted under its route like any request: two constant answers and one through the pipeline.
    expect(countOf(await metrics.registry.metrics()) - countOf(before)).toBe(3);
  });

  it('refuses connections once closed', async () => {
    const other = await startGateway({
      host: '127.0.0.1',
      port: 0,
      bus,
      subjects: createSubjects(uniqueNamespace('gwclose')),
      config: loadConfig({ env: {} }),
      kinds: TEST_KINDS,
      metrics: createMetrics({ defaultMetrics: false }),
      logger,
      cache: createMemoryCache(),
      clock: systemClock,
      startedAt: Date.now(),
      version: 'test',
    });
    const url = `http://127.0.0.1:${other.port}/health/live`;
    expect((await fetch(url)).status).toBe(200);
    await other.close();
    await other.close();
    await expect(fetch(url)).rejects.toThrow();
  });
});
