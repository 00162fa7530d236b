// The API docs over real sockets: /openapi.json, Swagger UI and ReDoc pages that load only files
// this server answers (no CDN, no fonts from elsewhere), a CSP that admits exactly those, the
// asset whitelist (anything else is 404, traversal included), HEAD, caching, and DOCS_ENABLED.
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOpenApiDocument, openApiPath } from '../../gateway/openapi.js';
import { API_ROUTES } from '../../gateway/routes/index.js';
import { startGateway, type Gateway } from '../../gateway/server.js';
import type { Bus } from '../../runtime/bus/bus.js';
import { createMemoryBus } from '../../runtime/bus/memory.js';
import { createMemoryCache } from '../../runtime/cache/memory.js';
import { systemClock } from '../../runtime/clock.js';
import { loadConfig, type Config } from '../../runtime/config.js';
import { createLogger } from '../../runtime/logger.js';
import { createMetrics } from '../../runtime/metrics.js';
import { createSubjects } from '../../runtime/subjects.js';
import { uniqueNamespace } from '../helpers/services.js';
import { TEST_KINDS } from '../helpers/kinds.js';

const VERSION = '9.8.7-docs';
const require = createRequire(import.meta.url);
const packageDir = (pkg: string) => path.dirname(require.resolve(`${pkg}/package.json`));

const CONTENT_TYPE_BY_EXTENSION: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
};

/** Where each npm-provided asset comes from, to compare bytes served with bytes installed. */
const FROM_PACKAGES: Readonly<Record<string, string>> = {
  'swagger-ui.css': path.join(packageDir('swagger-ui-dist'), 'swagger-ui.css'),
  'swagger-ui-bundle.js': path.join(packageDir('swagger-ui-dist'), 'swagger-ui-bundle.js'),
  'swagger-ui-standalone-preset.js': path.join(packageDir('swagger-ui-dist'), 'swagger-ui-standalone-preset.js'),
  'favicon-32x32.png': path.join(packageDir('swagger-ui-dist'), 'favicon-32x32.png'),
  'favicon-16x16.png': path.join(packageDir('swagger-ui-dist'), 'favicon-16x16.png'),
  'redoc.standalone.js': path.join(packageDir('redoc'), 'bundles', 'redoc.standalone.js'),
};

const bus: Bus = createMemoryBus();
const gateways: Gateway[] = [];
let base: string;
let disabledBase: string;

async function start(overrides: Partial<Config>): Promise<string> {
  const gateway = await startGateway({
    host: '127.0.0.1',
    port: 0,
    bus,
    subjects: createSubjects(uniqueNamespace('docs')),
    config: loadConfig({ env: {}, overrides }),
    kinds: TEST_KINDS,
    metrics: createMetrics({ defaultMetrics: false }),
    logger: createLogger('silent'),
    cache: createMemoryCache(),
    clock: systemClock,
    startedAt: Date.now(),
    version: VERSION,
  });
  gateways.push(gateway);
  return `http://127.0.0.1:${gateway.port}`;
}

beforeAll(async () => {
  base = await start({});
  disabledBase = await start({ docsEnabled: false });
});

afterAll(async () => {
  for (const g of gateways) await g.close();
  await bus.drain();
});

/** A request whose path is sent exactly as written (fetch would resolve '..' segments first). */
function rawGet(url: string, rawPath: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, path: rawPath, method: 'GET' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Every URL a page makes the browser load: script src, link href (stylesheets and icons). */
function loadedUrls(html: string): string[] {
  const scripts = [...html.matchAll(/<script\b[^>]*\bsrc="([^"]*)"/g)].map((m) => m[1]!);
  const links = [...html.matchAll(/<link\b[^>]*\bhref="([^"]*)"/g)].map((m) => m[1]!);
  return [...scripts, ...links].map((u) => u.replaceAll('&amp;', '&'));
}

function cspDirectives(header: string | null): Map<string, string[]> {
  expect(header).toBeTruthy();
  const out = new Map<string, string[]>();
  for (const part of header!.split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name) out.set(name, sources);
  }
  return out;
}

