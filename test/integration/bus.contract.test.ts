// One contract, two buses: whatever Aurora may rely on holds for the in-process bus and for
// real NATS alike. Negative checks ("was not delivered") publish a sentinel afterwards on the
// same bus and wait for it: both buses deliver in publish order, so by then the message would
// have arrived.
import { connect, createServer, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Reply } from '../../runtime/protocol/index.js';
import type { Bus, BusMessage } from '../../runtime/bus/bus.js';
import { createBus } from '../../runtime/bus/index.js';
import { createMemoryBus } from '../../runtime/bus/memory.js';
import { createNatsBus } from '../../runtime/bus/nats.js';
import { loadConfig } from '../../runtime/config.js';
import { AuroraError } from '../../runtime/errors.js';
import { createLogger, type Logger } from '../../runtime/logger.js';
import { call, serve, type RpcReply } from '../../runtime/rpc.js';
import { describeWithService, freePort, NATS_URL, uniqueNamespace } from '../helpers/services.js';

const WAIT_MS = 5_000;

type BusFactory = (logger: Logger) => Promise<Bus>;

interface LogLine {
  level: string;
  msg: string;
  [field: string]: unknown;
}

function captureLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  return { lines, logger: createLogger('debug', {}, (line) => lines.push(JSON.parse(line) as LogLine)) };
}

function deferred<T = void>(): { promise: Promise<T>; resolve(value: T): void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Records deliveries; waitFor(n) resolves once n have arrived, or fails after a bound. */
class Recorder {
  readonly msgs: BusMessage[] = [];
  private waiters: { n: number; resolve(): void }[] = [];

  readonly handler = (msg: BusMessage): void => {
    this.msgs.push(msg);
    this.waiters = this.waiters.filter((w) => {
      if (this.msgs.length < w.n) return true;
      w.resolve();
      return false;
    });
  };

  get subjects(): string[] {
    return this.msgs.map((m) => m.subject);
  }

  get data(): unknown[] {
    return this.msgs.map((m) => m.data);
  }

  async waitFor(n: number, timeoutMs = WAIT_MS): Promise<BusMessage[]> {
    if (this.msgs.length < n) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.waiters.push({ n, resolve })),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`expected ${n} messages, got ${this.msgs.length}`)), timeoutMs);
        }),
      ]).finally(() => clearTimeout(timer));
    }
    return this.msgs;
  }
}

/** Returns once everything published on `bus` before the call has been delivered. */
async function settle(bus: Bus, ns: string): Promise<void> {
  const rec = new Recorder();
  const sub = bus.subscribe(`${ns}.sentinel`, rec.handler);
  bus.publish(`${ns}.sentinel`, null);
  await rec.waitFor(1);
  sub.unsubscribe();
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

function thrown(fn: () => unknown): AuroraError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AuroraError);
    return err as AuroraError;
  }
  throw new Error('expected a throw');
}

/** Lets pending callbacks and I/O run a few times; not a sleep, no time passes on purpose. */
async function yieldTurns(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r));
}

