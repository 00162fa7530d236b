import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../runtime/clock.js';
import { AuroraError } from '../../runtime/errors.js';
import { createLogger } from '../../runtime/logger.js';
import { createMetrics } from '../../runtime/metrics.js';
import type { RestartType, SupervisorPolicy } from '../../supervisors/strategy.js';
import {
  createSupervisor,
  SupervisorEscalationError,
  type ChildExit,
  type ChildHandle,
  type ChildSpec,
  type RestartBudget,
  type SupervisorEscalation,
  type SupervisorEvent,
} from '../../supervisors/supervisor.js';

// ------------------------------------------------------------------ fakes and harness

/** Lets every pending promise callback run (no timers involved, nothing sleeps). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

interface FakeChild {
  readonly spec: ChildSpec;
  readonly starts: number;
  readonly alive: boolean;
  crash(error?: unknown): void;
  exitNormally(): void;
  /** The next n start() calls throw (or reject, for async children). */
  failStarts(n: number): void;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function harness(options: { policy?: Partial<SupervisorPolicy>; budget?: RestartBudget; rng?: () => number } = {}) {
  const clock = createManualClock(1_000);
  const metrics = createMetrics({ defaultMetrics: false });
  const journal: string[] = [];
  const events: SupervisorEvent[] = [];
  const escalations: SupervisorEscalation[] = [];
  const logs: Array<Record<string, unknown>> = [];
  const logger = createLogger('debug', {}, (line) => logs.push(JSON.parse(line) as Record<string, unknown>));
  const policy: SupervisorPolicy = {
    strategy: 'one_for_one',
    maxRestarts: 3,
    periodMs: 10_000,
    backoffBaseMs: 0,
    backoffMaxMs: 0,
    ...options.policy,
  };
  const deps = {
    clock,
    rng: options.rng ?? mulberry32(1),
    logger,
    metrics,
    onEvent: (e: SupervisorEvent) => events.push(e),
    parent: (e: SupervisorEscalation) => escalations.push(e),
  };

  function child(id: string, opts: { restart?: RestartType; kind?: string; async?: boolean } = {}): FakeChild {
    let starts = 0;
    let failing = 0;
    let current: { alive: boolean; listeners: Array<(exit: ChildExit) => void>; exit?: ChildExit } | undefined;
    const end = (exit: ChildExit): void => {
      const c = current;
      if (!c?.alive) throw new Error(`fake ${id} is not running`);
      c.alive = false;
      c.exit = exit;
      for (const l of c.listeners) l(exit);
    };
    const makeHandle = (): ChildHandle => {
      const self = { alive: true, listeners: [] as Array<(exit: ChildExit) => void>, exit: undefined as ChildExit | undefined };
      current = self;
      return {
        stop: async () => {
          journal.push(`stop:${id}`);
          self.alive = false;
        },
        onExit(listener) {
          if (self.exit) listener(self.exit);
          else self.listeners.push(listener);
        },
      };
    };
    const spec: ChildSpec = {
      id,
      restart: opts.restart ?? 'permanent',
      kind: opts.kind ?? 'worker',
      start: () => {
        starts++;
        if (failing > 0) {
          failing--;
          journal.push(`start-failed:${id}`);
          if (opts.async) return Promise.reject(new Error(`${id} cannot start`));
          throw new Error(`${id} cannot start`);
        }
        journal.push(`start:${id}`);
        const handle = makeHandle();
        return opts.async ? Promise.resolve(handle) : handle;
      },
    };
    return {
      spec,
      get starts() {
        return starts;
      },
      get alive() {
        return current?.alive ?? false;
      },
      crash: (error: unknown = new Error(`${id} boom`)) => end({ reason: 'crash', error }),
      exitNormally: () => end({ reason: 'normal' }),
      failStarts: (n) => {
        failing = n;
      },
    };
  }

  async function metricValue(
    name: 'supervisorRestarts' | 'supervisorEscalations' | 'supervisorChildren',
    labels: Record<string, string>,
  ): Promise<number> {
    const { values } = await metrics[name].get();
    const hit = values.find((v) => Object.entries(labels).every(([k, val]) => (v.labels as Record<string, unknown>)[k] === val));
    return hit?.value ?? 0;
  }

  async function latency(kind: string): Promise<{ count: number; sum: number }> {
    const { values } = await metrics.supervisorRestartLatency.get();
    const pick = (suffix: string) =>
      values.find((v) => v.metricName === `aurora_supervisor_restart_latency_seconds_${suffix}` && v.labels.kind === kind)?.value ?? 0;
    return { count: pick('count'), sum: pick('sum') };
  }

  return { clock, metrics, journal, events, escalations, logs, logger, policy, deps, child, metricValue, latency };
}

// ------------------------------------------------------------------ tests

