// The dashboard's first load, in headless Chromium against a running Aurora: the bytes a first
// visit downloads (page, script, style; gzipped, as a compressing proxy would send them) and the
// time from navigation to the first meaningful render (the readiness checks on screen). Each
// round uses a fresh browser context, so nothing is cached.
import { gzipSync } from 'node:zlib';
import puppeteer from 'puppeteer-core';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FIRST_RENDER = '[data-testid="readiness"] li';

export interface DashboardLoad {
  firstLoadGzipKb: number;
  firstRenderMs: number;
}

async function firstLoadBytes(base: string): Promise<number> {
  const page = await (await fetch(`${base}/ui/`)).text();
  const assets = [...page.matchAll(/(?:src|href)="(\/ui\/assets\/[^"]+)"/g)].map((m) => m[1]!);
  const bodies = [Buffer.from(page), ...(await Promise.all(assets.map(async (a) => Buffer.from(await (await fetch(base + a)).arrayBuffer()))))];
  return bodies.reduce((sum, b) => sum + gzipSync(b, { level: 9 }).length, 0);
}

/** `rounds` cold visits of `base`/ui/. */
export async function measureDashboard(base: string, rounds: number): Promise<DashboardLoad[]> {
  const bytes = await firstLoadBytes(base);
  const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  try {
    const results: DashboardLoad[] = [];
    for (let i = 0; i < rounds; i++) {
      const context = await browser.createBrowserContext();
      try {
        const page = await context.newPage();
        await page.goto(`${base}/ui/`);
        await page.waitForSelector(FIRST_RENDER);
        // performance.now() in the page counts from its navigation start.
        const ms = await page.evaluate(() => (globalThis as unknown as { performance: { now(): number } }).performance.now());
        results.push({ firstLoadGzipKb: bytes / 1024, firstRenderMs: ms });
      } finally {
        await context.close();
      }
    }
    return results;
  } finally {
    await browser.close();
  }
}
