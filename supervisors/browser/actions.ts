// The browser actions, performed on one task's page. Each runs under its timeout and races the
// browser's loss: a crash fails it at once (browser_crashed), a puppeteer timeout fails it as
// `timeout`, and an action that outlives its timeout by WATCHDOG_GRACE_MS (Chromium no longer
// answers CDP) is a hung browser: its Chromium is killed and its worker restarted.
import { TimeoutError, type ElementHandle, type HTTPResponse, type Page } from 'puppeteer-core';
import type { Clock, Timer } from '../../runtime/clock.js';
import { AuroraError, describe } from '../../runtime/errors.js';
import type { BrowserAction } from '../../runtime/protocol/index.js';
import type { BrowserSession } from './session.js';
import { refSelector, takeSnapshot } from './snapshot.js';

export const WATCHDOG_GRACE_MS = 5_000;
/** How long an interaction waits to see whether it started a navigation. */
const NAVIGATION_SETTLE_MS = 100;
/** Most elements extract reads. */
const EXTRACT_MAX_ELEMENTS = 200;

export interface ActionSettings {
  readonly timeoutMs: number;
  readonly maxChars: number;
  readonly maxScreenshotBytes: number;
  readonly maxPageBytes: number;
  readonly allowEvaluate: boolean;
  readonly faultInjection: boolean;
}

export interface ActionEnv {
  readonly clock: Clock;
  readonly signal: AbortSignal;
  /** Stores a screenshot; returns its id. */
  storeScreenshot(data: Buffer): string;
  /** Main process id of the session's Chromium (fault injection). */
  browserPid(): number | null;
}

export interface ActionOutcome {
  readonly result: Record<string, unknown>;
  readonly navigated?: { url: string; status: number | null; title: string };
  readonly artifact?: { artifact_id: string; content_type: string; bytes: number };
}

/** Runs one action within its timeout; rejects with an AuroraError only. */
export async function runAction(session: BrowserSession, action: BrowserAction, settings: ActionSettings, env: ActionEnv): Promise<ActionOutcome> {
  const timeoutMs = action.timeout_ms ?? settings.timeoutMs;
  // A wait of `ms` is the action itself; its timeout bounds what comes on top of it.
  const budgetMs = timeoutMs + (action.action === 'wait_for' ? (action.ms ?? 0) : 0);
  let watchdog: Timer | undefined;
  let onAbort: (() => void) | undefined;
  const hung = new Promise<never>((_, reject) => {
    watchdog = env.clock.setTimeout(() => {
      session.lease.crash('hung', `${action.action} did not end ${WATCHDOG_GRACE_MS} ms after its ${budgetMs} ms timeout`);
      reject(new AuroraError('browser_crashed', `the browser hung on ${action.action}; it was killed and restarts`));
    }, budgetMs + WATCHDOG_GRACE_MS);
  });
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(cancelled(env.signal.reason));
    if (env.signal.aborted) onAbort();
    else env.signal.addEventListener('abort', onAbort, { once: true });
  });
  const refusedBefore = session.refused;
  try {
    return await Promise.race([perform(session, action, { ...settings, timeoutMs }, env), session.lease.lost, hung, aborted]);
  } catch (err) {
    throw asAuroraError(err, session, action, refusedBefore, timeoutMs);
  } finally {
    watchdog?.cancel();
    if (onAbort) env.signal.removeEventListener('abort', onAbort);
  }
}

