// One supervised browser worker: it owns at most one Chromium at a time, launched when the first
// context is asked for, closed when idle for BROWSER_IDLE_MS and replaced after it served
// BROWSER_RETIRE_AFTER_PAGES contexts. When its Chromium disconnects, a renderer crashes or a page
// hangs, every context on it fails (browser_crashed, retryable), the whole process group is killed
// and the worker exits as crashed: its supervisor restarts it after a backoff, like any child.
import type { Browser } from 'puppeteer-core';
import type { Clock, Timer } from '../../runtime/clock.js';
import { AuroraError, describe } from '../../runtime/errors.js';
import type { Logger } from '../../runtime/logger.js';
import type { Metrics } from '../../runtime/metrics.js';
import type { ChildExit, ChildHandle } from '../supervisor.js';
import { launchChromium, type Chromium, type ChromiumOptions } from './chromium.js';
import type { BrowserLease, BrowserRestartReason } from './lease.js';

export interface WorkerLimits {
  readonly pagesMax: number;
  readonly retireAfterPages: number;
  readonly idleMs: number;
}

export interface WorkerDeps {
  readonly id: string;
  readonly chromium: ChromiumOptions;
  readonly limits: WorkerLimits;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** A context was released or the worker ended: someone waiting may go ahead. */
  readonly onFree: () => void;
}

interface OpenLease {
  readonly lease: BrowserLease;
  fail(error: AuroraError): void;
}

export class BrowserWorker {
  private chromium: Chromium | null = null;
  private launching: Promise<Chromium> | null = null;
  private readonly open = new Set<OpenLease>();
  /** Contexts promised to callers whose context is still being created. */
  private reserved = 0;
  private served = 0;
  private idleTimer: Timer | null = null;
  private ended = false;
  private exit: ChildExit | null = null;
  private exitListener: ((exit: ChildExit) => void) | null = null;

  constructor(private readonly deps: WorkerDeps) {}

  get id(): string {
    return this.deps.id;
  }

  /** Contexts this worker can still hand out now. */
  free(): number {
    if (this.ended || this.retiring()) return 0;
    return this.deps.limits.pagesMax - this.open.size - this.reserved;
  }

  /** A Chromium is up (or starting): preferred over launching another. */
  warm(): boolean {
    return this.chromium !== null || this.launching !== null;
  }

  /** The main process id of the current Chromium, when one runs. */
  pid(): number | null {
    return this.chromium?.pid ?? null;
  }

  handle(): ChildHandle {
    return {
      stop: () => this.stop(),
      onExit: (listener) => {
        this.exitListener = listener;
        if (this.exit !== null) listener(this.exit);
      },
    };
  }

  /** Opens a context and its page; call only when free() > 0 (the slot is taken synchronously). */
  async lease(): Promise<BrowserLease> {
    this.reserved++;
    this.idleTimer?.cancel();
    this.idleTimer = null;
    try {
      const chromium = await this.ensureChromium();
      const context = await chromium.browser.createBrowserContext({ downloadBehavior: { policy: 'deny' } });
      const page = await context.newPage().catch(async (err: unknown) => {
        await context.close().catch(() => {});
        throw err;
      });
      if (this.ended || this.chromium !== chromium) {
        await context.close().catch(() => {});
        throw lostError(this.id, 'the browser ended while the page was opening');
      }
      return this.track(chromium, context, page);
    } catch (err) {
      // The slot it held is free again: whoever waits may try (a launch that failed fails them too).
      queueMicrotask(this.deps.onFree);
      if (err instanceof AuroraError) throw err;
      throw new AuroraError('browser_crashed', `${this.id} could not open a page: ${describe(err)}`, { cause: err });
    } finally {
      this.reserved--;
    }
  }

  private track(chromium: Chromium, context: BrowserLease['context'], page: BrowserLease['page']): BrowserLease {
    let rejectLost!: (err: AuroraError) => void;
    const lost = new Promise<never>((_, reject) => (rejectLost = reject));
    // Nobody may be racing it yet; an unobserved rejection must not become a process warning.
    lost.catch(() => {});
    let released: Promise<void> | null = null;
    const entry: OpenLease = {
      lease: {
        context,
        page,
        worker: this.id,
        lost,
        crash: (reason, detail) => this.fail(reason, detail),
        release: () => {
          released ??= this.release(entry, context);
          return released;
        },
      },
      fail: (error) => rejectLost(error),
    };
    page.on('error', (err) => this.fail('renderer_crash', `the page's renderer crashed: ${describe(err)}`));
    this.open.add(entry);
    this.served++;
    this.deps.metrics.browserPagesOpen.inc();
    return entry.lease;
  }

