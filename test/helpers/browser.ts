// Headless Chromium for the dashboard's end-to-end tests, through puppeteer-core (Debian's
// Chromium: CHROMIUM_PATH, else /usr/bin/chromium). A page records what would make a user's
// session unhealthy: console errors, uncaught exceptions, failed requests, HTTP errors.
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Screenshots the tests write; not committed (.gitignore). */
export const SCREENSHOT_DIR = fileURLToPath(new URL('../../test-screenshots/', import.meta.url));

export function launchBrowser(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    // Root in a container has no user namespace for the sandbox; the pages are our own.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
  });
}

export interface WatchedPage {
  readonly page: Page;
  /** Console errors and uncaught exceptions. */
  readonly errors: string[];
  /** Requests that failed outright, and answers with status >= 400. */
  readonly failures: string[];
  screenshot(name: string): Promise<void>;
}

export async function openPage(browser: Browser, url: string, colorScheme: 'light' | 'dark' = 'light'): Promise<WatchedPage> {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 800 });
  await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: colorScheme }]);
  const errors: string[] = [];
  const failures: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('requestfailed', (r) => failures.push(`${r.url()}: ${r.failure()?.errorText ?? 'failed'}`));
  page.on('response', (r) => {
    if (r.status() >= 400) failures.push(`${r.url()}: HTTP ${r.status()}`);
  });
  await page.goto(url, { waitUntil: 'load' });
  return {
    page,
    errors,
    failures,
    async screenshot(name) {
      mkdirSync(SCREENSHOT_DIR, { recursive: true });
      await page.screenshot({ path: `${SCREENSHOT_DIR}${name}.png`, fullPage: true });
    },
  };
}
