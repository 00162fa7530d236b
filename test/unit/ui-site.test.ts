// The dashboard's files as the gateway serves them: read once from a built folder, the page
// revalidated under a strict CSP, hashed assets kept forever, any other name unknown; the routes
// open without a token (the files hold no data) and a 404 that says how to build when there is
// no build.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isRateLimitExempt } from '../../gateway/rate-limit.js';
import { uiRoutes } from '../../gateway/routes/ui.js';
import { loadUiSite, UI_CSP } from '../../gateway/ui-site.js';
import { isAuroraError } from '../../runtime/errors.js';

const dir = mkdtempSync(path.join(tmpdir(), 'aurora-ui-'));
mkdirSync(path.join(dir, 'assets'));
writeFileSync(path.join(dir, 'index.html'), '<!DOCTYPE html><script type="module" src="/ui/assets/main-ABC.js"></script>');
writeFileSync(path.join(dir, 'assets', 'main-ABC.js'), 'export {};');
writeFileSync(path.join(dir, 'assets', 'notes.txt'), 'not served');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const request = (params: Record<string, string> = {}) => ({ params, query: {}, body: undefined, headers: {} });

describe('dashboard site', () => {
  it('serves the page no-cache under a CSP without inline script, and hashed assets immutable', () => {
    const site = loadUiSite([path.join(dir, 'missing'), dir])!;
    expect(site.index.headers['cache-control']).toBe('no-cache');
    expect(site.index.headers['content-security-policy']).toBe(UI_CSP);
    expect(UI_CSP).toContain("script-src 'self'");
    expect(UI_CSP).not.toContain('unsafe');
    expect(site.asset('main-ABC.js')?.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    for (const name of ['notes.txt', '../index.html', '..%2Findex.html', 'index.html']) expect(site.asset(name), name).toBeUndefined();
  });

  it('is absent when nothing was built, and its routes then say how to build it', async () => {
    expect(loadUiSite([path.join(dir, 'missing')])).toBeUndefined();
    const [page] = uiRoutes(undefined);
    const err = await page!.handler(request(), {} as never).catch((e: unknown) => e);
    expect(isAuroraError(err) && err.code === 'not_found' && err.message.includes('npm run build')).toBe(true);
  });

  it('needs no token: the page asks for one and sends it with every API call', () => {
    for (const r of uiRoutes(loadUiSite([dir]))) {
      expect(r.scope, r.path).toBeUndefined();
      expect(r.guard, r.path).toBeUndefined();
      expect(r.path.startsWith('/ui/')).toBe(true);
      // Loading the page does not spend the client's rate-limit budget; its API calls do.
      expect(isRateLimitExempt(r.path), r.path).toBe(true);
    }
    expect(isRateLimitExempt('/api/v1/supervision')).toBe(false);
  });
});