describe('GET /openapi.json', () => {
  it('answers the document built from the route table, as JSON', async () => {
    const res = await fetch(`${base}/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const doc = (await res.json()) as ReturnType<typeof buildOpenApiDocument>;
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.version).toBe(VERSION);
    const config = loadConfig({ env: {} });
    const expected = buildOpenApiDocument({ version: VERSION, routes: API_ROUTES, access: config, rateLimited: () => false, kinds: TEST_KINDS });
    expect(doc).toEqual(JSON.parse(JSON.stringify(expected)));
    for (const r of API_ROUTES) expect(doc.paths[openApiPath(r.path)]?.[r.method.toLowerCase() as 'get']).toBeDefined();
  });
});

describe.each([
  ['/docs', 'swagger-ui'],
  ['/redoc', 'redoc'],
])('%s', (pagePath, mount) => {
  let html: string;
  let res: Response;

  beforeAll(async () => {
    res = await fetch(base + pagePath);
    html = await res.text();
  });

  it('is an HTML page that mounts the viewer', () => {
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).toContain(`<div id="${mount}"></div>`);
  });

  it('names no http:// or https:// URL at all', () => {
    expect(html).not.toMatch(/https?:\/\//i);
    expect(html).not.toMatch(/\/\/fonts\.|googleapis|cdn/i);
  });

  it('loads only local files, and each answers 200 with its content type and the installed bytes', async () => {
    const urls = loadedUrls(html);
    expect(urls.length).toBeGreaterThanOrEqual(pagePath === '/docs' ? 6 : 4);
    for (const url of urls) {
      expect(url, 'a path on this server').toMatch(/^\/[^/]/);
      const asset = await fetch(base + url);
      expect(asset.status, url).toBe(200);
      const name = new URL(url, base).pathname.split('/').pop()!;
      expect(asset.headers.get('content-type'), url).toBe(CONTENT_TYPE_BY_EXTENSION[path.extname(name)]);
      expect(asset.headers.get('cache-control'), url).toBe('public, max-age=31536000, immutable');
      const bytes = Buffer.from(await asset.arrayBuffer());
      expect(bytes.length, url).toBeGreaterThan(0);
      const installed = FROM_PACKAGES[name];
      if (installed !== undefined) expect(bytes.equals(readFileSync(installed)), `${url} is the installed file`).toBe(true);
    }
  });

  it('runs no inline script: every <script> has a src, no event-handler attributes', () => {
    const scripts = html.match(/<script\b/g) ?? [];
    const withSrc = html.match(/<script\b[^>]*\bsrc="/g) ?? [];
    expect(withSrc.length).toBe(scripts.length);
    expect(html).not.toMatch(/<script\b[^>]*>[^<\s]/);
    expect(html).not.toMatch(/\son[a-z]+\s*=/i);
  });

  it('sets a CSP admitting its own origin only: no inline or eval scripts, no remote hosts', () => {
    const csp = res.headers.get('content-security-policy');
    const d = cspDirectives(csp);
    expect(d.get('default-src')).toEqual(["'none'"]);
    expect(d.get('script-src')).toEqual(["'self'"]);
    expect(d.get('connect-src')).toEqual(["'self'"]);
    expect(d.get('font-src')).toEqual(["'self'"]);
    expect(d.get('frame-ancestors')).toEqual(["'none'"]);
    expect(csp).not.toMatch(/https?:|\*/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });
});

describe('documentation assets', () => {
  it('answers only whitelisted names: anything else, traversal included, is 404 {"detail"}', async () => {
    const refused = [
      '/docs/assets/index.html', // in swagger-ui-dist, but not on the list
      '/docs/assets/swagger-ui-bundle.js.map',
      '/docs/assets/package.json',
      '/docs/assets/..%2Fpackage.json',
      '/docs/assets/%2e%2e%2f%2e%2e%2fpackage.json',
      '/docs/assets/..%5C..%5Cpackage.json',
      '/docs/assets/__proto__',
      '/docs/assets/constructor',
      '/docs/assets/SWAGGER-UI.CSS',
      '/docs/assets/swagger-ui.css%00.png',
    ];
    for (const p of refused) {
      const res = await fetch(base + p);
      expect(res.status, p).toBe(404);
      expect(res.headers.get('content-type'), p).toBe('application/json');
      expect(Object.keys((await res.json()) as object), p).toEqual(['detail']);
    }
    for (const p of ['/docs/assets/../../package.json', '/docs/assets/./../assets/../../../etc/passwd']) {
      const res = await rawGet(base, p);
      expect(res.status, p).toBe(404);
      expect(res.body, p).not.toContain('"name"');
    }
  });

  it('answers HEAD with the headers and no body: the next response on the connection follows at once', async () => {
    const size = readFileSync(FROM_PACKAGES['swagger-ui.css']!).length;
    const raw = await new Promise<string>((resolve, reject) => {
      const { port } = new URL(base);
      const socket = connect(Number(port), '127.0.0.1', () =>
        socket.write('HEAD /docs/assets/swagger-ui.css HTTP/1.1\r\nHost: x\r\n\r\nGET /health/live HTTP/1.1\r\nHost: x\r\n\r\n'),
      );
      let text = '';
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString('latin1');
        if (text.includes('"alive"')) socket.end();
      });
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    const [head, afterHead] = [raw.slice(0, raw.indexOf('\r\n\r\n')), raw.slice(raw.indexOf('\r\n\r\n') + 4)];
    expect(head).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(head).toMatch(/\r\ncontent-type: text\/css; charset=utf-8\r\n/i);
    expect(head).toMatch(new RegExp(`\\r\\ncontent-length: ${size}\\r\\n`, 'i'));
    expect(afterHead).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
  });

  it('lets a URL without the current version be cached only with a check', async () => {
    for (const p of ['/docs/assets/redoc-init.js', '/docs/assets/redoc-init.js?v=stale']) {
      const res = await fetch(base + p);
      expect(res.status, p).toBe(200);
      expect(res.headers.get('cache-control'), p).toBe('no-cache');
    }
  });

  it('answers a write method on a docs path with 405', async () => {
    const res = await fetch(`${base}/docs/assets/swagger-ui.css`, { method: 'POST' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET');
  });
});

describe('DOCS_ENABLED=false', () => {
  it('answers 404 on every docs path and leaves the API alone', async () => {
    for (const p of ['/openapi.json', '/docs', '/redoc', '/docs/assets/swagger-ui.css']) {
      const res = await fetch(disabledBase + p);
      expect(res.status, p).toBe(404);
      expect(((await res.json()) as { detail: string }).detail).toMatch(/DOCS_ENABLED/);
    }
    expect((await fetch(`${disabledBase}/health/live`)).status).toBe(200);
  });
});
