// What a task holds of a browser: one isolated context (its own cookies, storage and cache) with
// one page, on one worker's Chromium. The lease says when the browser under it is lost, so every
// action can fail at once instead of waiting on a socket that will never answer.
import type { BrowserContext, Page } from 'puppeteer-core';

/** Why a Chromium was ended and replaced: the label of aurora_browser_restarts_total. */
export const BROWSER_RESTART_REASONS = ['disconnected', 'renderer_crash', 'hung', 'retired'] as const;
export type BrowserRestartReason = (typeof BROWSER_RESTART_REASONS)[number];

export interface BrowserLease {
  readonly context: BrowserContext;
  readonly page: Page;
  /** The worker holding it ("browser-0"), for messages and logs. */
  readonly worker: string;
  /** Rejects (with a browser_crashed AuroraError) once the browser under the lease is gone. */
  readonly lost: Promise<never>;
  /** The page hangs: the whole Chromium is killed and its worker restarted. */
  crash(reason: BrowserRestartReason, detail: string): void;
  /** Closes the context; idempotent, never rejects. */
  release(): Promise<void>;
}