async function perform(session: BrowserSession, action: BrowserAction, settings: ActionSettings, env: ActionEnv): Promise<ActionOutcome> {
  const { page } = session;
  const timeout = settings.timeoutMs;
  switch (action.action) {
    case 'navigate': {
      const url = need(action.url, 'url');
      const verdict = await session.guard.check(url, true);
      if (!verdict.ok) throw new AuroraError('navigation_refused', `navigation refused: ${verdict.reason}`);
      const refusedBefore = session.refused;
      const response = await page.goto(url, { waitUntil: 'load', timeout });
      await checkPageSize(page, settings.maxPageBytes);
      return navigated(session, response, refusedBefore);
    }
    case 'back': {
      const refusedBefore = session.refused;
      const response = await page.goBack({ waitUntil: 'load', timeout });
      await checkPageSize(page, settings.maxPageBytes);
      return navigated(session, response, refusedBefore);
    }
    case 'snapshot': {
      const snap = await retryOnNavigation(page, timeout, env.clock, () => takeSnapshot(page, settings.maxChars));
      return { result: { url: snap.url, title: snap.title, snapshot: snap.text, elements: snap.elements, truncated: snap.truncated } };
    }
    case 'click':
      return interact(session, env.clock, settings, async () => {
        const el = await element(page, action, timeout);
        await el.click();
      });
    case 'type':
      return interact(session, env.clock, settings, async () => {
        const el = await element(page, action, timeout);
        // Typing replaces what the field held, as a user selecting it all first would.
        await el.evaluate((e) => {
          if ('value' in e) (e as { value: string }).value = '';
        });
        await el.type(need(action.text, 'text'));
        if (action.submit === true) await page.keyboard.press('Enter');
      });
    case 'press':
      return interact(session, env.clock, settings, async () => {
        try {
          await page.keyboard.press(need(action.key, 'key') as Parameters<Page['keyboard']['press']>[0]);
        } catch (err) {
          if (/unknown key/i.test(describe(err))) throw new AuroraError('browser_action_failed', `press: unknown key "${action.key}"`);
          throw err;
        }
      });
    case 'select': {
      const values = need(action.values, 'values');
      const el = await element(page, action, timeout);
      const selected = await el.select(...values);
      return { result: { selected } };
    }
    case 'scroll': {
      if (action.ref !== undefined || action.selector !== undefined) {
        const el = await element(page, action, timeout);
        await el.scrollIntoView();
      } else {
        await page.evaluate(`window.scrollBy(${action.x ?? 0}, ${action.y ?? 'window.innerHeight'})`);
      }
      const at = (await page.evaluate('[window.scrollX, window.scrollY]')) as [number, number];
      return { result: { scroll_x: at[0], scroll_y: at[1] } };
    }
    case 'wait_for': {
      if (action.selector !== undefined || action.ref !== undefined) {
        await page.waitForSelector(target(action), { visible: true, timeout });
      } else if (action.text !== undefined) {
        await page.waitForFunction((t: string) => (globalThis as { document?: { body?: { innerText?: string } } }).document?.body?.innerText?.includes(t) === true, { timeout }, action.text);
      } else {
        const ms = need(action.ms, 'ms, text or selector');
        await new Promise<void>((resolve) => env.clock.setTimeout(resolve, ms));
      }
      return { result: {} };
    }
    case 'extract': {
      const selector = need(action.selector, 'selector');
      const attribute = action.attribute ?? null;
      const values = await retryOnNavigation(page, timeout, env.clock, () =>
        page.$$eval(
          selector,
          (els, attr, max) =>
            els.slice(0, max).map((e) => (attr === null ? ((e as unknown as { innerText?: string }).innerText ?? e.textContent ?? '') : e.getAttribute(attr))),
          attribute,
          EXTRACT_MAX_ELEMENTS,
        ),
      );
      if (values.length === 0) throw new AuroraError('browser_action_failed', `extract: no element matches ${selector}`);
      const { kept, truncated } = bounded(values, settings.maxChars);
      return { result: { values: kept, count: values.length, truncated } };
    }
    case 'screenshot': {
      const data = Buffer.from(await page.screenshot({ type: 'png', captureBeyondViewport: false }));
      if (data.length > settings.maxScreenshotBytes) {
        throw new AuroraError('browser_action_failed', `screenshot: ${data.length} bytes is over max_screenshot_bytes (${settings.maxScreenshotBytes})`);
      }
      const artifactId = env.storeScreenshot(data);
      const artifact = { artifact_id: artifactId, content_type: 'image/png', bytes: data.length };
      return { result: { ...artifact, href: `/api/v1/artifacts/${artifactId}` }, artifact };
    }
    case 'evaluate': {
      if (!settings.allowEvaluate) {
        throw new AuroraError('invalid_request', 'evaluate: running script in the page is off for this agent (config.allow_evaluate)');
      }
      const value: unknown = await page.evaluate(need(action.script, 'script'));
      const json = JSON.stringify(value ?? null);
      if (json.length > settings.maxChars) throw new AuroraError('browser_action_failed', `evaluate: the value is over ${settings.maxChars} characters as JSON`);
      return { result: { value: JSON.parse(json) as unknown } };
    }
    case 'crash':
      return crash(session, action, settings, env);
  }
}

