// Pull jobs without Ollama, SQLite or a bus: a provider whose pulls the test drives line by line,
// a store and an event publisher that only record, and a manual clock. Nothing sleeps.
import { describe, expect, it } from 'vitest';
import { createManualClock, type ManualClock } from '../../runtime/clock.js';
import { AuroraError } from '../../runtime/errors.js';
import { createLogger } from '../../runtime/logger.js';
import type { LlmProvider, PullProgress } from '../../runtime/providers/llm.js';
import type { PullRecord } from '../../runtime/protocol/index.js';
import { createModelPulls, type ModelPulls } from '../../supervisors/model-pulls.js';
import { createProgressThrottle, createPullCounter } from '../../supervisors/pull-progress.js';

/** Lets every pending promise callback run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const line = (status: string, digest: string | null = null, total: number | null = null, completed: number | null = null): PullProgress => ({
  status,
  digest,
  total,
  completed,
});

interface DrivenPull {
  readonly model: string;
  readonly signal: AbortSignal;
  send(p: PullProgress): void;
  succeed(): void;
  fail(err: unknown): void;
}

function drivenProvider() {
  const pulls: DrivenPull[] = [];
  const unused = () => Promise.reject(new Error('not used by these tests'));
  const provider: LlmProvider = {
    name: 'driven',
    chat: unused,
    listInstalled: unused,
    show: unused,
    listLoaded: unused,
    load: unused,
    unload: unused,
    ping: () => Promise.resolve(true),
    pull: (model, { signal, onProgress }) =>
      new Promise<void>((resolve, reject) => {
        // Like the Ollama provider: an abort closes the request and rejects with its reason.
        signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
        pulls.push({
          model,
          signal,
          send: (p) => onProgress?.(p),
          succeed: () => {
            onProgress?.(line('success'));
            resolve();
          },
          fail: reject,
        });
      }),
  };
  return { provider, pulls };
}

interface Harness {
  readonly jobs: ModelPulls;
  readonly clock: ManualClock;
  readonly pulls: DrivenPull[];
  readonly rows: Map<string, PullRecord>;
  readonly saves: number;
  readonly events: { type: string; payload: PullRecord }[];
  readonly installed: string[];
  readonly logs: string[];
}

function harness(maxConcurrent = 2): Harness {
  const clock = createManualClock(Date.parse('2025-01-01T00:00:00Z'));
  const { provider, pulls } = drivenProvider();
  const rows = new Map<string, PullRecord>();
  const events: { type: string; payload: PullRecord }[] = [];
  const installed: string[] = [];
  const logs: string[] = [];
  let saves = 0;
  const jobs = createModelPulls({
    store: {
      pulls: {
        save: (r) => {
          saves++;
          rows.set(r.pull_id, { ...r });
        },
        get: (id) => rows.get(id),
        failOrphans: () => 0,
      },
    },
    events: { publish: (type, fields) => events.push({ type, payload: fields.payload as PullRecord }) },
    clock,
    logger: createLogger('warn', {}, (l) => logs.push(l), clock),
    providers: { ollama: provider },
    maxConcurrent,
    onInstalled: async (_provider, model) => {
      installed.push(model);
      // The cache is told before anyone hears of the completion.
      expect(events.some((e) => e.type === 'model.pull.completed')).toBe(false);
    },
  });
  return {
    jobs,
    clock,
    pulls,
    rows,
    get saves() {
      return saves;
    },
    events,
    installed,
    logs,
  };
}

const of = (h: Harness, type: string) => h.events.filter((e) => e.type === type);

describe('pull counter', () => {
  it('sums the layers it has seen by digest, and takes a line without completed as no news', () => {
    const c = createPullCounter();
    c.add(line('pulling manifest'));
    expect([c.completedBytes, c.totalBytes, c.percent, c.detail]).toEqual([0, 0, 0, 'pulling manifest']);
    c.add(line('pulling aaa', 'sha256:a', 1000));
    c.add(line('pulling aaa', 'sha256:a', 1000, 500));
    c.add(line('pulling aaa', 'sha256:a', 1000));
    expect([c.completedBytes, c.totalBytes, c.percent]).toEqual([500, 1000, 50]);
    c.add(line('pulling aaa', 'sha256:a', 1000, 1000));
    c.add(line('pulling bbb', 'sha256:b', 1000, 100));
    expect([c.completedBytes, c.totalBytes, c.detail]).toEqual([1100, 2000, 'pulling bbb']);
  });

  it('never lets the percent go back when a new layer grows the total, and keeps it below 100 until success', () => {
    const c = createPullCounter();
    c.add(line('pulling aaa', 'sha256:a', 1000, 1000));
    expect(c.percent).toBe(99);
    c.add(line('pulling bbb', 'sha256:b', 1000));
    expect(c.completedBytes / c.totalBytes).toBe(0.5);
    expect(c.percent).toBe(99);
    c.add(line('pulling bbb', 'sha256:b', 1000, 1000));
    c.add(line('verifying sha256 digest'));
    expect([c.percent, c.detail]).toEqual([99, 'verifying sha256 digest']);
  });
});

describe('progress throttle', () => {
  it('lets the first line out at once, then one per 250 ms and per whole percent, whichever is rarer', () => {
    const t = createProgressThrottle(250);
    expect(t.due(0, 0)).toBe(true);
    // A new percent within 250 ms waits.
    expect(t.due(5, 100)).toBe(false);
    expect(t.due(9, 249)).toBe(false);
    expect(t.due(10, 250)).toBe(true);
    // 250 ms later with the same percent waits too.
    expect(t.due(10, 1000)).toBe(false);
    expect(t.due(11, 1001)).toBe(true);
  });
});

describe('pull jobs', () => {
  it('joins a second pull of the same model (same pull_id, one request to the provider), and a later pull is a new job', async () => {
    const h = harness();
    const first = h.jobs.start('llama3.1', 'ollama');
    const second = h.jobs.start('llama3.1:latest', 'ollama');
    expect(second.pull_id).toBe(first.pull_id);
    expect(first).toMatchObject({ name: 'llama3.1', provider: 'ollama', status: 'running', percent: 0, finished_at: null });
    expect(h.pulls).toHaveLength(1);
    expect(h.jobs.running).toBe(1);

    h.pulls[0]!.succeed();
    await settle();
    expect(h.jobs.get(first.pull_id)).toMatchObject({ status: 'completed', percent: 100 });
    const third = h.jobs.start('llama3.1', 'ollama');
    expect(third.pull_id).not.toBe(first.pull_id);
    expect(h.pulls).toHaveLength(2);
  });

  it('runs at most maxConcurrent pulls: another model is refused with queue_full, joining still works', () => {
    const h = harness(2);
    const a = h.jobs.start('a', 'ollama');
    h.jobs.start('b', 'ollama');
    const refused = (() => {
      try {
        h.jobs.start('c', 'ollama');
      } catch (err) {
        return err;
      }
      throw new Error('expected a refusal');
    })();
    expect(refused).toBeInstanceOf(AuroraError);
    expect(refused).toMatchObject({ code: 'queue_full' });
    expect(h.jobs.start('a', 'ollama').pull_id).toBe(a.pull_id);
    expect(h.pulls.map((p) => p.model)).toEqual(['a', 'b']);
  });

  it('publishes progress at the throttled pace, writes the row with each event, and ends with completed at 100 %', async () => {
    const h = harness();
    const { pull_id } = h.jobs.start('llama2', 'ollama');
    const p = h.pulls[0]!;
    const savesAtStart = h.saves;
    p.send(line('pulling manifest'));
    // Forty lines, each 1 % more, 50 ms apart: 2 s of pulling, paced by time (every 250 ms).
    for (let k = 1; k <= 40; k++) {
      h.clock.advance(50);
      p.send(line('pulling aaa', 'sha256:a', 40_000, k * 1000));
    }
    const progress = of(h, 'model.pull.progress');
    expect(progress.map((e) => e.payload.percent)).toEqual([0, 12, 25, 37, 50, 62, 75, 87, 99]);
    expect(progress[0]!.payload.detail).toBe('pulling manifest');
    expect(h.saves - savesAtStart).toBe(progress.length);
    // GET sees every line at once, not only the published ones.
    expect(h.jobs.get(pull_id)).toMatchObject({ completed_bytes: 40_000, total_bytes: 40_000, percent: 99, detail: 'pulling aaa' });

    p.succeed();
    await settle();
    expect(h.installed).toEqual(['llama2']);
    const [done] = of(h, 'model.pull.completed');
    expect(done!.payload).toMatchObject({ pull_id, status: 'completed', percent: 100, detail: 'success', error: null });
    expect(h.rows.get(pull_id)).toEqual(done!.payload);
    expect(h.jobs.running).toBe(0);
  });

  it('paces a slow pull by whole percent, not by time', () => {
    const h = harness();
    h.jobs.start('llama2', 'ollama');
    const p = h.pulls[0]!;
    // A thousand lines a second apart, each 0.1 % more: one event per whole percent.
    for (let k = 0; k <= 100; k++) {
      h.clock.advance(1000);
      p.send(line('pulling aaa', 'sha256:a', 100_000, k * 100));
    }
    expect(of(h, 'model.pull.progress').map((e) => e.payload.percent)).toEqual(Array.from({ length: 11 }, (_, i) => i));
  });

  it('cancels: the record at once, the request closed with pull_cancelled, late lines and the late rejection change nothing', async () => {
    const h = harness();
    const { pull_id } = h.jobs.start('llama2', 'ollama');
    const p = h.pulls[0]!;
    p.send(line('pulling aaa', 'sha256:a', 1000, 100));
    const cancelled = h.jobs.cancel(pull_id);
    expect(cancelled).toMatchObject({ status: 'cancelled', error_code: 'pull_cancelled', completed_bytes: 100 });
    expect(cancelled.finished_at).not.toBeNull();
    expect(p.signal.aborted).toBe(true);
    expect(p.signal.reason).toMatchObject({ code: 'pull_cancelled' });
    p.send(line('pulling aaa', 'sha256:a', 1000, 900));
    await settle();
    expect(h.jobs.get(pull_id)).toEqual(cancelled);
    expect(h.rows.get(pull_id)).toEqual(cancelled);
    expect(of(h, 'model.pull.cancelled')).toHaveLength(1);
    expect(of(h, 'model.pull.failed')).toHaveLength(0);
    expect(h.installed).toEqual([]);
    // Cancelling again answers the same record; a model can be pulled again at once.
    expect(h.jobs.cancel(pull_id)).toEqual(cancelled);
    expect(h.jobs.start('llama2', 'ollama').pull_id).not.toBe(pull_id);
  });

  it('refuses to cancel a pull that completed or failed (pull_finished) or does not exist (pull_not_found)', async () => {
    const h = harness();
    const a = h.jobs.start('a', 'ollama');
    const b = h.jobs.start('b', 'ollama');
    h.pulls[0]!.succeed();
    h.pulls[1]!.fail(new AuroraError('llm_unavailable', 'LLM provider unreachable'));
    await settle();
    expect(() => h.jobs.cancel(a.pull_id)).toThrow(expect.objectContaining({ code: 'pull_finished' }));
    expect(() => h.jobs.cancel(b.pull_id)).toThrow(expect.objectContaining({ code: 'pull_finished' }));
    expect(() => h.jobs.cancel('nope')).toThrow(expect.objectContaining({ code: 'pull_not_found' }));
    expect(() => h.jobs.get('nope')).toThrow(expect.objectContaining({ code: 'pull_not_found' }));
  });

  it('ends a pull the provider fails as failed with its reason and code, and nothing is left running', async () => {
    const h = harness();
    const { pull_id } = h.jobs.start('llama2', 'ollama');
    h.pulls[0]!.fail(new AuroraError('llm_error', 'connection to the LLM provider was lost mid-response: other side closed'));
    await settle();
    const failed = h.jobs.get(pull_id);
    expect(failed).toMatchObject({
      status: 'failed',
      error_code: 'llm_error',
      error: 'connection to the LLM provider was lost mid-response: other side closed',
    });
    expect(of(h, 'model.pull.failed').map((e) => e.payload)).toEqual([failed]);
    expect(h.jobs.running).toBe(0);
  });

  it('ends a pull that meets a defect as failed (internal) and logs it, instead of holding its slot for ever', async () => {
    const h = harness();
    const { pull_id } = h.jobs.start('llama2', 'ollama');
    h.pulls[0]!.fail(new TypeError('undefined is not a function'));
    await settle();
    expect(h.jobs.get(pull_id)).toMatchObject({ status: 'failed', error_code: 'internal' });
    expect(h.jobs.get(pull_id).error).not.toContain('undefined is not a function');
    expect(h.logs.some((l) => l.includes('model pull failed with a defect'))).toBe(true);
  });

  it('waits for the end of a pull, or for the time given, whichever comes first', async () => {
    const h = harness();
    const a = h.jobs.start('a', 'ollama');
    const waiting = h.jobs.wait(a.pull_id, 1000);
    h.clock.advance(400);
    h.pulls[0]!.succeed();
    expect(await waiting).toMatchObject({ status: 'completed' });

    const b = h.jobs.start('b', 'ollama');
    let answered: PullRecord | undefined;
    void h.jobs.wait(b.pull_id, 1000).then((r) => (answered = r));
    h.clock.advance(999);
    await settle();
    expect(answered).toBeUndefined();
    h.clock.advance(1);
    await settle();
    expect(answered).toMatchObject({ pull_id: b.pull_id, status: 'running' });
    // Waiting for an ended pull answers at once.
    expect(await h.jobs.wait(a.pull_id, 1000)).toMatchObject({ status: 'completed' });
  });

  it('interrupts every running pull when the node stops: failed, interrupted, requests closed', () => {
    const h = harness();
    const a = h.jobs.start('a', 'ollama');
    const b = h.jobs.start('b', 'ollama');
    h.jobs.interruptAll('Aurora stopped while the pull was running');
    for (const id of [a.pull_id, b.pull_id]) {
      expect(h.rows.get(id)).toMatchObject({ status: 'failed', error_code: 'interrupted', error: 'Aurora stopped while the pull was running' });
    }
    expect(h.pulls.every((p) => p.signal.aborted)).toBe(true);
    expect(h.jobs.running).toBe(0);
  });
});
