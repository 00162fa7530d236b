// The WebSocket stream over real sockets: a bare uWS app with registerStream, the in-process bus,
// `ws` clients. No sleeps: every wait is for a message, a close, or a predicate on the server.
import uws from 'uWebSockets.js';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuroraEvent, EventType, TaskRequest, TaskResult } from '../../runtime/protocol/index.js';
import type { GatewayDeps } from '../../gateway/deps.js';
import { registerStream, STREAM_PATH } from '../../gateway/stream.js';
import { createMemoryBus } from '../../runtime/bus/memory.js';
import { createMemoryCache } from '../../runtime/cache/memory.js';
import { systemClock } from '../../runtime/clock.js';
import { loadConfig, type LoadConfigOptions } from '../../runtime/config.js';
import { AuroraError } from '../../runtime/errors.js';
import { silentLogger } from '../../runtime/logger.js';
import { createMetrics } from '../../runtime/metrics.js';
import { serve } from '../../runtime/rpc.js';
import { createSubjects, type EventKind } from '../../runtime/subjects.js';
import { uniqueNamespace } from '../helpers/services.js';
import { TEST_KINDS } from '../helpers/kinds.js';

/**
 * A message from the stream (gateway/stream-protocol.ts lists them): every field any of them
 * carries, typed as on the wire; which are there depends on the type. `binary` marks a binary
 * frame, which the server never sends.
 */
interface Msg {
  type?: string;
  seq?: number;
  time?: string;
  agent?: string;
  task_id?: string;
  payload?: Record<string, unknown>;
  request_id?: string;
  result?: Record<string, unknown>;
  detail?: string;
  code?: string;
  oldest_seq?: number;
  binary?: true;
}

// ---------------------------------------------------------------- harness

