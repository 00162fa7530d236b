// The browser pool on its own, with real Chromium: a Chromium is retired after
// BROWSER_RETIRE_AFTER_PAGES contexts and replaced by a fresh one, an idle one is closed, more
// tasks than contexts wait for one, and stopping the pool leaves no Chromium process behind.
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../runtime/clock.js';
import { loadConfig } from '../../runtime/config.js';
import { createLogger } from '../../runtime/logger.js';
import { createMetrics, type Metrics } from '../../runtime/metrics.js';
import { createBrowserPool, type BrowserPool } from '../../supervisors/browser/pool.js';

const CHROMIUM = process.env.BROWSER_EXECUTABLE ?? '/usr/bin/chromium';

async function gauge(metrics: Metrics, name: 'browsersAlive' | 'browserPagesOpen'): Promise<number> {
  return (await metrics[name].get()).values[0]?.value ?? 0;
}

async function retired(metrics: Metrics): Promise<number> {
  return (await metrics.browserRestarts.get()).values.find((v) => v.labels.reason === 'retired')?.value ?? 0;
}

describe.skipIf(!existsSync(CHROMIUM))('browser pool (real Chromium)', () => {
  const pools: BrowserPool[] = [];
  afterEach(async () => {
    for (const pool of pools.splice(0)) await pool.supervisor.stop();
  });

  const start = async (env: Record<string, string>) => {
    const config = loadConfig({ env: { BROWSER_EXECUTABLE: CHROMIUM, ...env } });
    const metrics = createMetrics({ defaultMetrics: false });
    const logger = createLogger('silent');
    const pool = createBrowserPool({ config, clock: systemClock, logger, metrics, supervisor: { clock: systemClock, rng: Math.random, logger } });
    pools.push(pool);
    await pool.supervisor.start();
    return { pool, metrics };
  };

  it('retires a Chromium after BROWSER_RETIRE_AFTER_PAGES contexts and launches a fresh one', async () => {
    const { pool, metrics } = await start({ BROWSER_MAX: '1', BROWSER_RETIRE_AFTER_PAGES: '2' });
    const signal = new AbortController().signal;
    const first = await pool.lease(signal);
    const pid = pool.pidOf(first.worker);
    expect(pid).not.toBeNull();
    await first.release();
    const second = await pool.lease(signal);
    expect(pool.pidOf(second.worker)).toBe(pid);
    await second.release();
    expect(await retired(metrics)).toBe(1);
    expect(await gauge(metrics, 'browsersAlive')).toBe(0);
    const third = await pool.lease(signal);
    expect(pool.pidOf(third.worker)).not.toBe(pid);
    expect(await gauge(metrics, 'browsersAlive')).toBe(1);
    await third.release();
  });

  it('makes a task wait for a context when every one is taken, and hands it the next one freed', async () => {
    const { pool, metrics } = await start({ BROWSER_MAX: '1', BROWSER_PAGES_MAX: '1' });
    const signal = new AbortController().signal;
    const held = await pool.lease(signal);
    let served = false;
    const waiting = pool.lease(signal).then((lease) => {
      served = true;
      return lease;
    });
    const cancelled = new AbortController();
    const gaveUp = pool.lease(cancelled.signal);
    cancelled.abort(new Error('gave up'));
    await expect(gaveUp).rejects.toThrow('gave up');
    expect(served).toBe(false);
    expect(await gauge(metrics, 'browserPagesOpen')).toBe(1);
    await held.release();
    const next = await waiting;
    expect(await gauge(metrics, 'browserPagesOpen')).toBe(1);
    await next.release();
  });

  it('closes an idle Chromium after BROWSER_IDLE_MS', async () => {
    const { pool, metrics } = await start({ BROWSER_MAX: '1', BROWSER_IDLE_MS: '0' });
    const lease = await pool.lease(new AbortController().signal);
    const pid = pool.pidOf(lease.worker)!;
    await lease.release();
    // The idle timer fires on its own; the process is gone once it has (no time is asserted).
    while ((await gauge(metrics, 'browsersAlive')) > 0) await new Promise((r) => setTimeout(r, 20));
    expect(pool.pidOf(lease.worker)).toBeNull();
    expect(processAlive(pid)).toBe(false);
  });
});

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
