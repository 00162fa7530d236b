// The dashboard's static files: dist/ui, written by `npm run build` (dashboard/build.mjs). Read
// once at start into memory, like the API docs (gateway/docs-site.ts): a request names a file by
// its public name and never reaches the file system. Asset names carry their content hash, so
// they are cached forever; index.html names the current ones and is revalidated every time.
//
// The CSP allows nothing the dashboard does not load from this server: its one script and one
// stylesheet, its own API over fetch and the WebSocket stream. No inline script or style.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StaticResponse } from './docs-site.js';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

export const UI_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  // 'self' covers ws: and wss: to the same host in current browsers (CSP Level 3).
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const FOREVER = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';

export interface UiSite {
  readonly index: StaticResponse;
  asset(name: string): StaticResponse | undefined;
}

/** dist/ui beside dist/gateway (the built server), or under dist/ when running from the sources. */
function defaultDirs(): string[] {
  const here = path.dirname(fileURLToPath(import.meta.url));
  return [path.join(here, '..', 'ui'), path.join(here, '..', 'dist', 'ui')];
}

/** The built dashboard, or undefined when it was not built (the server runs without it). */
export function loadUiSite(dirs: readonly string[] = defaultDirs()): UiSite | undefined {
  const dir = dirs.find((d) => {
    try {
      return readdirSync(d).includes('index.html');
    } catch {
      return false;
    }
  });
  if (dir === undefined) return undefined;
  const assets = new Map<string, StaticResponse>();
  const assetDir = path.join(dir, 'assets');
  for (const name of readdirSync(assetDir)) {
    const type = CONTENT_TYPES[path.extname(name)];
    if (type === undefined) continue;
    assets.set(name, {
      body: readFileSync(path.join(assetDir, name)),
      headers: { 'content-type': type, 'cache-control': FOREVER, 'x-content-type-options': 'nosniff' },
    });
  }
  return {
    index: {
      body: readFileSync(path.join(dir, 'index.html'), 'utf8'),
      headers: {
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': UI_CSP,
        'cache-control': REVALIDATE,
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
      },
    },
    // Map lookup by the decoded segment: '../x' or 'a/b' are simply unknown names.
    asset: (name) => assets.get(name),
  };
}