interface Harness {
  readonly deps: GatewayDeps;
  readonly stream: { close(): void };
  url(query?: string): string;
  publish(type: EventType, fields?: { agent?: string; task_id?: string; payload?: Record<string, unknown> }): void;
  /** Resolves once the gateway has handled everything published so far. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

const open: { close(): Promise<void> }[] = [];
const clients: Client[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  for (const h of open.splice(0)) await h.close();
});

async function start(overrides: LoadConfigOptions['overrides'] = {}): Promise<Harness> {
  const namespace = uniqueNamespace('stream');
  const config = loadConfig({ env: {}, overrides: { namespace, ...overrides } });
  const bus = createMemoryBus();
  const subjects = createSubjects(namespace);
  const deps: GatewayDeps = {
    bus,
    subjects,
    config,
    kinds: TEST_KINDS,
    metrics: createMetrics({ defaultMetrics: false }),
    logger: silentLogger,
    cache: createMemoryCache(),
    clock: systemClock,
    startedAt: Date.now(),
    version: 'test',
  };
  const app = uws.App();
  const stream = registerStream(app, deps);
  const listenSocket = await new Promise<uws.us_listen_socket>((resolve, reject) => {
    app.listen('127.0.0.1', 0, (ls) => (ls ? resolve(ls) : reject(new Error('listen failed'))));
  });
  const port = uws.us_socket_local_port(listenSocket);
  let closed = false;
  const h: Harness = {
    deps,
    stream,
    url: (query) => `ws://127.0.0.1:${port}${STREAM_PATH}${query === undefined ? '' : `?${query}`}`,
    publish(type, fields = {}) {
      const kind = type.slice(0, type.indexOf('.')) as EventKind;
      const event: AuroraEvent = { type, time: new Date().toISOString(), payload: fields.payload ?? {} };
      if (fields.agent !== undefined) event.agent = fields.agent;
      if (fields.task_id !== undefined) event.task_id = fields.task_id;
      bus.publish(subjects.event(kind, type.slice(kind.length + 1), fields.agent), event);
    },
    settled: () => bus.flush(),
    async close() {
      if (closed) return;
      closed = true;
      stream.close();
      uws.us_listen_socket_close(listenSocket);
      await bus.drain();
    },
  };
  open.push(h);
  return h;
}

class Client {
  private readonly inbox: Msg[] = [];
  private read = 0;
  private wake: (() => void) | undefined;
  private closeInfo: { code: number; reason: string } | undefined;
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      this.inbox.push(isBinary ? { binary: true } : (JSON.parse(data.toString()) as Msg));
      this.wake?.();
    });
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        this.wake?.();
        resolve(this.closeInfo);
      });
    });
  }

  static connect(url: string): Promise<Client> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      const client = new Client(ws);
      ws.once('open', () => {
        clients.push(client);
        resolve(client);
      });
      ws.once('unexpected-response', (_req, res) => {
        ws.terminate();
        reject(new Error(`upgrade refused: ${res.statusCode}`));
      });
      ws.once('error', reject);
    });
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  /** The next message not read yet. */
  async next(): Promise<Msg> {
    while (this.read === this.inbox.length) {
      if (this.closeInfo !== undefined) throw new Error(`socket closed (${this.closeInfo.code}) while waiting for a message`);
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
    return this.inbox[this.read++]!;
  }

  /** Reads messages up to and including the first that satisfies `done`. */
  async until(done: (m: Msg) => boolean): Promise<Msg[]> {
    const out: Msg[] = [];
    for (;;) {
      const m = await this.next();
      out.push(m);
      if (done(m)) return out;
    }
  }

  async take(n: number): Promise<Msg[]> {
    const out: Msg[] = [];
    while (out.length < n) out.push(await this.next());
    return out;
  }
}

async function connect(h: Harness, query?: string): Promise<Client> {
  const c = await Client.connect(h.url(query));
  expect(await c.next()).toMatchObject({ type: 'subscribed' });
  return c;
}

/** Polls a condition on the server (a metric) until it holds; fails after a few seconds. */
async function until(pred: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const gauge = async (m: { get(): Promise<{ values: { value: number }[] }> }): Promise<number> =>
  (await m.get()).values[0]?.value ?? 0;

const ns = (msgs: Msg[]) => msgs.map((m) => m.payload?.n);

// ---------------------------------------------------------------- tests

describe('WebSocket stream', () => {
  it('greets a new socket with the current seq and sends it every event by default', async () => {
    const h = await start();
    // A socket watching something else keeps the gateway listening (see STREAM_LINGER_MS).
    await connect(h, 'types=model.loaded');
    h.publish('agent.created', { agent: 'a', payload: { n: 1 } });
    await h.settled();
    const c = await Client.connect(h.url());
    expect(await c.next()).toEqual({ type: 'subscribed', seq: 1 });
    h.publish('task.token', { agent: 'a', task_id: 't', payload: { n: 2 } });
    const m = await c.next();
    expect(m).toEqual({ seq: 2, time: expect.any(String), type: 'task.token', agent: 'a', task_id: 't', payload: { n: 2 } });
    expect(await gauge(h.deps.metrics.wsClients)).toBe(2);
  });

  it('filters by agent, type and task, with wildcards, from the URL or a subscribe op', async () => {
    const h = await start();
    const byAgent = await connect(h, 'agents=alpha*');
    const byType = await connect(h);
    byType.send({ op: 'subscribe', types: ['task.q*', 'agent.*'] });
    expect(await byType.next()).toMatchObject({ type: 'subscribed' });
    const byTask = await connect(h, 'tasks=t-7');
    const both = await connect(h, 'agents=beta&types=task.token');

    h.publish('task.token', { agent: 'alpha-1', task_id: 't-1', payload: { n: 1 } });
    h.publish('task.token', { agent: 'beta', task_id: 't-2', payload: { n: 2 } });
    h.publish('agent.created', { agent: 'alpha-2', payload: { n: 3 } });
    h.publish('task.queued', { agent: 'beta', task_id: 't-7', payload: { n: 4 } });
    h.publish('supervisor.crash', { payload: { n: 5 } });
    h.publish('model.loaded', { payload: { n: 6 } });
    h.publish('task.token', { agent: 'betamax', task_id: 't-3', payload: { n: 7 } });
    // The last event matches every filter: when it arrives, everything before it has been judged.
    h.publish('agent.deleted', { agent: 'alpha-9', task_id: 't-7', payload: { n: 99 } });
    h.publish('task.token', { agent: 'beta', task_id: 't-7', payload: { n: 99 } });

    const last = (m: Msg) => m.payload?.n === 99;
    expect(ns(await byAgent.until(last))).toEqual([1, 3, 99]);
    expect(ns(await byType.until(last))).toEqual([3, 4, 99]);
    expect(ns(await byTask.until(last))).toEqual([4, 99]);
    expect(ns(await both.until(last))).toEqual([2, 99]);
  });

  it('delivers events in order with seq increasing by one', async () => {
    const h = await start();
    const c = await connect(h);
    for (let n = 1; n <= 200; n++) h.publish('task.token', { agent: 'a', task_id: 't', payload: { n } });
    const got = await c.take(200);
    expect(ns(got)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(got.map((m) => m.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
  });

  it('delivers a burst far bigger than the replay window whole to live sockets', async () => {
    // Events are sent once per loop turn: a burst must not overtake a live socket while it waits.
    const h = await start({ eventReplaySize: 16 });
    const all = await connect(h);
    const odd = await connect(h, 'agents=odd');
    for (let n = 1; n <= 2_500; n++) h.publish('task.token', { agent: n % 2 === 1 ? 'odd' : 'even', payload: { n } });
    const got = await all.take(2_500);
    expect(got.map((m) => m.seq)).toEqual(Array.from({ length: 2_500 }, (_, i) => i + 1));
    expect(ns(await odd.take(1_250))).toEqual(Array.from({ length: 1_250 }, (_, i) => 2 * i + 1));
    expect(await gauge(h.deps.metrics.wsDropped)).toBe(0);
  });

  it('keeps every event, once and in order, while sockets sharing filters keep asking for replies', async () => {
    // Each ping or subscribe takes the socket off the shared (topic) delivery and back on.
    const h = await start();
    const c = await connect(h, 'types=task.token');
    const other = await connect(h, 'types=task.token');
    for (let round = 0; round < 20; round++) {
      for (let i = 1; i <= 10; i++) h.publish('task.token', { agent: 'a', payload: { n: round * 10 + i } });
      c.send({ op: 'ping' });
      if (round % 5 === 4) c.send({ op: 'subscribe', types: ['task.token'] });
      if (round % 2 === 0) await h.settled();
    }
    let pongs = 0;
    let lastSeen = false;
    const got = await c.until((m) => {
      if (m.type === 'pong') pongs++;
      if (m.payload?.n === 200) lastSeen = true;
      return pongs === 20 && lastSeen;
    });
    const events = got.filter((m) => m.type === 'task.token');
    expect(events.map((m) => m.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(ns(events)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(got.filter((m) => m.type === 'subscribed')).toHaveLength(4);
    expect((await other.take(200)).map((m) => m.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
  });

  it('after a reconnect with since, sends exactly the missed matching events, then live ones', async () => {
    const h = await start();
    const first = await connect(h, 'agents=alpha*');
    h.publish('task.token', { agent: 'alpha', payload: { n: 1 } });
    const [seen] = await first.take(1);
    first.ws.close();
    await first.closed;

    h.publish('task.token', { agent: 'beta', payload: { n: 2 } });
    h.publish('task.token', { agent: 'alpha', payload: { n: 3 } });
    h.publish('task.token', { agent: 'beta', payload: { n: 4 } });
    h.publish('task.token', { agent: 'alpha-x', payload: { n: 5 } });
    await h.settled();

    const again = await Client.connect(h.url(`agents=alpha*&since=${seen!.seq}`));
    h.publish('task.token', { agent: 'alpha', payload: { n: 6 } }); // live, possibly during the replay
    h.publish('task.token', { agent: 'beta', payload: { n: 7 } });
    h.publish('task.token', { agent: 'alpha', payload: { n: 8 } });
    const got = await again.until((m) => m.payload?.n === 8);
    expect(got[0]).toMatchObject({ type: 'subscribed' });
    expect(ns(got.slice(1))).toEqual([3, 5, 6, 8]);
    const seqs = got.slice(1).map((m) => m.seq as number);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it('listens to no events while no socket is open: a first socket starts from what follows it', async () => {
    const h = await start();
    h.publish('agent.created', { agent: 'early', payload: {} });
    await h.settled();
    expect(await gauge(h.deps.metrics.streamListening)).toBe(0);
    const c = await Client.connect(h.url('since=0'));
    expect(await c.next()).toEqual({ type: 'subscribed', seq: 0 });
    expect(await gauge(h.deps.metrics.streamListening)).toBe(1);
    h.publish('agent.created', { agent: 'late', payload: {} });
    expect(await c.next()).toMatchObject({ seq: 1, agent: 'late' });
  });

  it('stops listening STREAM_LINGER_MS after the last socket closed, and tells a returning client of the gap', async () => {
    const h = await start({ streamLingerMs: 20 });
    const first = await connect(h);
    h.publish('task.token', { agent: 'a', payload: { n: 1 } });
    const [seen] = await first.take(1);
    first.ws.close();
    await first.closed;
    await until(async () => (await gauge(h.deps.metrics.streamListening)) === 0, 'the gateway to stop listening');
    h.publish('task.token', { agent: 'a', payload: { n: 2 } }); // nobody records this one
    await h.settled();
    const back = await Client.connect(h.url(`since=${seen!.seq}`));
    expect(await back.next()).toEqual({ type: 'subscribed', seq: 2 });
    expect(await back.next()).toEqual({ type: 'replay.gap', oldest_seq: 3 });
    h.publish('task.token', { agent: 'a', payload: { n: 3 } });
    expect(await back.next()).toMatchObject({ seq: 3, payload: { n: 3 } });
  });

  it('turns a replay into the live stream with no gap and no duplicate while events keep coming', async () => {
    const h = await start();
    // A socket watching something else keeps the gateway listening (see STREAM_LINGER_MS).
    await connect(h, 'types=model.loaded');
    for (let n = 1; n <= 300; n++) h.publish('task.token', { agent: 'a', payload: { n } });
    await h.settled();
    const c = await Client.connect(h.url('since=0'));
    for (let n = 301; n <= 400; n++) h.publish('task.token', { agent: 'a', payload: { n } });
    const got = await c.until((m) => m.payload?.n === 400);
    expect(got[0]).toMatchObject({ type: 'subscribed' });
    expect(got.slice(1).map((m) => m.seq)).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
  });

  it('replays from a subscribe op with since under the new filters', async () => {
    const h = await start();
    const c = await connect(h, 'types=model.loaded');
    for (let n = 1; n <= 6; n++) h.publish('task.token', { agent: n % 2 === 0 ? 'even' : 'odd', payload: { n } });
    await h.settled();
    c.send({ op: 'subscribe', agents: ['even'], since: 0 });
    expect(await c.next()).toEqual({ type: 'subscribed', seq: 6 });
    expect(ns(await c.take(3))).toEqual([2, 4, 6]);
    h.publish('task.token', { agent: 'even', payload: { n: 8 } });
    expect(ns(await c.take(1))).toEqual([8]);
  });

  it('paces a long replay by the socket drain instead of closing the client', async () => {
    // 12 MB of replay against a 64 KiB queue bound: more than the kernel buffers take at once.
    const h = await start({ eventReplaySize: 5000, wsMaxQueueBytes: 64 * 1024 });
    // A socket watching something else keeps the gateway listening (see STREAM_LINGER_MS).
    await connect(h, 'types=model.loaded');
    const blob = 'x'.repeat(4096);
    for (let n = 1; n <= 3000; n++) h.publish('task.token', { agent: 'a', payload: { n, blob } });
    await h.settled();
    const c = await Client.connect(h.url('since=0'));
    h.publish('task.token', { agent: 'a', payload: { n: 3001 } });
    const got = await c.until((m) => m.payload?.n === 3001);
    expect(got.slice(1).map((m) => m.seq)).toEqual(Array.from({ length: 3001 }, (_, i) => i + 1));
    expect(await gauge(h.deps.metrics.wsDropped)).toBe(0);
  });

  it('tells a client whose since is older than the window about the gap, then sends what remains', async () => {
    const h = await start({ eventReplaySize: 5 });
    // A socket watching something else keeps the gateway listening (see STREAM_LINGER_MS).
    await connect(h, 'types=model.loaded');
    for (let n = 1; n <= 10; n++) h.publish('task.token', { agent: 'a', payload: { n } });
    await h.settled();
    const c = await Client.connect(h.url('since=2'));
    expect(await c.next()).toEqual({ type: 'subscribed', seq: 10 });
    expect(await c.next()).toEqual({ type: 'replay.gap', oldest_seq: 6 });
    expect((await c.take(5)).map((m) => m.seq)).toEqual([6, 7, 8, 9, 10]);
    h.publish('task.token', { agent: 'a', payload: { n: 11 } });
    expect(await c.next()).toMatchObject({ seq: 11 });
  });

  it('runs a task for execute: its events as they stream, then task.result, whatever the filters', async () => {
    const h = await start();
    const { bus, subjects } = h.deps;
    const tokens = ['Hel', 'lo', ' world'];
    serve<TaskRequest, TaskResult>(bus, subjects.agentTask('writer'), (req) => {
      h.publish('task.queued', { agent: 'writer', task_id: req.task_id });
      for (const token of tokens) h.publish('task.token', { agent: 'writer', task_id: req.task_id, payload: { token } });
      return taskResult(req, tokens.join(''));
    });
    const c = await connect(h);
    c.send({ op: 'unsubscribe' });
    expect(await c.next()).toMatchObject({ type: 'unsubscribed' });
    h.publish('task.token', { agent: 'writer', task_id: 'someone-else' }); // not ours: not sent

    c.send({ op: 'execute', agent: 'writer', prompt: 'hi', request_id: 'r1' });
    const submitted = await c.next();
    expect(submitted).toEqual({ type: 'task.submitted', request_id: 'r1', task_id: expect.any(String) });
    const taskId = submitted.task_id as string;
    const got = await c.until((m) => m.type === 'task.result');
    expect(got.map((m) => m.type)).toEqual(['task.queued', 'task.token', 'task.token', 'task.token', 'task.result']);
    expect(got.slice(1, 4).map((m) => m.payload!.token)).toEqual(tokens);
    for (const m of got.slice(0, 4)) expect(m.task_id).toBe(taskId);
    expect(got[4]).toMatchObject({ request_id: 'r1', task_id: taskId, result: { task_id: taskId, result: 'Hello world' } });

    // Once the result is out the task no longer follows the socket.
    h.publish('task.completed', { agent: 'writer', task_id: taskId });
    await h.settled();
    c.send({ op: 'ping' });
    expect(await c.next()).toEqual({ type: 'pong' });
  });

  it('never lets a task.result overtake its events, even while the socket is still replaying', async () => {
    const h = await start({ eventReplaySize: 5000, wsMaxQueueBytes: 64 * 1024 });
    const { bus, subjects } = h.deps;
    serve<TaskRequest, TaskResult>(bus, subjects.agentTask('writer'), (req) => {
      for (const token of ['a', 'b']) h.publish('task.token', { agent: 'writer', task_id: req.task_id, payload: { token } });
      return taskResult(req, 'ab');
    });
    // A socket watching something else keeps the gateway listening (see STREAM_LINGER_MS).
    await connect(h, 'types=model.loaded');
    const blob = 'z'.repeat(4096);
    for (let n = 1; n <= 2000; n++) h.publish('agent.status', { agent: 'other', payload: { n, blob } });
    await h.settled();
    const c = await Client.connect(h.url('since=0'));
    c.send({ op: 'execute', agent: 'writer', prompt: 'hi' });
    const got = await c.until((m) => m.type === 'task.result');
    const kinds = got.map((m) => (m.type === 'agent.status' ? 'replay' : m.type));
    const lastReplay = kinds.lastIndexOf('replay');
    expect(got.filter((m) => m.type === 'agent.status')).toHaveLength(2000);
    expect(kinds.slice(lastReplay + 1)).toEqual(['task.submitted', 'task.token', 'task.token', 'task.result']);
  });

  it('answers execute with task.error carrying the code when the task fails', async () => {
    const h = await start();
    const { bus, subjects } = h.deps;
    serve(bus, subjects.agentTask('broken'), () => {
      throw new AuroraError('agent_failed', 'agent broken has failed');
    });
    const c = await connect(h);
    c.send({ op: 'execute', agent: 'broken', prompt: 'hi', request_id: 'r2' });
    const [submitted, failed] = await c.take(2);
    expect(failed).toEqual({
      type: 'task.error',
      request_id: 'r2',
      task_id: submitted!.task_id,
      detail: 'agent broken has failed',
      code: 'agent_failed',
    });
    c.send({ op: 'execute', agent: 'nobody', prompt: 'hi' });
    const [, missing] = await c.take(2);
    expect(missing).toMatchObject({ type: 'task.error', code: 'no_responders' });
  });

  it('answers invalid messages with an error and keeps the socket open', async () => {
    const h = await start();
    const c = await connect(h);
    const bad: unknown[] = [
      'not json',
      '"a string"',
      { op: 'dance' },
      { op: 'subscribe', agents: 'alpha' },
      { op: 'subscribe', since: -1 },
      { op: 'subscribe', types: ['task.tokn'] },
      { op: 'execute', agent: 'writer', request_id: 'r3' },
      { op: 'ping', extra: true },
    ];
    for (const msg of bad) c.send(msg);
    const errors = await c.take(bad.length);
    for (const e of errors) expect(e).toEqual({ type: 'error', detail: expect.any(String), ...(e.request_id ? { request_id: 'r3' } : {}) });
    expect(errors[6]).toMatchObject({ request_id: 'r3' });
    c.send({ op: 'ping' });
    expect(await c.next()).toEqual({ type: 'pong' });
    h.publish('agent.created', { agent: 'still-here' });
    expect(await c.next()).toMatchObject({ type: 'agent.created', agent: 'still-here' });
  });

  it('closes a socket that sends a binary frame (1003) or an oversized message (1009)', async () => {
    const h = await start({ maxBodyBytes: 4096 });
    const binary = await connect(h);
    binary.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect(await binary.closed).toMatchObject({ code: 1003 });
    const big = await connect(h);
    big.send({ op: 'subscribe', agents: ['x'.repeat(5000)] });
    expect(await big.closed).toMatchObject({ code: 1009 });
    const fine = await connect(h);
    fine.send({ op: 'ping' });
    expect(await fine.next()).toEqual({ type: 'pong' });
  });

  it('refuses the upgrade with 400 when the query is invalid', async () => {
    const h = await start();
    await expect(Client.connect(h.url('since=soon'))).rejects.toThrow('400');
    await expect(Client.connect(h.url('types=nope.*'))).rejects.toThrow('400');
  });

  it('closes a slow consumer with 4008 and keeps serving everyone else', async () => {
    const h = await start({ wsMaxQueueBytes: 256 * 1024 });
    const { metrics } = h.deps;
    const slow = await connect(h);
    const healthy = await connect(h, 'types=agent.created');
    (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    const blob = 'y'.repeat(64 * 1024);
    let batches = 0;
    while ((await gauge(metrics.wsDropped)) === 0) {
      // Kernel buffers take tens of MB at most; far beyond that the bound is not being enforced.
      if (++batches > 128) throw new Error('the paused client was never closed');
      for (let i = 0; i < 16; i++) h.publish('task.token', { agent: 'a', payload: { blob } });
      await h.settled();
    }
    expect(await gauge(metrics.wsClients)).toBe(1);
    (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    expect(await slow.closed).toEqual({ code: 4008, reason: 'slow consumer' });

    h.publish('agent.created', { agent: 'after' });
    expect(await healthy.next()).toMatchObject({ type: 'agent.created', agent: 'after' });
    const late = await connect(h);
    late.send({ op: 'ping' });
    expect(await late.next()).toEqual({ type: 'pong' });
    expect(await gauge(metrics.wsDropped)).toBe(1);
  });

  it('closes a slow consumer on shared delivery after one burst, with no further events to trigger it', async () => {
    const h = await start({ wsMaxQueueBytes: 256 * 1024, eventReplaySize: 16 });
    const slow = await connect(h, 'types=task.token');
    const healthy = await connect(h, 'types=agent.created');
    (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    // Far more than kernel buffers hold (tens of MB at most), published in one go.
    const blob = 'z'.repeat(64 * 1024);
    for (let i = 0; i < 768; i++) h.publish('task.token', { agent: 'a', payload: { n: i, blob } });
    h.publish('agent.created', { agent: 'after' });
    expect(await healthy.next()).toMatchObject({ type: 'agent.created', agent: 'after' });
    (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    expect(await slow.closed).toEqual({ code: 4008, reason: 'slow consumer' });
    expect(await gauge(h.deps.metrics.wsDropped)).toBe(1);
  });

  it('close() unsubscribes from the bus and closes every socket with 1001', async () => {
    const h = await start();
    const a = await connect(h);
    const b = await connect(h);
    expect(await gauge(h.deps.metrics.wsClients)).toBe(2);
    h.stream.close();
    expect(await a.closed).toMatchObject({ code: 1001 });
    expect(await b.closed).toMatchObject({ code: 1001 });
    expect(await gauge(h.deps.metrics.wsClients)).toBe(0);
    await expect(Client.connect(h.url())).rejects.toThrow('503');
    h.publish('agent.created', { agent: 'nobody-listens' });
    await h.settled();
  });
});

function taskResult(req: TaskRequest, text: string): TaskResult {
  return {
    task_id: req.task_id,
    agent: req.agent,
    result: text,
    status: 'completed',
    model: 'test-model',
    provider: 'test',
    tokens_used: 3,
    prompt_tokens: 1,
    completion_tokens: 2,
    completed_at: new Date().toISOString(),
    duration_ms: 1,
    timings: { queued_ms: 0, total_duration_ms: null, load_duration_ms: null, prompt_eval_duration_ms: null, eval_duration_ms: null },
  };
}