function busContract(makeBus: BusFactory): void {
  let bus: Bus;
  let lines: LogLine[];
  let ns: string;

  beforeEach(async () => {
    const captured = captureLogger();
    lines = captured.lines;
    bus = await makeBus(captured.logger);
    ns = uniqueNamespace('bus');
  });

  afterEach(async () => {
    await bus.drain();
  });

  it('delivers structured data intact, a decoded copy per subscriber, never inside publish', async () => {
    const payload = {
      text: 'héllo wörld — 你好 — 🚀👩‍💻 — e\u0301',
      nested: { list: [1, 2.5, -3, { deep: [true, false, null] }], empty: {}, zero: 0 },
      big: 'x'.repeat(50_000),
    };
    const first = new Recorder();
    const second = new Recorder();
    bus.subscribe(`${ns}.data`, (msg) => {
      // Mutating one subscriber's copy must not leak into another's.
      (msg.data as { nested: { zero: number } }).nested.zero = 99;
      first.handler(msg);
    });
    bus.subscribe(`${ns}.data`, second.handler);
    bus.publish(`${ns}.data`, payload);
    expect(first.msgs).toHaveLength(0);
    const [got] = await second.waitFor(1);
    await first.waitFor(1);
    expect(got!.data).toEqual(payload);
    expect(got!.subject).toBe(`${ns}.data`);
    expect(got!.reply).toBeUndefined();
    expect((first.data[0] as typeof payload).nested.zero).toBe(99);
    expect((second.data[0] as typeof payload).nested.zero).toBe(0);
  });

  it('treats undefined as null and delivers strings, numbers and arrays as they are', async () => {
    const rec = new Recorder();
    bus.subscribe(`${ns}.scalars`, rec.handler);
    for (const value of [undefined, null, 'plain', 42, [1, 'two']]) bus.publish(`${ns}.scalars`, value);
    await rec.waitFor(5);
    expect(rec.data).toEqual([null, null, 'plain', 42, [1, 'two']]);
  });

  it("matches '*' to exactly one token and '>' to one or more trailing tokens", async () => {
    const star = new Recorder();
    const tail = new Recorder();
    const middle = new Recorder();
    const exact = new Recorder();
    bus.subscribe(`${ns}.w.*`, star.handler);
    bus.subscribe(`${ns}.w.>`, tail.handler);
    bus.subscribe(`${ns}.*.a.b`, middle.handler);
    bus.subscribe(`${ns}.w.a.b`, exact.handler);
    for (const s of ['w', 'w.a', 'w.a.b', 'w.a.b.c', 'x.a', 'x.a.b', 'wa.a']) bus.publish(`${ns}.${s}`, s);
    await settle(bus, ns);
    expect(star.data).toEqual(['w.a']);
    // `${ns}.w` itself is not matched: '>' needs at least one token.
    expect(tail.data).toEqual(['w.a', 'w.a.b', 'w.a.b.c']);
    expect(middle.data).toEqual(['w.a.b', 'x.a.b']);
    expect(exact.data).toEqual(['w.a.b']);
    expect(tail.subjects).toEqual([`${ns}.w.a`, `${ns}.w.a.b`, `${ns}.w.a.b.c`]);
  });

  it('gives each message to exactly one member of a queue group while plain subscribers get all', async () => {
    const members = [new Recorder(), new Recorder(), new Recorder()];
    const plain = new Recorder();
    for (const m of members) bus.subscribe(`${ns}.jobs`, m.handler, { queue: 'workers' });
    bus.subscribe(`${ns}.jobs`, plain.handler);
    const n = 60;
    for (let i = 0; i < n; i++) bus.publish(`${ns}.jobs`, i);
    await plain.waitFor(n);
    await settle(bus, ns);
    const shared = members.flatMap((m) => m.data as number[]);
    expect(shared.sort((a, b) => a - b)).toEqual([...Array(n).keys()]);
    expect(plain.data).toEqual([...Array(n).keys()]);
    // Shared, not all sent to one member.
    expect(members.filter((m) => m.msgs.length > 0).length).toBeGreaterThan(1);
  });

  it('counts a queue group once per message even when several of its patterns match', async () => {
    const wide = new Recorder();
    const narrow = new Recorder();
    const other = new Recorder();
    bus.subscribe(`${ns}.q.*`, wide.handler, { queue: 'g' });
    bus.subscribe(`${ns}.q.a`, narrow.handler, { queue: 'g' });
    bus.subscribe(`${ns}.q.a`, other.handler, { queue: 'h' });
    const n = 40;
    for (let i = 0; i < n; i++) bus.publish(`${ns}.q.a`, i);
    await other.waitFor(n);
    await settle(bus, ns);
    expect(wide.msgs.length + narrow.msgs.length).toBe(n);
    expect(other.msgs).toHaveLength(n);
  });

  it('answers a request with the responder reply over an inbox subject', async () => {
    bus.subscribe(`${ns}.echo`, (msg) => {
      msg.respond({ echo: msg.data, reply: msg.reply });
    });
    const res = await bus.request<{ echo: unknown; reply: string }>(`${ns}.echo`, { q: 'ü' }, { timeoutMs: WAIT_MS });
    expect(res.echo).toEqual({ q: 'ü' });
    expect(res.reply).toMatch(/^_INBOX\./);
  });

  it('takes the first reply when several responders answer', async () => {
    bus.subscribe(`${ns}.many`, (msg) => msg.respond('a'));
    bus.subscribe(`${ns}.many`, (msg) => msg.respond('a'));
    await expect(bus.request(`${ns}.many`, null, { timeoutMs: WAIT_MS })).resolves.toBe('a');
  });

  it("rejects with 'bus_timeout' when a responder exists but does not answer in time", async () => {
    const rec = new Recorder();
    bus.subscribe(`${ns}.silent`, rec.handler);
    const err = await rejection(bus.request(`${ns}.silent`, 1, { timeoutMs: 100 }));
    expect(err.code).toBe('bus_timeout');
    expect(err.message).toContain(`${ns}.silent`);
    expect(rec.msgs).toHaveLength(1);
  });

  it("rejects with 'no_responders', not a timeout, when nobody subscribes", async () => {
    const started = Date.now();
    const err = await rejection(bus.request(`${ns}.nobody`, 1, { timeoutMs: 10_000 }));
    expect(err.code).toBe('no_responders');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('stops delivering to a subscription once unsubscribed', async () => {
    const rec = new Recorder();
    const sub = bus.subscribe(`${ns}.unsub`, rec.handler);
    expect(sub.subject).toBe(`${ns}.unsub`);
    bus.publish(`${ns}.unsub`, 1);
    await rec.waitFor(1);
    sub.unsubscribe();
    sub.unsubscribe();
    bus.publish(`${ns}.unsub`, 2);
    await settle(bus, ns);
    expect(rec.data).toEqual([1]);
    const err = await rejection(bus.request(`${ns}.unsub`, 3, { timeoutMs: WAIT_MS }));
    expect(err.code).toBe('no_responders');
  });

  it('drops a message still in flight when its subscription is removed', async () => {
    const rec = new Recorder();
    const sub = bus.subscribe(`${ns}.late`, rec.handler);
    bus.publish(`${ns}.late`, 1);
    sub.unsubscribe();
    await settle(bus, ns);
    expect(rec.msgs).toHaveLength(0);
  });

  it('keeps delivering after a handler throws or rejects, and logs the failure', async () => {
    const rec = new Recorder();
    let calls = 0;
    bus.subscribe(`${ns}.flaky`, async (msg) => {
      calls++;
      if (msg.data === 'throw') throw new Error('sync-ish boom');
      if (msg.data === 'reject') return Promise.reject(new Error('async boom'));
      rec.handler(msg);
    });
    bus.subscribe(`${ns}.flaky-sync`, (msg) => {
      if (msg.data === 'throw') throw new Error('sync boom');
      rec.handler(msg);
    });
    bus.publish(`${ns}.flaky`, 'throw');
    bus.publish(`${ns}.flaky-sync`, 'throw');
    bus.publish(`${ns}.flaky`, 'reject');
    bus.publish(`${ns}.flaky`, 'ok');
    bus.publish(`${ns}.flaky-sync`, 'ok');
    await rec.waitFor(2);
    expect(calls).toBe(3);
    expect(rec.data).toEqual(['ok', 'ok']);
    const failures = lines.filter((l) => l.level === 'error' && l.msg === 'bus handler failed');
    expect(failures.map((l) => (l.err as { message: string }).message).sort()).toEqual(['async boom', 'sync boom', 'sync-ish boom']);
    expect(failures.every((l) => typeof l.subject === 'string' && l.subject.startsWith(ns))).toBe(true);
  });

  it('rejects malformed subjects with invalid_request', async () => {
    for (const bad of [`${ns}..a`, `${ns}.a b`, '', `${ns}.*`, `${ns}.>`, `${ns}.a*`]) {
      expect(thrown(() => bus.publish(bad, 1)).code).toBe('invalid_request');
    }
    expect(thrown(() => bus.subscribe(`${ns}.>.a`, () => {})).code).toBe('invalid_request');
    expect(thrown(() => bus.subscribe(`${ns}.a>`, () => {})).code).toBe('invalid_request');
    expect(thrown(() => bus.subscribe(`${ns}.a`, () => {}, { queue: 'a.b' })).code).toBe('invalid_request');
    expect((await rejection(bus.request(`${ns}..a`, 1, { timeoutMs: 100 }))).code).toBe('invalid_request');
  });

  it('resolves flush once earlier publishes are handed over', async () => {
    const rec = new Recorder();
    bus.subscribe(`${ns}.flush`, rec.handler);
    bus.publish(`${ns}.flush`, 1);
    await bus.flush();
    await rec.waitFor(1);
    expect(bus.isConnected()).toBe(true);
  });

  it('drains: running handlers finish and their replies still arrive, then publish and request are refused', async () => {
    const started = deferred();
    const gate = deferred();
    let finished = false;
    bus.subscribe(`${ns}.slow`, async (msg) => {
      started.resolve();
      await gate.promise;
      finished = true;
      msg.respond('done');
    });
    const reply = bus.request(`${ns}.slow`, null, { timeoutMs: WAIT_MS });
    await started.promise;
    let drained = false;
    const draining = bus.drain().then(() => (drained = true));
    await yieldTurns();
    expect(drained).toBe(false);
    expect(finished).toBe(false);
    gate.resolve();
    await draining;
    expect(finished).toBe(true);
    await expect(reply).resolves.toBe('done');
    expect(bus.isConnected()).toBe(false);
    expect(thrown(() => bus.publish(`${ns}.slow`, 1)).code).toBe('unavailable');
    expect((await rejection(bus.request(`${ns}.slow`, 1, { timeoutMs: 100 }))).code).toBe('unavailable');
    expect(thrown(() => bus.subscribe(`${ns}.slow`, () => {})).code).toBe('unavailable');
    // A second drain is harmless.
    await bus.drain();
  });

  it('delivers on drain what was published before it', async () => {
    const rec = new Recorder();
    bus.subscribe(`${ns}.before`, rec.handler);
    for (let i = 0; i < 10; i++) bus.publish(`${ns}.before`, i);
    await bus.flush();
    await bus.drain();
    expect(rec.data).toEqual([...Array(10).keys()]);
  });

  describe('rpc', () => {
    it('keeps the envelope type in step with actors/protocol.ts', () => {
      type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
      const same: Same<RpcReply<{ n: number }>, Reply<{ n: number }>> = true;
      expect(same).toBe(true);
    });

    it('round-trips a call to a served subject', async () => {
      serve<{ a: number; b: number }, { sum: number }>(bus, `${ns}.rpc.add`, (req) => ({ sum: req.a + req.b }));
      await expect(call<{ sum: number }>(bus, `${ns}.rpc.add`, { a: 2, b: 40 }, WAIT_MS)).resolves.toEqual({ sum: 42 });
    });

    it('carries an AuroraError across with its code and message', async () => {
      serve(bus, `${ns}.rpc.find`, async (req: { name: string }) => {
        throw new AuroraError('agent_not_found', `Agent "${req.name}" not found — ü`);
      });
      const err = await rejection(call(bus, `${ns}.rpc.find`, { name: 'bob' }, WAIT_MS));
      expect(err.code).toBe('agent_not_found');
      expect(err.message).toBe('Agent "bob" not found — ü');
      expect(lines.filter((l) => l.level === 'error')).toHaveLength(0);
    });

    it("turns a defect into an opaque 'internal' and logs it with the subject", async () => {
      const { logger, lines: rpcLines } = captureLogger();
      serve(
        bus,
        `${ns}.rpc.bug`,
        () => {
          throw new TypeError('secret detail');
        },
        { logger },
      );
      const err = await rejection(call(bus, `${ns}.rpc.bug`, {}, WAIT_MS));
      expect(err.code).toBe('internal');
      expect(err.message).not.toContain('secret');
      const logged = rpcLines.filter((l) => l.level === 'error');
      expect(logged).toHaveLength(1);
      expect(logged[0]!.subject).toBe(`${ns}.rpc.bug`);
      expect((logged[0]!.err as { message: string }).message).toBe('secret detail');
    });

    it('shares requests among servers in one queue group', async () => {
      const served = [0, 0];
      for (const i of [0, 1]) {
        serve(bus, `${ns}.rpc.q`, () => ++served[i]!, { queue: 'svc' });
      }
      for (let i = 0; i < 20; i++) await call(bus, `${ns}.rpc.q`, null, WAIT_MS);
      expect(served[0]! + served[1]!).toBe(20);
    });

    it("passes through 'no_responders' and rejects a reply that is not an envelope", async () => {
      expect((await rejection(call(bus, `${ns}.rpc.none`, {}, WAIT_MS))).code).toBe('no_responders');
      bus.subscribe(`${ns}.rpc.raw`, (msg) => msg.respond({ hello: 1 }));
      expect((await rejection(call(bus, `${ns}.rpc.raw`, {}, WAIT_MS))).code).toBe('internal');
    });
  });
}

describe('in-process bus', () => {
  busContract(async (logger) => createMemoryBus({ logger }));

  it('drops deliveries beyond maxPending like a slow consumer, and says so', async () => {
    const { logger, lines } = captureLogger();
    const bus = createMemoryBus({ maxPending: 5, logger });
    const rec = new Recorder();
    bus.subscribe('m.x', rec.handler);
    for (let i = 0; i < 8; i++) bus.publish('m.x', i);
    await bus.flush();
    expect(rec.data).toEqual([0, 1, 2, 3, 4]);
    expect(lines.find((l) => l.level === 'warn')).toMatchObject({ dropped: 3, max_pending: 5 });
    bus.publish('m.x', 'later');
    await rec.waitFor(6);
    await bus.drain();
  });

  it('rejects a request still waiting when drain closes the bus', async () => {
    const bus = createMemoryBus({ drainTimeoutMs: 50 });
    const gate = deferred();
    bus.subscribe('m.stuck', async () => gate.promise);
    const pending = bus.request('m.stuck', null, { timeoutMs: WAIT_MS });
    await bus.drain();
    expect((await rejection(pending)).code).toBe('unavailable');
    gate.resolve();
  });

  it('is what createBus returns without a NATS URL', async () => {
    const bus = await createBus(loadConfig({ env: {} }), captureLogger().logger);
    expect(bus.kind).toBe('memory');
    await bus.drain();
  });
});

await describeWithService('NATS', NATS_URL, 'NATS bus', () => {
  busContract((logger) => createNatsBus({ url: NATS_URL, logger, name: 'bus-contract-test' }));

  it('carries messages between two connections', async () => {
    const a = await createNatsBus({ url: NATS_URL });
    const b = await createNatsBus({ url: NATS_URL });
    const ns = uniqueNamespace('bus');
    try {
      serve(b, `${ns}.twice`, (n: number) => n * 2);
      await b.flush();
      await expect(call(a, `${ns}.twice`, 21, WAIT_MS)).resolves.toBe(42);
    } finally {
      await Promise.all([a.drain(), b.drain()]);
    }
  });

  it("fails to start with 'unavailable' naming the URL when NATS cannot be reached", async () => {
    const port = await freePort();
    const url = `nats://user:hunter2@127.0.0.1:${port}`;
    const err = await rejection(createNatsBus({ url, connectTimeoutMs: 2_000 }));
    expect(err.code).toBe('unavailable');
    expect(err.message).toContain(`cannot connect to NATS at nats://user:***@127.0.0.1:${port}`);
    expect(err.message).not.toContain('hunter2');
  });

  it('rides out a dropped connection: publish does not throw, subscriptions come back', async () => {
    const proxy = await startProxy(new URL(NATS_URL));
    const disconnected = deferred();
    const reconnected = deferred();
    const logger = createLogger('debug', {}, (line) => {
      const { msg } = JSON.parse(line) as LogLine;
      if (msg === 'NATS disconnected; reconnecting') disconnected.resolve();
      if (msg === 'NATS reconnected') reconnected.resolve();
    });
    const flaky = await createNatsBus({ url: proxy.url, logger });
    const steady = await createNatsBus({ url: NATS_URL });
    const ns = uniqueNamespace('bus');
    try {
      const rec = new Recorder();
      flaky.subscribe(`${ns}.x`, rec.handler);
      await flaky.flush();
      steady.publish(`${ns}.x`, 'before');
      await rec.waitFor(1);

      proxy.cut();
      await disconnected.promise;
      expect(flaky.isConnected()).toBe(false);
      // Buffered or dropped by the client, but never an exception in the caller.
      expect(() => flaky.publish(`${ns}.y`, 'while down')).not.toThrow();

      proxy.restore();
      await reconnected.promise;
      expect(flaky.isConnected()).toBe(true);
      await flaky.flush();
      steady.publish(`${ns}.x`, 'after');
      await rec.waitFor(2, 10_000);
      expect(rec.data).toEqual(['before', 'after']);
    } finally {
      await Promise.all([flaky.drain(), steady.drain()]);
      await proxy.close();
    }
  });

  it('fails requests fast across a dropped connection: a waiting one with bus_disconnected, a new one with unavailable, and says when it is back', async () => {
    const proxy = await startProxy(new URL(NATS_URL));
    const flaky = await createNatsBus({ url: proxy.url });
    const steady = await createNatsBus({ url: NATS_URL });
    const ns = uniqueNamespace('bus');
    const changes: boolean[] = [];
    const down = deferred();
    const up = deferred();
    const stop = flaky.onConnectionChange((connected) => {
      changes.push(connected);
      (connected ? up : down).resolve();
    });
    try {
      // Answers only after the cut: the request is in flight when the connection drops.
      const held = deferred();
      serve(steady, `${ns}.slow`, async () => {
        await held.promise;
        return 'late';
      });
      serve(steady, `${ns}.echo`, (x: string) => x);
      await steady.flush();
      const waiting = call(flaky, `${ns}.slow`, null, 60_000);
      await flaky.flush();

      proxy.cut();
      await down.promise;
      const lost = await rejection(waiting);
      expect(lost.code).toBe('bus_disconnected');
      expect(lost.message).toContain('outcome is unknown');

      const refused = await rejection(call(flaky, `${ns}.echo`, 'x', 60_000));
      expect(refused.code).toBe('unavailable');
      expect(refused.headers['retry-after']).toBe('2');
      held.resolve();

      proxy.restore();
      await up.promise;
      expect(changes).toEqual([false, true]);
      await expect(call(flaky, `${ns}.echo`, 'back', WAIT_MS)).resolves.toBe('back');
    } finally {
      stop();
      await Promise.all([flaky.drain(), steady.drain()]);
      await proxy.close();
    }
  });

  it('holds what it publishes while disconnected and sends it once back: a reply sent during a blip still reaches its requester', async () => {
    const proxy = await startProxy(new URL(NATS_URL));
    const logger = createLogger('debug', {}, () => undefined);
    const flaky = await createNatsBus({ url: proxy.url, logger });
    const steady = await createNatsBus({ url: NATS_URL });
    const ns = uniqueNamespace('bus');
    const down = deferred();
    const up = deferred();
    const stop = flaky.onConnectionChange((connected) => (connected ? up : down).resolve());
    try {
      const arrived = deferred();
      const release = deferred();
      // The responder is the one that blips; the requester's connection stays up.
      serve(flaky, `${ns}.work`, async (x: string) => {
        arrived.resolve();
        await release.promise;
        return `done ${x}`;
      });
      const events = new Recorder();
      steady.subscribe(`${ns}.events`, events.handler);
      await Promise.all([flaky.flush(), steady.flush()]);
      const answer = call(steady, `${ns}.work`, 'a', 60_000);
      await arrived.promise;

      proxy.cut();
      await down.promise;
      flaky.publish(`${ns}.events`, 'during the blip');
      release.resolve();

      proxy.restore();
      await up.promise;
      await expect(answer).resolves.toBe('done a');
      await events.waitFor(1, 10_000);
      expect(events.data).toEqual(['during the blip']);
    } finally {
      stop();
      await Promise.all([flaky.drain(), steady.drain()]);
      await proxy.close();
    }
  });

  it('is what createBus returns with a NATS URL', async () => {
    const bus = await createBus(loadConfig({ env: { NATS_URL } }), captureLogger().logger);
    expect(bus.kind).toBe('nats');
    expect(bus.isConnected()).toBe(true);
    await bus.drain();
    expect(bus.isConnected()).toBe(false);
  });
});

/** A TCP relay to `target` whose connections can be cut and later allowed again. */
async function startProxy(target: URL): Promise<{ url: string; cut(): void; restore(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let open = true;
  const server = createServer((client) => {
    if (!open) {
      client.destroy();
      return;
    }
    const upstream = connect({ host: target.hostname, port: Number(target.port) });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `nats://127.0.0.1:${port}`,
    cut() {
      open = false;
      for (const s of sockets) s.destroy();
    },
    restore() {
      open = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