/** Fault injection (FAULT_INJECTION_ENABLED): what a crashing renderer or a killed Chromium does to a task. */
async function crash(session: BrowserSession, action: BrowserAction, settings: ActionSettings, env: ActionEnv): Promise<ActionOutcome> {
  if (!settings.faultInjection) throw new AuroraError('fault_injection_disabled', 'crash needs FAULT_INJECTION_ENABLED');
  if (action.target === 'browser') {
    const pid = env.browserPid();
    if (pid !== null) process.kill(pid, 'SIGKILL');
  } else {
    const cdp = await session.page.createCDPSession();
    // Page.crash never answers: the renderer is gone before it could.
    void cdp.send('Page.crash').catch(() => {});
  }
  // The loss of the browser ends the action (runAction races it); this never resolves.
  return new Promise<never>(() => {});
}

async function navigated(session: BrowserSession, response: HTTPResponse | null, refusedBefore: number): Promise<ActionOutcome> {
  const { page } = session;
  const title = await page.title();
  const url = page.url();
  const blocked = session.since(refusedBefore).map((r) => ({ url: r.url, reason: r.reason }));
  const status = response?.status() ?? null;
  return {
    result: { url, status, title, ...(blocked.length > 0 && { blocked }) },
    navigated: { url, status, title },
  };
}

/** Performs an input; when it started a navigation, waits for the new document to load. */
async function interact(
  session: BrowserSession,
  clock: Clock,
  { timeoutMs: timeout, maxPageBytes }: ActionSettings,
  input: () => Promise<void>,
): Promise<ActionOutcome> {
  const navigationsBefore = session.navigations;
  const loadsBefore = session.loads;
  const refusedBefore = session.refused;
  await input();
  await new Promise<void>((resolve) => clock.setTimeout(resolve, NAVIGATION_SETTLE_MS));
  if (session.navigations === navigationsBefore) return { result: { url: session.page.url() } };
  let timer: Timer | undefined;
  try {
    await Promise.race([
      session.settled(loadsBefore, refusedBefore),
      new Promise<never>((_, reject) => {
        timer = clock.setTimeout(() => reject(new TimeoutError(`the navigation it started did not load within ${timeout} ms`)), timeout);
      }),
    ]);
  } finally {
    timer?.cancel();
  }
  const refused = session.since(refusedBefore).find((r) => r.navigation);
  if (refused) throw new AuroraError('navigation_refused', `navigation refused: ${refused.reason}`);
  await checkPageSize(session.page, maxPageBytes);
  return navigated(session, null, refusedBefore);
}

// What a page weighs once loaded: the bytes it transferred (document and subresources), or its
// DOM's size when that is larger (a page that builds itself from a small script).
const PAGE_SIZE_SCRIPT = `(() => {
  let transferred = 0;
  for (const e of performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))) transferred += e.transferSize || 0;
  const dom = document.documentElement ? document.documentElement.outerHTML.length : 0;
  return Math.max(transferred, dom);
})()`;

