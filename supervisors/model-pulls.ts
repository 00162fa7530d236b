// Model pull jobs of one node: at most one per (provider, model) at a time (a second request for
// the same model joins the first and gets the same job), at most `maxConcurrent` in all. Each job
// streams the provider's progress into its record, publishes model.pull.* events (progress paced
// by pull-progress.ts), keeps its row in SQLite, and ends exactly once: completed, failed,
// cancelled, or failed as interrupted when the node stops.
import { isoNow, type Clock } from '../runtime/clock.js';
import { AuroraError, describe } from '../runtime/errors.js';
import type { EventPublisher } from '../runtime/events.js';
import { newTaskId } from '../runtime/ids.js';
import type { Logger } from '../runtime/logger.js';
import { canonicalModelName, type LlmProvider, type PullProgress } from '../runtime/providers/llm.js';
import type { PullRecord, PullStatus } from '../runtime/protocol/index.js';
import type { Store } from '../runtime/store/index.js';
import { createProgressThrottle, createPullCounter, type PullCounter, type ProgressThrottle } from './pull-progress.js';

export interface ModelPullsDeps {
  store: Pick<Store, 'pulls'>;
  events: EventPublisher;
  clock: Clock;
  logger: Logger;
  providers: Readonly<Record<string, LlmProvider>>;
  maxConcurrent: number;
  /**
   * Runs after a pull succeeded and before anyone hears of it: whatever is cached about the
   * provider's models is stale now. A rejection is logged; the pull still counts as completed.
   */
  onInstalled(provider: string, model: string): Promise<void>;
}

export interface ModelPulls {
  /** A new pull of the model, or the one already running for it (same pull_id). */
  start(name: string, provider: string): PullRecord;
  /** Throws pull_not_found. */
  get(id: string): PullRecord;
  /** The record once the pull has ended or `waitMs` has passed, whichever is first. */
  wait(id: string, waitMs: number): Promise<PullRecord>;
  /** Ends a running pull as cancelled and closes its request; a cancelled one is answered as it is. */
  cancel(id: string): PullRecord;
  /** Pulls running now. */
  readonly running: number;
  /** Ends every running pull as failed with error_code `interrupted`: this node stops pulling. */
  interruptAll(reason: string): void;
}

interface Job {
  readonly key: string;
  /** The live record; copies leave this module. */
  readonly record: PullRecord;
  readonly controller: AbortController;
  readonly counter: PullCounter;
  readonly throttle: ProgressThrottle;
  /** Resolves once the end is announced (event published, waiters released). */
  readonly announced: Promise<void>;
  announce(): void;
}

const EVENT_OF: Readonly<Record<Exclude<PullStatus, 'running'>, string>> = {
  completed: 'model.pull.completed',
  failed: 'model.pull.failed',
  cancelled: 'model.pull.cancelled',
};