describe('supervisor: lifecycle', () => {
  it('starts static children in order and stops them in reverse order', async () => {
    const h = harness();
    const [a, b, c] = ['a', 'b', 'c'].map((id) => h.child(id));
    const sup = createSupervisor({ id: 'root', policy: h.policy, children: [a!.spec, b!.spec, c!.spec] }, h.deps);
    expect(sup.state()).toBe('idle');
    expect(sup.children().map((x) => x.status)).toEqual(['stopped', 'stopped', 'stopped']);
    await sup.start();
    expect(h.journal).toEqual(['start:a', 'start:b', 'start:c']);
    expect(sup.state()).toBe('running');
    expect(sup.children()).toEqual([
      { id: 'a', kind: 'worker', restart: 'permanent', status: 'running' },
      { id: 'b', kind: 'worker', restart: 'permanent', status: 'running' },
      { id: 'c', kind: 'worker', restart: 'permanent', status: 'running' },
    ]);
    h.journal.length = 0;
    await sup.stop();
    expect(h.journal).toEqual(['stop:c', 'stop:b', 'stop:a']);
    expect(sup.state()).toBe('stopped');
    expect(['a', 'b', 'c'].map((id) => sup.status(id))).toEqual(['stopped', 'stopped', 'stopped']);
    expect(sup.status('nope')).toBeUndefined();
  });

  it('a child that fails its first start fails start(): the started ones are stopped and the error surfaces', async () => {
    const h = harness();
    const a = h.child('a');
    const b = h.child('b');
    b.failStarts(1);
    const sup = createSupervisor({ id: 'root', policy: h.policy, children: [a.spec, b.spec] }, h.deps);
    await expect(sup.start()).rejects.toThrow('b cannot start');
    expect(h.journal).toEqual(['start:a', 'start-failed:b', 'stop:a']);
    expect(sup.state()).toBe('failed');
    expect(sup.status('a')).toBe('stopped');
    expect(sup.status('b')).toBe('failed');
  });

  it('dynamic children added before start() start after the static ones; a restarted supervisor drops temporary children', async () => {
    const h = harness();
    const a = h.child('a');
    const sup = createSupervisor({ id: 'svc', policy: h.policy, children: [a.spec] }, h.deps);
    await sup.startChild(h.child('dyn').spec);
    await sup.startChild(h.child('tmp', { restart: 'temporary' }).spec);
    expect(h.journal).toEqual([]);
    await sup.start();
    expect(h.journal).toEqual(['start:a', 'start:dyn', 'start:tmp']);
    await sup.stop();
    expect(sup.status('tmp')).toBe('stopped');
    h.journal.length = 0;
    await sup.start();
    expect(h.journal).toEqual(['start:a', 'start:dyn']);
    expect(sup.children().map((c) => c.id)).toEqual(['a', 'dyn']);
    await expect(sup.stop().then(() => sup.startChild(h.child('late').spec))).rejects.toMatchObject({ code: 'unavailable' });
  });

  it('rejects duplicate ids and invalid specs', async () => {
    const h = harness();
    const a = h.child('a');
    expect(() => createSupervisor({ id: 's', policy: h.policy, children: [a.spec, a.spec] }, h.deps)).toThrow(AuroraError);
    expect(() => createSupervisor({ id: 's', policy: { ...h.policy, strategy: 'one_for_all' }, budget: 'per_child' }, h.deps)).toThrow(
      /one_for_one/,
    );
    const sup = createSupervisor({ id: 's', policy: h.policy, children: [a.spec] }, h.deps);
    await sup.start();
    await expect(sup.startChild(h.child('a').spec)).rejects.toMatchObject({ code: 'agent_exists' });
    await expect(sup.startChild({ ...h.child('x').spec, restart: 'sometimes' as RestartType })).rejects.toThrow(TypeError);
    await expect(sup.restartChild('ghost')).rejects.toMatchObject({ code: 'agent_not_found' });
    await expect(sup.stopChild('ghost')).rejects.toMatchObject({ code: 'agent_not_found' });
  });
});

