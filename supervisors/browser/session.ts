// One task's browser session: its leased context and page, the guard every request of the page
// goes through, and what the guard refused (so a failed navigation says why).
import type { HTTPRequest } from 'puppeteer-core';
import type { Logger } from '../../runtime/logger.js';
import type { BrowserLease } from './lease.js';
import type { OriginGuard } from './origin-guard.js';

// New windows (window.open, target=_blank links and forms) would load in pages whose requests
// nothing guards, and request interception cannot be set on them before their first request. So
// every document of the task's page is kept from opening one; a popup that appears anyway is
// closed at once. A hostile page of an allowed origin could still find a way around this script
// (the allowed origins are trusted to that extent).
const NO_NEW_WINDOWS = `(() => {
  const none = () => null;
  Object.defineProperty(window, 'open', { value: none, writable: false, configurable: false });
  const untarget = (e) => {
    const el = e.target && e.target.closest ? e.target.closest('a[target],area[target],form[target]') : null;
    if (el) el.removeAttribute('target');
  };
  document.addEventListener('click', untarget, true);
  document.addEventListener('auxclick', (e) => e.preventDefault(), true);
  document.addEventListener('submit', untarget, true);
})();`;

/** Refusals remembered per session (the newest). */
const REFUSALS_MAX = 32;

export interface Refusal {
  readonly seq: number;
  readonly url: string;
  readonly reason: string;
  readonly navigation: boolean;
}

export class BrowserSession {
  private readonly refusals: Refusal[] = [];
  /** Refusals so far; an action compares it before and after. */
  refused = 0;
  /** Main-frame navigations requested so far; an interaction compares it before and after. */
  navigations = 0;
  /** Main-frame loads finished so far. */
  loads = 0;
  /** Woken on every load and every refused navigation; one per interaction at most, gone with the session. */
  private readonly watchers = new Set<() => void>();

  constructor(
    readonly lease: BrowserLease,
    readonly guard: OriginGuard,
    private readonly logger: Logger,
  ) {}

  get page(): BrowserLease['page'] {
    return this.lease.page;
  }

  /** Turns request interception on: nothing leaves the page unchecked from here on. */
  async guardRequests(): Promise<void> {
    const { page } = this;
    page.on('request', (req) => void this.onRequest(req));
    page.on('load', () => {
      this.loads++;
      this.wake();
    });
    await page.evaluateOnNewDocument(NO_NEW_WINDOWS);
    await page.setRequestInterception(true);
    this.lease.context.on('targetcreated', (target) => {
      if (target.type() !== 'page') return;
      target.page().then(
        (popup) => {
          if (popup !== null && popup !== page) {
            this.logger.info('browser popup closed', { url: target.url().slice(0, 256) });
            return popup.close();
          }
          return undefined;
        },
        () => {},
      ).catch(() => {});
    });
  }

  /** Refusals recorded since `from` (an earlier value of `refused`), the newest REFUSALS_MAX at most. */
  since(from: number): Refusal[] {
    return this.refusals.filter((r) => r.seq >= from);
  }

  /**
   * Resolves once the main frame loaded after `loadsBefore` loads, or a navigation was refused after
   * `refusedBefore` refusals: what an input that started a navigation waits for. Counting loads
   * instead of waiting for "the next navigation" cannot miss one that committed before the wait.
   */
  settled(loadsBefore: number, refusedBefore: number): Promise<void> {
    const done = (): boolean => this.loads > loadsBefore || this.since(refusedBefore).some((r) => r.navigation);
    if (done()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = (): void => {
        if (!done()) return;
        this.watchers.delete(check);
        resolve();
      };
      this.watchers.add(check);
    });
  }

  private wake(): void {
    for (const check of [...this.watchers]) check();
  }

  private async onRequest(req: HTTPRequest): Promise<void> {
    const navigation = req.isNavigationRequest() && req.frame() === this.page.mainFrame();
    if (navigation) this.navigations++;
    let verdict;
    try {
      verdict = await this.guard.check(req.url(), req.isNavigationRequest());
    } catch (err) {
      verdict = { ok: false as const, reason: `${req.url()}: the check failed (${String(err)})` };
    }
    try {
      if (verdict.ok) {
        await req.continue();
        return;
      }
      if (this.refusals.length >= REFUSALS_MAX) this.refusals.shift();
      this.refusals.push({ seq: this.refused++, url: req.url(), reason: verdict.reason, navigation });
      this.wake();
      this.logger.info('browser request refused', { url: req.url().slice(0, 256), reason: verdict.reason, navigation });
      await req.abort('blockedbyclient');
    } catch {
      // The page closed or the request was cancelled meanwhile: nothing left to answer.
    }
  }
}