  private async release(entry: OpenLease, context: BrowserLease['context']): Promise<void> {
    if (!this.open.delete(entry)) return;
    this.deps.metrics.browserPagesOpen.dec();
    entry.fail(new AuroraError('browser_action_failed', 'the page was released'));
    if (!this.ended) await context.close().catch(() => {});
    if (!this.ended && this.open.size === 0) {
      if (this.retiring()) await this.retire();
      else this.armIdle();
    }
    this.deps.onFree();
  }

  private retiring(): boolean {
    return this.served >= this.deps.limits.retireAfterPages;
  }

  private async retire(): Promise<void> {
    const chromium = this.chromium;
    this.chromium = null;
    this.served = 0;
    if (chromium === null) return;
    this.deps.metrics.browserRestarts.inc({ reason: 'retired' });
    this.deps.logger.info('browser retired', { worker: this.id, pid: chromium.pid });
    await this.close(chromium);
  }

  private armIdle(): void {
    this.idleTimer?.cancel();
    this.idleTimer = this.deps.clock.setTimeout(() => {
      this.idleTimer = null;
      const chromium = this.chromium;
      if (chromium === null || this.open.size > 0 || this.reserved > 0 || this.ended) return;
      this.chromium = null;
      this.deps.logger.info('idle browser closed', { worker: this.id, pid: chromium.pid });
      void this.close(chromium);
    }, this.deps.limits.idleMs);
  }

  private ensureChromium(): Promise<Chromium> {
    if (this.chromium !== null) return Promise.resolve(this.chromium);
    this.launching ??= this.launch().finally(() => {
      this.launching = null;
    });
    return this.launching;
  }

  private async launch(): Promise<Chromium> {
    let chromium: Chromium;
    try {
      chromium = await launchChromium(this.deps.chromium);
    } catch (err) {
      // A missing or broken binary is the operator's to fix: restarting the worker would not help.
      throw new AuroraError(
        'unavailable',
        `Chromium could not start (${this.deps.chromium.executablePath}): ${describe(err)}; install it or set BROWSER_EXECUTABLE`,
        { cause: err },
      );
    }
    if (this.ended) {
      await chromium.kill();
      throw lostError(this.id, 'the worker stopped while Chromium was starting');
    }
    this.chromium = chromium;
    this.deps.metrics.browsersAlive.inc();
    this.deps.logger.info('browser launched', { worker: this.id, pid: chromium.pid });
    chromium.browser.on('disconnected', () => {
      if (this.chromium === chromium) this.fail('disconnected', `Chromium (pid ${chromium.pid}) disconnected`);
    });
    return chromium;
  }

  private async close(chromium: Chromium): Promise<void> {
    await closeGently(chromium.browser, this.deps.clock);
    await chromium.kill();
    this.deps.metrics.browsersAlive.dec();
  }

  /** The browser is lost: fail every context on it, kill the process group, exit as crashed. */
  private fail(reason: BrowserRestartReason, detail: string): void {
    if (this.ended) return;
    this.ended = true;
    const error = lostError(this.id, detail);
    this.deps.logger.warn('browser lost; its worker restarts', { worker: this.id, reason, detail, contexts: this.open.size });
    this.deps.metrics.browserRestarts.inc({ reason });
    this.end(error).then(
      () => this.exited({ reason: 'crash', error }),
      () => this.exited({ reason: 'crash', error }),
    );
  }

  private async stop(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    await this.end(new AuroraError('unavailable', `${this.id} is stopping`));
    this.exited({ reason: 'normal' });
  }

  private async end(error: AuroraError): Promise<void> {
    this.idleTimer?.cancel();
    this.idleTimer = null;
    for (const entry of this.open) {
      entry.fail(error);
      this.deps.metrics.browserPagesOpen.dec();
    }
    this.open.clear();
    const chromium = this.chromium ?? (await this.launching?.catch(() => null)) ?? null;
    this.chromium = null;
    if (chromium !== null) {
      await chromium.kill();
      this.deps.metrics.browsersAlive.dec();
    }
    this.deps.onFree();
  }

  private exited(exit: ChildExit): void {
    if (this.exit !== null) return;
    this.exit = exit;
    this.exitListener?.(exit);
  }
}

function lostError(worker: string, detail: string): AuroraError {
  return new AuroraError('browser_crashed', `${worker}: ${detail}`);
}

const CLOSE_GRACE_MS = 2000;

/** browser.close() lets Chromium flush and exit by itself; it is bounded, the group kill follows anyway. */
async function closeGently(browser: Browser, clock: Clock): Promise<void> {
  let timer: Timer | undefined;
  await Promise.race([
    browser.close().catch(() => {}),
    new Promise<void>((resolve) => (timer = clock.setTimeout(resolve, CLOSE_GRACE_MS))),
  ]);
  timer?.cancel();
}