describe('supervisor: strategies', () => {
  it('one_for_one restarts only the crashed child, synchronously when the backoff is zero', async () => {
    const h = harness();
    const [a, b, c] = ['a', 'b', 'c'].map((id) => h.child(id));
    const sup = createSupervisor({ id: 'root', policy: h.policy, children: [a!.spec, b!.spec, c!.spec] }, h.deps);
    await sup.start();
    h.journal.length = 0;
    b!.crash();
    // No await: zero backoff and a synchronous start() restart within the crash report itself.
    expect(sup.status('b')).toBe('running');
    expect(b!.alive).toBe(true);
    expect(h.journal).toEqual(['start:b']);
    expect([a!.starts, b!.starts, c!.starts]).toEqual([1, 2, 1]);
    const restart = h.events.find((e) => e.type === 'restart');
    expect(restart).toMatchObject({ child: 'b', reason: 'crash', delayMs: 0, restartLatencyMs: 0 });
  });

  it('one_for_all stops the others in reverse order, then starts all in order', async () => {
    const h = harness({ policy: { strategy: 'one_for_all' } });
    const [a, b, c] = ['a', 'b', 'c'].map((id) => h.child(id));
    const sup = createSupervisor({ id: 'root', policy: h.policy, children: [a!.spec, b!.spec, c!.spec] }, h.deps);
    await sup.start();
    h.journal.length = 0;
    b!.crash();
    await settle();
    expect(h.journal).toEqual(['stop:c', 'stop:a', 'start:a', 'start:b', 'start:c']);
    expect(sup.children().every((x) => x.status === 'running')).toBe(true);
    const restarts = h.events.filter((e) => e.type === 'restart').map((e) => [e.child, e.reason]);
    expect(restarts).toEqual([
      ['a', 'sibling'],
      ['b', 'crash'],
      ['c', 'sibling'],
    ]);
  });

  it('rest_for_one restarts the crashed child and those started after it, leaving earlier ones alone', async () => {
    const h = harness({ policy: { strategy: 'rest_for_one' } });
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((id) => h.child(id));
    const sup = createSupervisor({ id: 'root', policy: h.policy, children: [a!.spec, b!.spec, c!.spec, d!.spec] }, h.deps);
    await sup.start();
    h.journal.length = 0;
    b!.crash();
    await settle();
    expect(h.journal).toEqual(['stop:d', 'stop:c', 'start:b', 'start:c', 'start:d']);
    expect([a!.starts, b!.starts, c!.starts, d!.starts]).toEqual([1, 2, 2, 2]);
  });

  it('rest_for_one with a crash of the last child restarts only that child', async () => {
    const h = harness({ policy: { strategy: 'rest_for_one' } });
    const [a, b] = ['a', 'b'].map((id) => h.child(id));
    const sup = createSupervisor({ id: 'root', policy: h.policy, children: [a!.spec, b!.spec] }, h.deps);
    await sup.start();
    h.journal.length = 0;
    b!.crash();
    await settle();
    expect(h.journal).toEqual(['start:b']);
  });

  it('one_for_all does not restart temporary siblings, and forgets them', async () => {
    const h = harness({ policy: { strategy: 'one_for_all' } });
    const a = h.child('a');
    const t = h.child('t', { restart: 'temporary' });
    const sup = createSupervisor({ id: 'root', policy: h.policy, children: [a.spec, t.spec] }, h.deps);
    await sup.start();
    h.journal.length = 0;
    a.crash();
    await settle();
    expect(h.journal).toEqual(['stop:t', 'start:a']);
    expect(sup.status('t')).toBeUndefined();
  });

  it('restart types: temporary never restarted, transient only after a crash, permanent always', async () => {
    const h = harness();
    const p = h.child('p');
    const tr = h.child('tr', { restart: 'transient' });
    const tmp = h.child('tmp', { restart: 'temporary' });
    const sup = createSupervisor({ id: 'root', policy: h.policy, children: [p.spec, tr.spec, tmp.spec] }, h.deps);
    await sup.start();

    p.exitNormally();
    expect(sup.status('p')).toBe('running');
    expect(p.starts).toBe(2);

    tr.crash();
    expect(sup.status('tr')).toBe('running');
    tr.exitNormally();
    expect(sup.status('tr')).toBe('stopped');
    expect(tr.starts).toBe(2);

    tmp.crash();
    expect(tmp.starts).toBe(1);
    expect(sup.status('tmp')).toBeUndefined();
    expect(h.events.filter((e) => e.type === 'crash').map((e) => e.child)).toEqual(['tr', 'tmp']);
  });
});

