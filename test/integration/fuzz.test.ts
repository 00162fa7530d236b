// Hostile input against the real gateway (uWebSockets.js on port 0) in front of the real runtime
// (supervisors, registry, model manager, SQLite) on the in-process bus and the fake Ollama server.
//
// Well over 1,000 malformed requests, generated from a constant seed (test/helpers/fuzz-cases.ts),
// go out over raw TCP so that truly malformed HTTP reaches the server. Every answer must be a 4xx
// with a JSON {"detail": string} body, never a 5xx; WebSocket abuse must end in an error message or
// a close; afterwards the server still answers, still runs a task, and the stored state (agents,
// task history, loaded models, models pulled) is exactly what it was before.
//
// Requests uWebSockets.js refuses in its own HTTP parser never reach Aurora (nothing of ours can
// answer them); the suite pins down which ones, so a change of behaviour shows up here:
//   - closed at once, no answer: methods outside GET/POST/PUT/PATCH/DELETE/OPTIONS/HEAD/TRACE/
//     CONNECT (including lower-case ones); a Content-Length that is not plain digits or has 10 or
//     more digits; Content-Length together with Transfer-Encoding; a Transfer-Encoding other than
//     chunked; a malformed chunk size or a chunk extension; a request target of about 1 MB;
//   - never answered, dropped at uWS's idle timeout (~10 s): a malformed request line (junk,
//     HTTP/2.0, HTTP/0.9, a non-ASCII method, absolute-form or '*' target, spaces or control
//     characters in the target), a missing Host, malformed header lines (no colon, NUL or bare CR,
//     space in the name, folding, LF-only line ends), more than 50 headers, a TLS handshake, and
//     bytes left after a request that do not parse as one;
//   - WebSocket frames that break the protocol (reserved opcodes or bits, fragmented or oversized
//     control frames, lengths past maxPayloadLength, continuation without a start, invalid UTF-8
//     text): the TCP connection is ended without a close frame, which clients report as 1006.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { AgentRecord, TaskRecord, TaskResult } from '../../runtime/protocol/index.js';
import { ROUTES } from '../../gateway/routes/index.js';
import { startGateway, type Gateway } from '../../gateway/server.js';
import { createMemoryCache } from '../../runtime/cache/memory.js';
import { systemClock } from '../../runtime/clock.js';
import { loadConfig } from '../../runtime/config.js';
import { createLogger } from '../../runtime/logger.js';
import { startFakeOllama, type FakeOllama } from '../fixtures/fake-ollama.js';
import {
  createRng,
  httpCases,
  wsFrameCases,
  wsMessageCases,
  type FuzzTargets,
  type HttpCase,
} from '../helpers/fuzz-cases.js';
import { decodeFrames, rawRequest, rawWebSocket, type RawResponse } from '../helpers/raw-http.js';
import { startTestNode, tempDbPath, type TestNode } from '../helpers/runtime.js';
import { NATS_URL, uniqueNamespace } from '../helpers/services.js';
import { TEST_KINDS } from '../helpers/kinds.js';

/** The seed of every generated case: change it to explore, keep it constant to reproduce. */
const FUZZ_SEED = 0x5eed_f022;
/** Seeded malformed-JSON bodies on top of the systematic cases. */
const RANDOM_JSON_CASES = 200;
/** The least number of malformed HTTP requests the suite must send. */
const MIN_HTTP_REQUESTS = 1000;
/** Connections in flight at once (besides those uWS holds until its idle timeout). */
const CONCURRENCY = 8;
/** Small enough to keep bodies quick to send; large enough for 100k nested arrays. */
const MAX_BODY_BYTES = 256 * 1024;
/** Short, so stalled bodies are answered (408) quickly. */
const BODY_READ_TIMEOUT_MS = 300;
/** Bound of one exchange Aurora answers itself. */
const ANSWER_TIMEOUT_MS = 5_000;
/** Bound of one exchange uWS drops at its idle timeout (10 s, checked every 4 s). */
const UWS_DROP_TIMEOUT_MS = 25_000;
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const WRITER = 'fuzz-writer';
const READER = 'fuzz-reader';

let fake: FakeOllama;
let db: ReturnType<typeof tempDbPath>;
let node: TestNode;
let gateway: Gateway;
let base: string;
let targets: FuzzTargets;
/** Warnings and errors the gateway logged: hostile input must not produce any. */
const serverLogs: string[] = [];

interface Snapshot {
  agents: AgentRecord[];
  tasks: TaskRecord[];
  models: unknown;
  workflows: unknown;
  /** What Ollama was asked to pull, and has. */
  pulls: unknown[];
  installed: string[];
}
let before: Snapshot;

async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(base + path);
  expect(res.status, path).toBe(200);
  return (await res.json()) as T;
}

