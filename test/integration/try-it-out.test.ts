// "Try it out" in order, as a newcomer does it in Swagger UI: every request below is built only from
// what /openapi.json shows (the body example, the path and query parameter examples Swagger fills
// in), sent to a fresh Aurora (gateway, node, fake Ollama), and must get the operation's documented
// success status. Examples that disagree with each other (a task for an agent no example creates)
// fail here, which no schema check can see.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type Gateway } from '../../gateway/server.js';
import { createMemoryCache } from '../../runtime/cache/memory.js';
import { systemClock } from '../../runtime/clock.js';
import { loadConfig } from '../../runtime/config.js';
import { silentLogger } from '../../runtime/logger.js';
import { startFakeOllama, type FakeOllama } from '../fixtures/fake-ollama.js';
import { TEST_KINDS } from '../helpers/kinds.js';
import { startTestNode, tempDbPath, type TestNode } from '../helpers/runtime.js';
import { NATS_URL, uniqueNamespace } from '../helpers/services.js';

interface Parameter {
  name: string;
  in: string;
  example?: unknown;
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { example?: unknown }> };
  responses: Record<string, unknown>;
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
}

let fake: FakeOllama;
let db: ReturnType<typeof tempDbPath>;
let node: TestNode;
let gateway: Gateway;
let base: string;
let doc: Document;

beforeAll(async () => {
  fake = await startFakeOllama();
  db = tempDbPath();
  const namespace = uniqueNamespace('try');
  // The memory bus: this suite is about the document's examples, not about NATS.
  node = await startTestNode({ busKind: 'memory', natsUrl: NATS_URL, ollamaUrl: fake.url, dbPath: db.path, namespace });
  gateway = await startGateway({
    host: '127.0.0.1',
    port: 0,
    bus: node.bus,
    subjects: node.subjects,
    config: loadConfig({ env: {}, overrides: { namespace } }),
    kinds: TEST_KINDS,
    metrics: node.metrics,
    logger: silentLogger,
    cache: createMemoryCache(),
    clock: systemClock,
    startedAt: Date.now(),
    version: 'try-it-out',
  });
  base = `http://127.0.0.1:${gateway.port}`;
  doc = (await (await fetch(`${base}/openapi.json`)).json()) as Document;
});

afterAll(async () => {
  await gateway?.close();
  await node?.stop();
  await fake?.close();
  db?.cleanup();
});

/** Sends `method path` the way Swagger UI does after "Try it out": every example filled in. */
async function tryIt(method: string, template: string): Promise<{ status: number; body: unknown; expected: string[] }> {
  const op = doc.paths[template]?.[method.toLowerCase()];
  expect(op, `${method} ${template} is in /openapi.json`).toBeDefined();
  let path = template;
  const query = new URLSearchParams();
  for (const p of op!.parameters ?? []) {
    if (p.example === undefined) continue;
    if (p.in === 'path') path = path.replace(`{${p.name}}`, encodeURIComponent(String(p.example)));
    if (p.in === 'query') query.set(p.name, String(p.example));
  }
  expect(path, `${method} ${template}: every path parameter has an example`).not.toMatch(/[{}]/);
  const example = op!.requestBody?.content['application/json']?.example;
  const res = await fetch(`${base}${path}${query.size > 0 ? `?${query}` : ''}`, {
    method,
    ...(example !== undefined && { headers: { 'content-type': 'application/json' }, body: JSON.stringify(example) }),
  });
  const text = await res.text();
  const expected = Object.keys(op!.responses).filter((s) => s.startsWith('2'));
  return { status: res.status, body: text === '' ? undefined : (JSON.parse(text) as unknown), expected };
}

async function expectSuccess(method: string, template: string): Promise<unknown> {
  const { status, body, expected } = await tryIt(method, template);
  expect(expected, `${method} ${template}: answered ${status} ${JSON.stringify(body)}`).toContain(String(status));
  return body;
}

describe('the examples of /openapi.json, tried in order on a fresh server', () => {
  it('create writer, load its model, read it, run a task, start a thread, change it', async () => {
    expect(await expectSuccess('POST', '/api/v1/agents/')).toMatchObject({ name: 'writer', status: 'idle' });
    await expectSuccess('POST', '/api/v1/models/load');
    await expectSuccess('GET', '/api/v1/models/{name}/status');
    await expectSuccess('GET', '/api/v1/agents/{name}');
    expect(await expectSuccess('POST', '/api/v1/tasks/execute')).toMatchObject({ agent: 'writer', status: 'completed' });
    await expectSuccess('POST', '/api/v1/tasks/execute/batch');
    await expectSuccess('POST', '/api/v1/agents/{name}/threads');
    await expectSuccess('PATCH', '/api/v1/agents/{name}');
  });

  it('define the workflow whose steps call writer, read it, run it to completion, version it', async () => {
    await expectSuccess('POST', '/api/v1/workflows');
    await expectSuccess('GET', '/api/v1/workflows/{name}');
    const run = (await expectSuccess('POST', '/api/v1/workflows/{name}/runs')) as { status: string; steps: { agent: string }[] };
    expect(run.status, JSON.stringify(run)).toBe('completed');
    expect(run.steps.map((s) => s.agent)).toEqual(['writer', 'writer']);
    await expectSuccess('PUT', '/api/v1/workflows/{name}');
  });

  it('list with every query example filled in, and find what was made', async () => {
    expect(await expectSuccess('GET', '/api/v1/agents/')).toMatchObject({ agents: [{ name: 'writer' }] });
    expect((await expectSuccess('GET', '/api/v1/tasks/')) as unknown[]).not.toHaveLength(0);
    expect(await expectSuccess('GET', '/api/v1/agents/{name}/threads')).toMatchObject({ threads: [{ agent: 'writer' }] });
    expect(await expectSuccess('GET', '/api/v1/workflows')).toMatchObject({ workflows: [{ name: 'product-blurb' }] });
    expect(((await expectSuccess('GET', '/api/v1/runs')) as { runs: unknown[] }).runs).not.toHaveLength(0);
    expect(((await expectSuccess('GET', '/api/v1/events')) as { events: unknown[] }).events).not.toHaveLength(0);
    await expectSuccess('GET', '/api/v1/models/');
  });
});