describe('supervisor: backoff on the injected clock', () => {
  it('waits the backoff delay (status restarting), growing with each recent restart', async () => {
    // rng 0 → equal jitter floor: 50, 100, 200 ms.
    const h = harness({ policy: { backoffBaseMs: 100, backoffMaxMs: 10_000, maxRestarts: 5 }, rng: () => 0 });
    const a = h.child('a');
    const sup = createSupervisor({ id: 'root', policy: h.policy, children: [a.spec] }, h.deps);
    await sup.start();

    for (const delay of [50, 100, 200]) {
      a.crash();
      expect(sup.status('a')).toBe('restarting');
      h.clock.advance(delay - 1);
      await settle();
      expect(sup.status('a')).toBe('restarting');
      h.clock.advance(1);
      await settle();
      expect(sup.status('a')).toBe('running');
    }
    const restarts = h.events.filter((e) => e.type === 'restart');
    expect(restarts.map((e) => [e.delayMs, e.restartLatencyMs, e.attempt])).toEqual([
      [50, 50, 1],
      [100, 100, 2],
      [200, 200, 3],
    ]);
    const observed = await h.latency('worker');
    expect(observed.count).toBe(3);
    expect(observed.sum).toBeCloseTo(0.35, 9);
  });

  it('a pending restart is cancelled by stopChild and by stop()', async () => {
    const h = harness({ policy: { backoffBaseMs: 1_000, backoffMaxMs: 1_000 }, rng: () => 0 });
    const a = h.child('a');
    const b = h.child('b');
    const sup = createSupervisor({ id: 'root', policy: h.policy, children: [a.spec, b.spec] }, h.deps);
    await sup.start();
    a.crash();
    b.crash();
    await sup.stopChild('a');
    expect(sup.status('a')).toBe('stopped');
    h.clock.advance(10_000);
    await settle();
    expect(a.starts).toBe(1);
    expect(sup.status('b')).toBe('running');

    b.crash();
    await sup.stop();
    h.clock.advance(10_000);
    await settle();
    expect(b.starts).toBe(2);
    expect(sup.status('b')).toBe('stopped');
  });

  it('each agent backs off on its own schedule: one agent’s long backoff does not delay another’s restart', async () => {
    const h = harness({ policy: { backoffBaseMs: 1_000, backoffMaxMs: 10_000 }, rng: () => 0 });
    const sup = createSupervisor({ id: 'agents', policy: h.policy, budget: 'per_child' }, h.deps);
    await sup.start();
    const slow = h.child('slow');
    const fast = h.child('fast');
    await sup.startChild(slow.spec);
    await sup.startChild(fast.spec);
    slow.crash(); // attempt 1: 500 ms
    h.clock.advance(500);
    await settle();
    slow.crash(); // attempt 2 of slow's own budget: 1 000 ms
    fast.crash(); // attempt 1 of fast's own budget: 500 ms
    h.clock.advance(500);
    await settle();
    expect(sup.status('fast')).toBe('running');
    expect(sup.status('slow')).toBe('restarting');
    h.clock.advance(500);
    await settle();
    expect(sup.status('slow')).toBe('running');
  });
});

describe('supervisor: escalation', () => {
  it('spending the budget stops all children, fails them and the supervisor, and tells the parent', async () => {
    const h = harness({ policy: { strategy: 'one_for_one', maxRestarts: 2 } });
    const [a, b, c] = ['a', 'b', 'c'].map((id) => h.child(id));
    const sup = createSupervisor({ id: 'svc', policy: h.policy, children: [a!.spec, b!.spec, c!.spec] }, h.deps);
    await sup.start();
    b!.crash();
    b!.crash();
    expect(sup.status('b')).toBe('running');
    h.journal.length = 0;
    b!.crash();
    await settle();
    expect(h.journal).toEqual(['stop:c', 'stop:a']);
    expect(sup.state()).toBe('failed');
    expect(sup.children().map((x) => x.status)).toEqual(['failed', 'failed', 'failed']);
    expect(h.escalations).toHaveLength(1);
    expect(h.escalations[0]).toMatchObject({ supervisor: 'svc', child: 'b', kind: 'worker' });
    expect(h.escalations[0]!.reason).toMatch(/intensity/);
    expect(h.events.filter((e) => e.type === 'escalation')).toHaveLength(1);
    expect(await h.metricValue('supervisorEscalations', { supervisor: 'svc' })).toBe(1);
    expect(await h.metricValue('supervisorChildren', { status: 'failed' })).toBe(3);
    expect(await h.metricValue('supervisorChildren', { status: 'running' })).toBe(0);
    const line = h.logs.find((l) => l.msg === 'supervisor escalating');
    expect(line).toMatchObject({ level: 'error', supervisor: 'svc', child: 'b', kind: 'worker' });
    // Nothing restarts afterwards, however long we wait.
    h.clock.advance(1_000_000);
    await settle();
    expect([a!.starts, b!.starts, c!.starts]).toEqual([1, 3, 1]);
    await expect(sup.restartChild('a')).rejects.toMatchObject({ code: 'unavailable' });
  });

  it('old restarts outside the period do not count toward escalation', async () => {
    const h = harness({ policy: { maxRestarts: 1, periodMs: 1_000 } });
    const a = h.child('a');
    const sup = createSupervisor({ id: 'svc', policy: h.policy, children: [a.spec] }, h.deps);
    await sup.start();
    for (let i = 0; i < 5; i++) {
      a.crash();
      h.clock.advance(1_000);
    }
    await settle();
    expect(sup.state()).toBe('running');
    expect(a.starts).toBe(6);
    a.crash();
    await settle();
    a.crash();
    await settle();
    expect(sup.state()).toBe('failed');
  });

  it('maxRestarts 0 escalates on the first crash', async () => {
    const h = harness({ policy: { maxRestarts: 0 } });
    const a = h.child('a');
    const sup = createSupervisor({ id: 'svc', policy: h.policy, children: [a.spec] }, h.deps);
    await sup.start();
    a.crash();
    await settle();
    expect(sup.state()).toBe('failed');
    expect(a.starts).toBe(1);
  });

  it('a tree: the root restarts an escalating sub-supervisor, and escalates itself when that keeps happening', async () => {
    const h = harness();
    const registry = h.child('registry', { kind: 'registry' });
    const models = h.child('models', { kind: 'model-manager' });
    const worker = h.child('w');
    const childEvents: SupervisorEvent[] = [];
    const sub = createSupervisor(
      { id: 'agents', policy: { ...h.policy, maxRestarts: 0 }, children: [worker.spec] },
      { ...h.deps, onEvent: (e) => childEvents.push(e), parent: undefined },
    );
    const root = createSupervisor(
      { id: 'root', policy: { ...h.policy, maxRestarts: 2 }, children: [registry.spec, models.spec, sub.asChild('agents')] },
      h.deps,
    );
    await root.start();
    expect(h.journal).toEqual(['start:registry', 'start:models', 'start:w']);
    expect(root.children().map((c) => [c.id, c.kind, c.status])).toEqual([
      ['registry', 'registry', 'running'],
      ['models', 'model-manager', 'running'],
      ['agents', 'supervisor', 'running'],
    ]);

    worker.crash();
    await settle();
    expect(childEvents.map((e) => e.type)).toEqual(['crash', 'escalation']);
    // The root saw the sub-supervisor crash and restarted it, which restarted its worker.
    expect(sub.state()).toBe('running');
    expect(worker.starts).toBe(2);
    expect(root.status('agents')).toBe('running');
    const rootCrash = h.events.find((e) => e.type === 'crash' && e.supervisor === 'root');
    expect(rootCrash).toMatchObject({ child: 'agents', kind: 'supervisor' });
    expect(rootCrash?.error).toMatch(/agents escalated/);

    worker.crash();
    await settle();
    expect(root.state()).toBe('running');
    worker.crash();
    await settle();
    expect(root.state()).toBe('failed');
    expect(h.escalations.map((e) => e.supervisor)).toEqual(['root']);
    expect([registry.alive, models.alive, worker.alive]).toEqual([false, false, false]);
    expect(await h.metricValue('supervisorEscalations', { supervisor: 'agents' })).toBe(3);
    expect(await h.metricValue('supervisorEscalations', { supervisor: 'root' })).toBe(1);
  });

  it('the parent stopping a sub-supervisor stops its children and is not a crash', async () => {
    const h = harness();
    const w = h.child('w');
    const sub = createSupervisor({ id: 'sub', policy: h.policy, children: [w.spec] }, { ...h.deps, parent: undefined });
    const root = createSupervisor({ id: 'root', policy: h.policy, children: [sub.asChild()] }, h.deps);
    await root.start();
    await root.stop();
    expect(w.alive).toBe(false);
    expect(sub.state()).toBe('stopped');
    expect(h.events.filter((e) => e.type === 'crash')).toEqual([]);
  });

  it('the escalation error carries the escalation', () => {
    const e = new SupervisorEscalationError({ supervisor: 's', child: 'c', kind: 'k', reason: 'r', at: 1 });
    expect(e.message).toMatch(/s escalated: r/);
    expect(e.escalation.child).toBe('c');
  });
});