async function snapshot(): Promise<Snapshot> {
  return {
    agents: await getJson<AgentRecord[]>('/api/v1/agents/'),
    tasks: await getJson<TaskRecord[]>('/api/v1/tasks?limit=1000'),
    models: await getJson('/api/v1/models/'),
    workflows: await getJson('/api/v1/workflows?limit=1000'),
    pulls: fake.requests.filter((r) => r.path === '/api/pull').map((r) => r.body),
    installed: fake.installedModels().sort(),
  };
}

async function post(path: string, body: unknown): Promise<Response> {
  return fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

beforeAll(async () => {
  fake = await startFakeOllama();
  db = tempDbPath();
  const namespace = uniqueNamespace('fuzz');
  node = await startTestNode({ busKind: 'memory', natsUrl: NATS_URL, ollamaUrl: fake.url, dbPath: db.path, namespace });
  gateway = await startGateway({
    host: '127.0.0.1',
    port: 0,
    bus: node.bus,
    subjects: node.subjects,
    config: loadConfig({ env: {}, overrides: { namespace, maxBodyBytes: MAX_BODY_BYTES, bodyReadTimeoutMs: BODY_READ_TIMEOUT_MS } }),
    kinds: TEST_KINDS,
    metrics: node.metrics,
    logger: createLogger('warn', {}, (line) => serverLogs.push(line)),
    cache: createMemoryCache(),
    clock: systemClock,
    startedAt: Date.now(),
    version: 'fuzz',
  });
  base = `http://127.0.0.1:${gateway.port}`;

  // State for the hostile requests to aim at: two agents, a loaded model, a finished task.
  for (const name of [WRITER, READER]) expect((await post('/api/v1/agents/', { name, description: `${name} agent` })).status).toBe(201);
  expect((await post('/api/v1/models/load', { name: 'llama2' })).status).toBe(201);
  const ran = await post('/api/v1/tasks/execute', { agent: WRITER, prompt: 'seed task' });
  expect(ran.status).toBe(200);
  const task = (await ran.json()) as TaskResult;
  // The agent reports idle once its actor has settled after the reply: wait for that, so the
  // snapshot is not taken mid-transition.
  while ((await getJson<AgentRecord[]>('/api/v1/agents/')).some((a) => a.status !== 'idle')) await new Promise((r) => setImmediate(r));
  before = await snapshot();
  expect(before.agents.map((a) => a.name).sort()).toEqual([READER, WRITER]);
  expect(before.tasks.map((t) => t.task_id)).toEqual([task.task_id]);
  targets = {
    agents: [WRITER, READER],
    loadedModel: 'llama2',
    installedModel: 'tinyllama',
    missingModel: 'mistral',
    taskId: task.task_id,
    maxBodyBytes: MAX_BODY_BYTES,
    batchMaxTasks: loadConfig({ env: {} }).batchMaxTasks,
    routes: ROUTES,
  };
});

afterAll(async () => {
  await gateway?.close();
  await node?.stop();
  await fake?.close();
  db?.cleanup();
});

// ---------------------------------------------------------------- checking one exchange

function statusMatches(r: RawResponse, statuses: readonly number[] | undefined): string | undefined {
  if (r.status >= 500) return `answered ${r.status}`;
  if (r.status < 400) return `answered ${r.status}, not a 4xx`;
  if (statuses !== undefined && !statuses.includes(r.status)) return `answered ${r.status}, expected ${statuses.join(' or ')}`;
  return undefined;
}

/** A 4xx with a JSON {"detail": string} body and a well-formed request id. */
function checkAnswer(r: RawResponse, statuses: readonly number[] | undefined): string | undefined {
  const status = statusMatches(r, statuses);
  if (status) return `${status}: ${r.body.toString('utf8').slice(0, 200)}`;
  if (r.headers['content-type'] !== 'application/json') return `content-type ${r.headers['content-type']}`;
  let body: unknown;
  try {
    body = JSON.parse(r.body.toString('utf8'));
  } catch {
    return `body is not JSON: ${r.body.toString('utf8').slice(0, 200)}`;
  }
  const keys = typeof body === 'object' && body !== null ? Object.keys(body) : [];
  if (keys.length !== 1 || typeof (body as { detail?: unknown }).detail !== 'string') return `body is not {"detail": string}: ${JSON.stringify(body).slice(0, 200)}`;
  return undefined;
}

function checkRequestId(r: RawResponse): string | undefined {
  const id = r.headers['x-request-id'] ?? '';
  return REQUEST_ID.test(id) ? undefined : `unsafe x-request-id ${JSON.stringify(id.slice(0, 80))}`;
}

function timeoutFor(c: HttpCase): number {
  return c.expect.kind === 'uwsDrop' || c.expect.kind === 'answerThenDrop' ? UWS_DROP_TIMEOUT_MS : ANSWER_TIMEOUT_MS;
}

/** Sends one case and says what was wrong with the outcome, or undefined. */
async function runCase(c: HttpCase, port: number): Promise<string | undefined> {
  const e = c.expect;
  const reads = e.kind === 'answerThenOk' || e.kind === 'answerThenClose' || e.kind === 'answerThenDrop' ? 2 : 1;
  let outcome;
  try {
    outcome = await rawRequest(port, c.parts, {
      expect: reads,
      timeoutMs: timeoutFor(c),
      abortAfterWrite: e.kind === 'clientAbort',
      headResponses: c.headResponses ?? 0,
    });
  } catch (err) {
    return (err as Error).message;
  }
  const { responses, closedByServer, rest } = outcome;
  const fiveHundred = responses.find((r) => r.status >= 500);
  if (fiveHundred) return `answered ${fiveHundred.status}: ${fiveHundred.body.toString('utf8').slice(0, 200)}`;
  // A request id is never echoed unless it is safe to log and to put in a header.
  for (const r of responses.filter((x) => x.headers['x-request-id'] !== undefined)) {
    const bad = checkRequestId(r);
    if (bad) return bad;
  }
  const first = responses[0];
  switch (e.kind) {
    case 'answer':
      if (responses.length !== 1 || !first) return `expected one answer, got ${responses.length} (closed: ${closedByServer})`;
      return checkAnswer(first, e.statuses);
    case 'headAnswer':
      if (!first) return `no answer (closed: ${closedByServer})`;
      if (first.body.length !== 0) return 'a HEAD answer carried a body';
      return statusMatches(first, undefined);
    case 'answerThenOk': {
      if (responses.length !== 2 || !first) return `expected two answers, got ${responses.length} (closed: ${closedByServer})`;
      const bad = c.headResponses ? statusMatches(first, e.statuses) : checkAnswer(first, e.statuses);
      if (bad) return `first: ${bad}`;
      return responses[1]!.status === 200 ? undefined : `the request behind it got ${responses[1]!.status}`;
    }
    case 'answerThenClose':
    case 'answerThenDrop':
      if (responses.length !== 1 || !first) return `expected one answer then a close, got ${responses.length} answers (closed: ${closedByServer})`;
      if (!closedByServer) return 'the connection stayed open';
      return checkAnswer(first, e.statuses);
    case 'uwsClose':
    case 'uwsDrop':
      if (responses.length > 0 || rest.length > 0) return `uWS answered: ${Buffer.concat([...responses.map((r) => r.body), rest]).toString('latin1').slice(0, 200)}`;
      return closedByServer ? undefined : 'the connection stayed open';
    case 'clientAbort':
      return responses.map((r) => statusMatches(r, undefined)).find((x) => x !== undefined);
  }
}

/** Runs `work` over `items` with at most `limit` in flight. */
async function pool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

// ---------------------------------------------------------------- the suite

describe(`hostile input (seed 0x${FUZZ_SEED.toString(16)})`, () => {
  it(`answers at least ${MIN_HTTP_REQUESTS} malformed HTTP requests with a 4xx {"detail"} or a clean close, never a 5xx`, async () => {
    const cases = httpCases(targets, createRng(FUZZ_SEED), RANDOM_JSON_CASES);
    expect(cases.length).toBeGreaterThanOrEqual(MIN_HTTP_REQUESTS);
    const byGroup = new Map<string, number>();
    for (const c of cases) byGroup.set(c.group, (byGroup.get(c.group) ?? 0) + 1);
    console.log(
      `fuzz seed 0x${FUZZ_SEED.toString(16)}: ${cases.length} malformed HTTP requests — ` +
        [...byGroup].map(([g, n]) => `${g} ${n}`).join(', '),
    );

    const failures: string[] = [];
    const record = async (c: HttpCase): Promise<void> => {
      const problem = await runCase(c, gateway.port);
      if (problem !== undefined) failures.push(`[${c.group}] ${c.label}: ${problem}`);
    };
    // Exchanges uWS holds until its idle timeout run side by side with everything else.
    const slow = cases.filter((c) => timeoutFor(c) === UWS_DROP_TIMEOUT_MS);
    const quick = cases.filter((c) => timeoutFor(c) !== UWS_DROP_TIMEOUT_MS);
    await Promise.all([Promise.all(slow.map(record)), pool(quick, CONCURRENCY, record)]);

    expect(failures.slice(0, 40), `${failures.length} of ${cases.length} cases went wrong`).toEqual([]);
  }, 60_000);

  it('ends every broken WebSocket frame with a close, or answers it with an error and stays usable', async () => {
    const cases = wsFrameCases(MAX_BODY_BYTES * 2, createRng(FUZZ_SEED + 1));
    const failures: string[] = [];
    await pool(cases, CONCURRENCY, async (c) => {
      let ws;
      try {
        ws = await rawWebSocket(gateway.port, '/api/v1/stream');
      } catch (err) {
        failures.push(`${c.label}: ${(err as Error).message}`);
        return;
      }
      try {
        for (const f of c.frames) ws.socket.write(f);
        const answered = (received: Buffer): boolean =>
          c.expect === 'errorOrClose' &&
          decodeFrames(received).some((f) => f.opcode === 0x1 && /"type":"(error|pong)"/.test(f.payload.toString('utf8')));
        const how = await ws.until(answered, ANSWER_TIMEOUT_MS);
        if (how === 'closed') {
          const { closeCode } = await ws.closed;
          // No close frame (uWS ends the TCP connection on protocol errors), or one of these.
          if (closeCode !== undefined && ![1002, 1003, 1005, 1007, 1009].includes(closeCode)) failures.push(`${c.label}: closed with ${closeCode}`);
        }
      } catch (err) {
        failures.push(`${c.label}: ${(err as Error).message}`);
      } finally {
        ws.destroy();
      }
    });
    expect(failures).toEqual([]);
  });

  it('answers every malformed stream message with exactly one error message, in order, and keeps the socket open', async () => {
    const messages = wsMessageCases(targets, createRng(FUZZ_SEED + 2));
    const ws = new WebSocket(`ws://127.0.0.1:${gateway.port}/api/v1/stream?types=task.completed`);
    const received: { type?: string; detail?: unknown }[] = [];
    let onMessage = (): void => {};
    ws.on('message', (data) => {
      received.push(JSON.parse(String(data)) as { type?: string; detail?: unknown });
      onMessage();
    });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const replies = (n: number): Promise<void> =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only ${received.length} of ${n} replies arrived`)), 15_000);
        onMessage = () => {
          if (received.length >= n) {
            clearTimeout(timer);
            resolve();
          }
        };
        onMessage();
      });
    await replies(1);
    expect(received[0]?.type).toBe('subscribed');
    for (const m of messages) ws.send(m);
    ws.send('{"op":"ping"}');
    await replies(1 + messages.length + 1);
    const answers = received.slice(1, 1 + messages.length);
    const wrong = answers
      .map((a, i) => (a.type === 'error' && typeof a.detail === 'string' ? undefined : `${messages[i]!.slice(0, 80)} → ${JSON.stringify(a).slice(0, 120)}`))
      .filter((x) => x !== undefined);
    expect(wrong).toEqual([]);
    expect(received[1 + messages.length]).toEqual({ type: 'pong' });
    console.log(`fuzz: ${messages.length} malformed stream messages, each answered with an error`);
    ws.close();
  });

  it('closes a stream socket that sends binary, oversized or invalid UTF-8 messages', async () => {
    const closeCodeAfter = async (send: (ws: WebSocket) => void): Promise<number> => {
      const ws = new WebSocket(`ws://127.0.0.1:${gateway.port}/api/v1/stream`);
      ws.on('error', () => {});
      await new Promise((resolve) => ws.once('open', resolve));
      const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
      send(ws);
      return closed;
    };
    expect(await closeCodeAfter((ws) => ws.send(Buffer.from('{"op":"ping"}'), { binary: true }))).toBe(1003);
    expect(await closeCodeAfter((ws) => ws.send('x'.repeat(MAX_BODY_BYTES + 1)))).toBe(1009);
    // Past maxPayloadLength (twice the cap) and invalid UTF-8 are refused by uWS without a close frame.
    expect(await closeCodeAfter((ws) => ws.send('x'.repeat(MAX_BODY_BYTES * 2 + 1)))).toBe(1006);
    expect(await closeCodeAfter((ws) => ws.send(Buffer.from([0x7b, 0xff, 0x7d]), { binary: false }))).toBe(1006);
  });

  it('still serves and runs a task afterwards, logged no defect, and the stored state is unchanged', async () => {
    expect((await fetch(`${base}/health/live`)).status).toBe(200);
    const after = await snapshot();
    expect(after.agents).toEqual(before.agents);
    expect(after.tasks).toEqual(before.tasks);
    expect(after.models).toEqual(before.models);
    expect(after.pulls).toEqual(before.pulls);
    expect(after.installed).toEqual(before.installed);
    expect(serverLogs).toEqual([]);
    const metrics = await node.metrics.registry.metrics();
    expect(metrics.match(/^aurora_http_requests_total\{[^}]*status="5\d\d"[^}]*\} [1-9].*$/gm) ?? []).toEqual([]);

    const res = await post('/api/v1/tasks/execute', { agent: WRITER, prompt: 'still standing' });
    expect(res.status).toBe(200);
    expect(((await res.json()) as TaskResult).result).toBe('still standing');
  });
});