export function createModelPulls(deps: ModelPullsDeps): ModelPulls {
  const { store, events, clock, logger } = deps;
  const byKey = new Map<string, Job>();
  const byId = new Map<string, Job>();

  const copy = (job: Job): PullRecord => ({ ...job.record });

  const publish = (type: string, job: Job) => events.publish(type, { payload: copy(job) });

  /** Ends the job (once): the record changes, the row is written, the job is no longer joinable. */
  const end = (job: Job, failure: AuroraError | null): boolean => {
    const r = job.record;
    if (r.status !== 'running') return false;
    byKey.delete(job.key);
    byId.delete(r.pull_id);
    r.finished_at = isoNow(clock);
    if (failure === null) {
      r.status = 'completed';
      r.percent = 100;
    } else {
      r.status = failure.code === 'pull_cancelled' ? 'cancelled' : 'failed';
      r.error = failure.message;
      r.error_code = failure.code;
    }
    store.pulls.save(copy(job));
    logger.info('model pull ended', {
      pull_id: r.pull_id,
      model: r.name,
      provider: r.provider,
      status: r.status,
      ...(r.error_code !== null && { code: r.error_code, error: r.error }),
    });
    return true;
  };

  const announce = (job: Job) => {
    const status = job.record.status;
    if (status !== 'running') publish(EVENT_OF[status], job);
    job.announce();
  };

  const onLine = (job: Job) => (line: PullProgress) => {
    // Lines still in flight after a cancel change nothing.
    if (job.record.status !== 'running') return;
    job.counter.add(line);
    const r = job.record;
    r.completed_bytes = job.counter.completedBytes;
    r.total_bytes = job.counter.totalBytes;
    r.percent = job.counter.percent;
    r.detail = job.counter.detail;
    if (!job.throttle.due(r.percent, clock.monotonic())) return;
    store.pulls.save(copy(job));
    publish('model.pull.progress', job);
  };

  const run = async (job: Job, provider: LlmProvider): Promise<void> => {
    let failure: AuroraError | null = null;
    try {
      await provider.pull(job.record.name, { signal: job.controller.signal, onProgress: onLine(job) });
    } catch (err) {
      if (err instanceof AuroraError) {
        failure = err;
      } else {
        // A defect of ours or of the provider module. The job must still end, or it would hold its
        // model and a concurrency slot for ever; the log says what happened.
        logger.error('model pull failed with a defect', { pull_id: job.record.pull_id, model: job.record.name, err });
        failure = new AuroraError('internal', 'The pull failed because of an internal error');
      }
    }
    if (!end(job, failure)) return;
    if (failure === null) {
      await deps.onInstalled(job.record.provider, job.record.name).catch((err: unknown) =>
        logger.warn('model listings not invalidated after a pull', { model: job.record.name, error: describe(err) }),
      );
    }
    announce(job);
  };

  const find = (id: string): PullRecord => {
    const job = byId.get(id);
    if (job !== undefined) return copy(job);
    const stored = store.pulls.get(id);
    if (stored === undefined) throw new AuroraError('pull_not_found', `Pull ${id} not found`);
    return stored;
  };

  return {
    get running() {
      return byKey.size;
    },

    start(name, providerName) {
      const provider = deps.providers[providerName];
      if (provider === undefined) throw new AuroraError('invalid_request', `Unknown provider: ${providerName}`);
      const key = `${providerName}\u0000${canonicalModelName(name)}`;
      const running = byKey.get(key);
      if (running !== undefined) return copy(running);
      if (byKey.size >= deps.maxConcurrent) {
        throw new AuroraError(
          'queue_full',
          `${byKey.size} model pulls are running, the most this node runs at once (MODEL_PULL_MAX_CONCURRENT); try again when one ends`,
        );
      }
      let announceEnd = () => {};
      const announced = new Promise<void>((resolve) => {
        announceEnd = resolve;
      });
      const job: Job = {
        key,
        record: {
          pull_id: newTaskId(clock),
          name,
          provider: providerName,
          status: 'running',
          completed_bytes: 0,
          total_bytes: 0,
          percent: 0,
          detail: null,
          error: null,
          error_code: null,
          started_at: isoNow(clock),
          finished_at: null,
        },
        controller: new AbortController(),
        counter: createPullCounter(),
        throttle: createProgressThrottle(),
        announced,
        announce: announceEnd,
      };
      byKey.set(key, job);
      byId.set(job.record.pull_id, job);
      store.pulls.save(copy(job));
      logger.info('model pull started', { pull_id: job.record.pull_id, model: name, provider: providerName });
      void run(job, provider);
      return copy(job);
    },

    get: find,

    async wait(id, waitMs) {
      const job = byId.get(id);
      if (job === undefined || waitMs <= 0) return find(id);
      await new Promise<void>((resolve) => {
        const timer = clock.setTimeout(resolve, waitMs);
        void job.announced.then(() => {
          timer.cancel();
          resolve();
        });
      });
      return copy(job);
    },

    cancel(id) {
      const job = byId.get(id);
      if (job === undefined) {
        const stored = find(id);
        if (stored.status === 'cancelled') return stored;
        throw new AuroraError('pull_finished', `Pull ${id} already ${stored.status}`);
      }
      const reason = new AuroraError('pull_cancelled', 'Pull cancelled');
      end(job, reason);
      job.controller.abort(reason);
      announce(job);
      return copy(job);
    },

    interruptAll(reason) {
      for (const job of [...byKey.values()]) {
        const interrupted = new AuroraError('interrupted', reason);
        end(job, interrupted);
        job.controller.abort(interrupted);
        announce(job);
      }
    },
  };
}