describe('supervisor: per-agent budgets', () => {
  it('a crash-looping agent fails alone; the others keep their own budget; restartChild revives it', async () => {
    const h = harness({ policy: { maxRestarts: 2, periodMs: 60_000 } });
    const agents = createSupervisor({ id: 'agents', policy: h.policy, budget: 'per_child' }, h.deps);
    await agents.start();
    const x = h.child('x', { kind: 'llm' });
    const y = h.child('y', { kind: 'llm' });
    await agents.startChild(x.spec);
    await agents.startChild(y.spec);

    x.crash();
    x.crash();
    expect(agents.status('x')).toBe('running');
    x.crash();
    await settle();
    expect(agents.status('x')).toBe('failed');
    expect(agents.state()).toBe('running');
    expect(h.escalations).toEqual([]);

    // y's budget is untouched by x's crashes.
    y.crash();
    y.crash();
    expect(agents.status('y')).toBe('running');
    expect(y.starts).toBe(3);

    const failed = h.events.filter((e) => e.type === 'failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ supervisor: 'agents', child: 'x', kind: 'llm' });
    expect(await h.metricValue('supervisorEscalations', { supervisor: 'agents/x' })).toBe(1);
    expect(await h.metricValue('supervisorEscalations', { supervisor: 'agents' })).toBe(0);
    expect(await h.metricValue('supervisorChildren', { status: 'failed' })).toBe(1);
    expect(agents.children().find((c) => c.id === 'x')?.status).toBe('failed');
    expect(h.logs.find((l) => l.msg === 'child failed: restart budget spent')).toMatchObject({
      level: 'error',
      supervisor: 'agents',
      child: 'x',
      kind: 'llm',
    });

    // Nothing brings a failed agent back by itself.
    h.clock.advance(3_600_000);
    await settle();
    expect(agents.status('x')).toBe('failed');

    await agents.restartChild('x');
    expect(agents.status('x')).toBe('running');
    expect(x.starts).toBe(4);
    expect(h.events.at(-1)).toMatchObject({ type: 'restart', child: 'x', reason: 'operator' });
    expect(await h.metricValue('supervisorRestarts', { agent: 'x', kind: 'llm', reason: 'operator' })).toBe(1);
    // A fresh budget: two more restarts are allowed.
    x.crash();
    x.crash();
    expect(agents.status('x')).toBe('running');
    x.crash();
    await settle();
    expect(agents.status('x')).toBe('failed');
  });

  it('removeChild forgets an agent and its gauge entry', async () => {
    const h = harness();
    const agents = createSupervisor({ id: 'agents', policy: h.policy, budget: 'per_child' }, h.deps);
    await agents.start();
    const x = h.child('x');
    await agents.startChild(x.spec);
    expect(await h.metricValue('supervisorChildren', { status: 'running' })).toBe(1);
    await agents.removeChild('x');
    expect(agents.status('x')).toBeUndefined();
    expect(x.alive).toBe(false);
    expect(await h.metricValue('supervisorChildren', { status: 'running' })).toBe(0);
    expect(await h.metricValue('supervisorChildren', { status: 'stopped' })).toBe(0);
  });

  it('startChild of a child that cannot start rejects and keeps nothing', async () => {
    const h = harness();
    const agents = createSupervisor({ id: 'agents', policy: h.policy, budget: 'per_child' }, h.deps);
    await agents.start();
    const x = h.child('x', { async: true });
    x.failStarts(1);
    await expect(agents.startChild(x.spec)).rejects.toThrow('x cannot start');
    expect(agents.status('x')).toBeUndefined();
    await agents.startChild(x.spec);
    expect(agents.status('x')).toBe('running');
  });
});

describe('supervisor: failed starts are crashes', () => {
  it('a restart whose start() throws is retried with backoff and counts against the budget', async () => {
    const h = harness({ policy: { maxRestarts: 3, backoffBaseMs: 100, backoffMaxMs: 1_000 }, rng: () => 0 });
    const a = h.child('a');
    const sup = createSupervisor({ id: 'svc', policy: h.policy, children: [a.spec] }, h.deps);
    await sup.start();
    a.failStarts(1);
    a.crash();
    h.clock.advance(50); // attempt 1 → throws
    await settle();
    expect(sup.status('a')).toBe('restarting');
    expect(h.events.map((e) => [e.type, e.reason])).toEqual([
      ['crash', 'crash'],
      ['crash', 'start_failed'],
    ]);
    h.clock.advance(99);
    await settle();
    expect(sup.status('a')).toBe('restarting');
    h.clock.advance(1); // attempt 2 after 100 ms → runs
    await settle();
    expect(sup.status('a')).toBe('running');
    const restart = h.events.at(-1);
    expect(restart).toMatchObject({ type: 'restart', reason: 'crash', delayMs: 100, restartLatencyMs: 150, attempt: 2 });
    expect(h.logs.find((l) => l.msg === 'child start failed')).toMatchObject({ supervisor: 'svc', child: 'a', reason: 'start_failed' });
  });

  it('a child that can never start escalates instead of restarting forever', async () => {
    const h = harness({ policy: { maxRestarts: 3 } });
    const a = h.child('a', { async: true });
    const sup = createSupervisor({ id: 'svc', policy: h.policy, children: [a.spec] }, h.deps);
    await sup.start();
    a.failStarts(Number.POSITIVE_INFINITY);
    a.crash();
    await settle();
    expect(sup.state()).toBe('failed');
    expect(a.starts).toBe(4);
    expect(h.escalations).toHaveLength(1);
  });

  it('rest_for_one: a sibling after a child that failed to start is not started without it', async () => {
    const h = harness({ policy: { strategy: 'rest_for_one', maxRestarts: 5 } });
    const [a, b, c] = ['a', 'b', 'c'].map((id) => h.child(id, { async: true }));
    const sup = createSupervisor({ id: 'svc', policy: h.policy, children: [a!.spec, b!.spec, c!.spec] }, h.deps);
    await sup.start();
    h.journal.length = 0;
    b!.failStarts(1);
    a!.crash();
    await settle();
    expect(h.journal).toEqual(['stop:c', 'stop:b', 'start:a', 'start-failed:b', 'start:b', 'start:c']);
    expect(sup.children().every((x) => x.status === 'running')).toBe(true);
  });
});

describe('supervisor: time bounds on children', () => {
  it('a child whose stop() hangs is abandoned after stopTimeoutMs, so the supervisor is not wedged', async () => {
    const h = harness({ policy: { strategy: 'one_for_all' } });
    const a = h.child('a');
    const stuck: ChildSpec = {
      id: 'stuck',
      restart: 'permanent',
      kind: 'worker',
      start: () => ({ stop: () => new Promise<void>(() => {}), onExit: () => {} }),
    };
    const sup = createSupervisor({ id: 'svc', policy: h.policy, children: [a.spec, stuck], stopTimeoutMs: 2_000 }, h.deps);
    await sup.start();
    a.crash();
    await settle();
    expect(sup.status('a')).toBe('restarting');
    h.clock.advance(1_999);
    await settle();
    expect(sup.status('a')).toBe('restarting');
    h.clock.advance(1);
    await settle();
    expect(sup.children().map((c) => c.status)).toEqual(['running', 'running']);
    expect(h.logs.find((l) => l.msg === 'child did not stop in time; abandoning it')).toMatchObject({ child: 'stuck', level: 'error' });
  });

  it('an asynchronous start() that hangs counts as a crash after startTimeoutMs; a late handle is stopped', async () => {
    const h = harness({ policy: { maxRestarts: 5 } });
    const a = h.child('a');
    let release: ((handle: ChildHandle) => void) | undefined;
    let slow = false;
    const spec: ChildSpec = {
      ...a.spec,
      start: () => (slow ? new Promise<ChildHandle>((resolve) => (release = resolve)) : a.spec.start()),
    };
    const sup = createSupervisor({ id: 'svc', policy: h.policy, children: [spec], startTimeoutMs: 1_000 }, h.deps);
    await sup.start();
    slow = true;
    a.crash();
    await settle();
    expect(sup.status('a')).toBe('restarting');
    const hung = release!;
    slow = false;
    h.clock.advance(1_000);
    await settle();
    expect(h.events.filter((e) => e.type === 'crash').map((e) => e.reason)).toEqual(['crash', 'start_failed']);
    expect(h.events.find((e) => e.reason === 'start_failed')?.error).toMatch(/did not start within 1000ms/);
    expect(sup.status('a')).toBe('running');
    h.journal.length = 0;
    let lateStopped = false;
    hung({ stop: async () => void (lateStopped = true), onExit: () => {} });
    await settle();
    expect(lateStopped).toBe(true);
    expect(sup.status('a')).toBe('running');
  });

  it('a handle whose onExit throws is a failed start (its crashes could not be seen)', async () => {
    const h = harness({ policy: { maxRestarts: 2 } });
    let stops = 0;
    const spec: ChildSpec = {
      id: 'blind',
      restart: 'permanent',
      kind: 'worker',
      start: () => ({
        stop: async () => void stops++,
        onExit: () => {
          throw new Error('cannot watch me');
        },
      }),
    };
    const sup = createSupervisor({ id: 'svc', policy: h.policy }, h.deps);
    await sup.start();
    await expect(sup.startChild(spec)).rejects.toThrow('cannot watch me');
    await settle();
    expect(stops).toBe(1);
    expect(sup.status('blind')).toBeUndefined();
  });
});

describe('supervisor: concurrent exits', () => {
  it('crashes in the same tick are each handled once, in order', async () => {
    const h = harness({ policy: { backoffBaseMs: 10, backoffMaxMs: 10 }, rng: () => 0.999 });
    const [a, b] = ['a', 'b'].map((id) => h.child(id));
    const sup = createSupervisor({ id: 'svc', policy: h.policy, children: [a!.spec, b!.spec] }, h.deps);
    await sup.start();
    h.journal.length = 0;
    b!.crash();
    a!.crash();
    h.clock.advance(10);
    await settle();
    expect(h.journal).toEqual(['start:b', 'start:a']);
    expect(h.events.filter((e) => e.type === 'restart')).toHaveLength(2);
  });

  it('rest_for_one: an earlier child crashing while a later one waits for its restart supersedes that restart', async () => {
    const h = harness({ policy: { strategy: 'rest_for_one', backoffBaseMs: 100, backoffMaxMs: 100 }, rng: () => 0.999 });
    const [a, b, c] = ['a', 'b', 'c'].map((id) => h.child(id));
    const sup = createSupervisor({ id: 'svc', policy: h.policy, children: [a!.spec, b!.spec, c!.spec] }, h.deps);
    await sup.start();
    h.journal.length = 0;
    c!.crash(); // restart of c due at +100
    h.clock.advance(50);
    a!.crash(); // restart of a, b, c due at +150; c's own restart is now stale
    await settle();
    h.clock.advance(50);
    await settle();
    expect(h.journal).toEqual(['stop:b']);
    expect(sup.children().map((x) => x.status)).toEqual(['restarting', 'restarting', 'restarting']);
    h.clock.advance(50);
    await settle();
    expect(h.journal).toEqual(['stop:b', 'start:a', 'start:b', 'start:c']);
    expect([a!.starts, b!.starts, c!.starts]).toEqual([2, 2, 2]);
    expect(h.events.filter((e) => e.type === 'crash').map((e) => e.child)).toEqual(['c', 'a']);
    expect(h.events.filter((e) => e.type === 'restart').map((e) => [e.child, e.reason, e.restartLatencyMs])).toEqual([
      ['a', 'crash', 100],
      ['b', 'sibling', undefined],
      ['c', 'crash', 150],
    ]);
  });

  it('a crash reported twice, or after the supervisor stopped the child, is not acted on twice', async () => {
    const h = harness();
    const a = h.child('a');
    let report: ((exit: ChildExit) => void) | undefined;
    const spec: ChildSpec = {
      ...a.spec,
      start: () => {
        const handle = a.spec.start() as ChildHandle;
        return {
          stop: () => handle.stop(),
          onExit(listener) {
            report = listener;
            handle.onExit(listener);
          },
        };
      },
    };
    const sup = createSupervisor({ id: 'svc', policy: h.policy, children: [spec] }, h.deps);
    await sup.start();
    const first = report!;
    a.crash();
    first({ reason: 'crash' }); // a stale, repeated report of the first incarnation
    await settle();
    expect(a.starts).toBe(2);
    await sup.stopChild('a');
    report!({ reason: 'crash' }); // exit after being stopped on purpose
    await settle();
    expect(a.starts).toBe(2);
    expect(sup.status('a')).toBe('stopped');
  });
});

describe('supervisor: events, metrics and logs', () => {
  it('counts restarts and latency by kind and keeps the children gauge right', async () => {
    const h = harness({ policy: { strategy: 'one_for_all' } });
    const a = h.child('a', { kind: 'llm' });
    const b = h.child('b', { kind: 'browser' });
    const sup = createSupervisor({ id: 'svc', policy: h.policy, children: [a.spec, b.spec] }, h.deps);
    expect(await h.metricValue('supervisorChildren', { status: 'stopped' })).toBe(2);
    await sup.start();
    expect(await h.metricValue('supervisorChildren', { status: 'running' })).toBe(2);
    expect(await h.metricValue('supervisorChildren', { status: 'stopped' })).toBe(0);

    a.crash(new Error('kaput'));
    await settle();
    expect(await h.metricValue('supervisorRestarts', { agent: 'a', kind: 'llm', reason: 'crash' })).toBe(1);
    expect(await h.metricValue('supervisorRestarts', { agent: 'b', kind: 'browser', reason: 'sibling' })).toBe(1);
    expect(await h.latency('llm')).toEqual({ count: 1, sum: 0 });
    expect(await h.latency('browser')).toEqual({ count: 0, sum: 0 });
    expect(await h.metricValue('supervisorChildren', { status: 'running' })).toBe(2);
    expect(await h.metricValue('supervisorChildren', { status: 'restarting' })).toBe(0);

    const crash = h.events.find((e) => e.type === 'crash');
    expect(crash).toEqual({ type: 'crash', supervisor: 'svc', child: 'a', kind: 'llm', reason: 'crash', error: 'kaput', at: 1_000 });
    expect(h.logs.find((l) => l.msg === 'child crashed')).toMatchObject({
      level: 'warn',
      supervisor: 'svc',
      child: 'a',
      kind: 'llm',
      reason: 'crash',
      error: { message: 'kaput' },
    });
    expect(h.logs.find((l) => l.msg === 'restarting child')).toMatchObject({
      level: 'warn',
      supervisor: 'svc',
      child: 'a',
      kind: 'llm',
      reason: 'crash',
      delay_ms: 0,
      attempt: 1,
    });

    await sup.stop();
    expect(await h.metricValue('supervisorChildren', { status: 'stopped' })).toBe(2);
    expect(await h.metricValue('supervisorChildren', { status: 'running' })).toBe(0);
  });

  it('the registry text shows the supervisor metrics', async () => {
    const h = harness();
    const a = h.child('a');
    const sup = createSupervisor({ id: 'svc', policy: h.policy, children: [a.spec] }, h.deps);
    await sup.start();
    a.crash();
    const text = await h.metrics.registry.getSingleMetricAsString('aurora_supervisor_restarts_total');
    expect(text).toContain('aurora_supervisor_restarts_total{agent="a",kind="worker",reason="crash"} 1');
  });

  it('a throwing event observer does not break supervision and is logged', async () => {
    const h = harness();
    const a = h.child('a');
    const sup = createSupervisor(
      { id: 'svc', policy: h.policy, children: [a.spec] },
      {
        ...h.deps,
        onEvent: () => {
          throw new Error('observer bug');
        },
      },
    );
    await sup.start();
    a.crash();
    expect(sup.status('a')).toBe('running');
    expect(h.logs.some((l) => l.msg === 'supervisor event handler threw')).toBe(true);
  });

  it('zero-backoff restarts stay fast: 10 000 crash→running cycles, each synchronous', async () => {
    const h = harness({ policy: { maxRestarts: 1_000, periodMs: 100 } });
    const sup = createSupervisor(
      { id: 'svc', policy: h.policy },
      { clock: h.clock, rng: () => 0, logger: createLogger('silent'), metrics: h.metrics },
    );
    await sup.start();
    const a = h.child('a');
    await sup.startChild(a.spec);
    const boom = new Error('boom');
    for (let i = 0; i < 10_000; i++) {
      a.crash(boom);
      if (sup.status('a') !== 'running') throw new Error(`not running after crash ${i}`);
      h.clock.advance(1);
    }
    expect(a.starts).toBe(10_001);
    expect(await h.latency('worker')).toEqual({ count: 10_000, sum: 0 });
  });
});