/** A page over the bound is left (about:blank), so it holds no memory, and the action fails. */
async function checkPageSize(page: Page, maxBytes: number): Promise<void> {
  const size = (await page.evaluate(PAGE_SIZE_SCRIPT)) as number;
  if (size <= maxBytes) return;
  await page.goto('about:blank').catch(() => {});
  throw new AuroraError('browser_action_failed', `the page weighs ${size} bytes, over max_page_bytes (${maxBytes}); it was left`);
}

/** A page that navigates while it is read destroys the reading's context: read the new document instead. */
async function retryOnNavigation<T>(page: Page, timeout: number, clock: Clock, read: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (err) {
      if (attempt >= 3 || !/context was destroyed|navigat/i.test(describe(err))) throw err;
      await page.waitForFunction('document.readyState === "complete"', { timeout }).catch(() => {});
      await new Promise<void>((resolve) => clock.setTimeout(resolve, NAVIGATION_SETTLE_MS));
    }
  }
}

function target(action: BrowserAction): string {
  if (action.ref !== undefined) return refSelector(action.ref);
  return need(action.selector, 'ref or selector');
}

async function element(page: Page, action: BrowserAction, timeout: number): Promise<ElementHandle> {
  const selector = target(action);
  try {
    const el = await page.waitForSelector(selector, { visible: true, timeout });
    if (el === null) throw new AuroraError('browser_action_failed', `${action.action}: no visible element matches ${describeTarget(action)}`);
    return el;
  } catch (err) {
    if (err instanceof TimeoutError) {
      throw new AuroraError('browser_action_failed', `${action.action}: no visible element matches ${describeTarget(action)} within ${timeout} ms`);
    }
    throw err;
  }
}

function describeTarget(action: BrowserAction): string {
  return action.ref !== undefined ? `ref ${action.ref} (take a new snapshot: refs belong to the document they were read from)` : `selector ${action.selector}`;
}

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new AuroraError('invalid_request', `this action needs ${what}`);
  return value;
}

function bounded(values: (string | null)[], maxChars: number): { kept: (string | null)[]; truncated: boolean } {
  const kept: (string | null)[] = [];
  let size = 0;
  for (const v of values) {
    const text = v === null ? null : v.trim();
    const length = text?.length ?? 4;
    if (size + length > maxChars) {
      if (text !== null && size < maxChars) kept.push(text.slice(0, maxChars - size));
      return { kept, truncated: true };
    }
    kept.push(text);
    size += length;
  }
  return { kept, truncated: false };
}

function asAuroraError(err: unknown, session: BrowserSession, action: BrowserAction, refusedBefore: number, timeoutMs: number): AuroraError {
  const refused = session.since(refusedBefore).find((r) => r.navigation);
  if (refused && !(err instanceof AuroraError && err.code === 'browser_crashed')) {
    return new AuroraError('navigation_refused', `navigation refused: ${refused.reason}`, { cause: err });
  }
  if (err instanceof AuroraError) return err;
  if (err instanceof TimeoutError) return new AuroraError('timeout', `${action.action} timed out after ${timeoutMs} ms`, { cause: err });
  const message = describe(err);
  if (/Target closed|Session closed|Connection closed|Protocol error.*(closed|crash)/i.test(message)) {
    return new AuroraError('browser_crashed', `${action.action}: the browser went away (${message})`, { cause: err });
  }
  if (/net::ERR_/.test(message)) return new AuroraError('browser_action_failed', `${action.action}: ${message}`, { cause: err });
  // Anything else puppeteer throws is about the page or the input (an invalid selector, a detached node).
  return new AuroraError('browser_action_failed', `${action.action}: ${message}`, { cause: err });
}

function cancelled(reason: unknown): AuroraError {
  if (reason instanceof AuroraError) return reason;
  return new AuroraError('task_cancelled', 'task cancelled', { cause: reason });
}
