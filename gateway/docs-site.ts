// The offline API documentation: /openapi.json, Swagger UI at /docs and ReDoc at /redoc, served
// entirely from npm packages installed with Aurora (swagger-ui-dist, redoc), because Aurora is
// often run on machines without internet. Nothing is fetched from a CDN and nothing is read from
// disk per request: the few files the pages need are read once per process into memory, and a
// request names one of them by a fixed public name, so no request path ever reaches the file
// system (no traversal to guard against).
//
// The pages load scripts only from this server (CSP `script-src 'self'`): each page's start-up
// code is a small local file rather than an inline script, and neither viewer needs eval (a manual
// check rendered both pages in jsdom with eval and Function throwing). Styles allow 'unsafe-inline'
// because ReDoc (styled-components) and Swagger UI (React) set styles at run time; both draw icons
// from data: images in their CSS; ReDoc's search runs in a Worker made from a blob: URL.
// Fonts: ReDoc's theme names Montserrat and Roboto, which its usual page template loads from
// Google; Aurora's pages load no fonts (font-src 'self', none served) and set system fonts.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ASSET_PREFIX, ASSET_VERSION_PARAM, OPENAPI_PATH } from './docs-paths.js';
import type { Headers } from './http.js';
import { buildOpenApiDocument, type OpenApiDocument, type OpenApiOptions } from './openapi.js';

const CONTENT_TYPES = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
} as const;

/** Files taken from npm packages: public name → [package, path inside it]. The whole whitelist. */
const PACKAGE_FILES = {
  'swagger-ui.css': ['swagger-ui-dist', 'swagger-ui.css'],
  'swagger-ui-bundle.js': ['swagger-ui-dist', 'swagger-ui-bundle.js'],
  'swagger-ui-standalone-preset.js': ['swagger-ui-dist', 'swagger-ui-standalone-preset.js'],
  'favicon-32x32.png': ['swagger-ui-dist', 'favicon-32x32.png'],
  'favicon-16x16.png': ['swagger-ui-dist', 'favicon-16x16.png'],
  'redoc.standalone.js': ['redoc', 'bundles/redoc.standalone.js'],
} as const;

const SYSTEM_FONTS = "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif";
const MONO_FONTS = "ui-monospace, SFMono-Regular, Menlo, Consolas, 'Liberation Mono', monospace";

/** Files Aurora writes itself: each page's start-up code and the shared page style. */
const OWN_FILES = {
  'swagger-init.js': `'use strict';
window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '${OPENAPI_PATH}',
    dom_id: '#swagger-ui',
    deepLinking: true,
    // The default sends the document to an online validator; Aurora's docs stay offline.
    validatorUrl: null,
    // Never load a document named in the page's URL (?url=...): only this server's own.
    queryConfigEnabled: false,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: 'StandaloneLayout',
  });
});
`,
  'redoc-init.js': `'use strict';
Redoc.init(
  '${OPENAPI_PATH}',
  {
    theme: {
      typography: {
        fontFamily: "${SYSTEM_FONTS}",
        headings: { fontFamily: "${SYSTEM_FONTS}" },
        code: { fontFamily: "${MONO_FONTS}" },
      },
    },
  },
  document.getElementById('redoc'),
);
`,
  'docs.css': `body { margin: 0; padding: 0; font-family: ${SYSTEM_FONTS}; }
`,
} as const;

export type AssetName = keyof typeof PACKAGE_FILES | keyof typeof OWN_FILES;

export interface Asset {
  readonly bytes: Uint8Array;
  readonly contentType: string;
  /** Content hash, used as the asset's version in the URLs the pages use. */
  readonly hash: string;
}

function contentTypeOf(name: string): string {
  const type = CONTENT_TYPES[path.extname(name) as keyof typeof CONTENT_TYPES];
  if (type === undefined) throw new Error(`No content type for documentation asset ${name}`);
  return type;
}

function toAsset(name: string, bytes: Uint8Array): Asset {
  const hash = createHash('sha256').update(bytes).digest('base64url').slice(0, 16);
  return { bytes, contentType: contentTypeOf(name), hash };
}

let loaded: ReadonlyMap<string, Asset> | undefined;

/**
 * Reads the whitelisted files once per process (a few MB, shared by every gateway in it). Throws
 * naming the file when a package is missing, so a broken install fails at start, not on a click.
 */
export function loadDocsAssets(): ReadonlyMap<string, Asset> {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  const assets = new Map<string, Asset>();
  for (const [name, [pkg, file]] of Object.entries(PACKAGE_FILES)) {
    const dir = path.dirname(require.resolve(`${pkg}/package.json`));
    const full = path.join(dir, file);
    let bytes: Buffer;
    try {
      bytes = readFileSync(full);
    } catch (err) {
      throw new Error(`API docs: cannot read ${full} (is the ${pkg} package installed?)`, { cause: err });
    }
    assets.set(name, toAsset(name, bytes));
  }
  for (const [name, text] of Object.entries(OWN_FILES)) assets.set(name, toAsset(name, Buffer.from(text, 'utf8')));
  loaded = assets;
  return assets;
}

/** Everything a page may load, and nothing else. */
const BASE_CSP = {
  'default-src': ["'none'"],
  'script-src': ["'self'"],
  'style-src': ["'self'", "'unsafe-inline'"],
  'img-src': ["'self'", 'data:'],
  'font-src': ["'self'"],
  'connect-src': ["'self'"],
  'base-uri': ["'none'"],
  'form-action': ["'none'"],
  'frame-ancestors': ["'none'"],
} as const;

function csp(extra: Readonly<Record<string, readonly string[]>> = {}): string {
  return Object.entries({ ...BASE_CSP, ...extra })
    .map(([directive, sources]) => `${directive} ${sources.join(' ')}`)
    .join('; ');
}

export const SWAGGER_CSP = csp();
/** ReDoc's search index runs in a Worker created from a blob: URL. */
export const REDOC_CSP = csp({ 'worker-src': ["'self'", 'blob:'] });

export interface StaticResponse {
  readonly body: string | Uint8Array;
  readonly headers: Headers;
}

export interface DocsSite {
  readonly document: OpenApiDocument;
  readonly openApi: StaticResponse;
  readonly swaggerPage: StaticResponse;
  readonly redocPage: StaticResponse;
  /** A whitelisted asset, or undefined. `version` is the query's `v`: when current, cacheable forever. */
  asset(name: string, version: string | undefined): StaticResponse | undefined;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function assetUrl(assets: ReadonlyMap<string, Asset>, name: AssetName): string {
  const asset = assets.get(name);
  if (!asset) throw new Error(`Documentation asset ${name} is not loaded`);
  return `${ASSET_PREFIX}${name}?${ASSET_VERSION_PARAM}=${asset.hash}`;
}

function page(title: string, head: readonly string[], body: readonly string[]): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    ...head,
    '</head>',
    '<body>',
    ...body,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

const REVALIDATE = 'no-cache';
const FOREVER = 'public, max-age=31536000, immutable';

function htmlResponse(html: string, policy: string): StaticResponse {
  return {
    body: html,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': policy,
      'cache-control': REVALIDATE,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    },
  };
}

export type DocsSiteOptions = OpenApiOptions;

/** Builds the document and both pages once; the result only hands out what it holds. */
export function createDocsSite(options: DocsSiteOptions): DocsSite {
  const assets = loadDocsAssets();
  const document = buildOpenApiDocument(options);
  const title = `Aurora ${options.version} API`;
  const url = (name: AssetName) => escapeHtml(assetUrl(assets, name));
  const icons = [
    `<link rel="icon" type="image/png" sizes="32x32" href="${url('favicon-32x32.png')}">`,
    `<link rel="icon" type="image/png" sizes="16x16" href="${url('favicon-16x16.png')}">`,
  ];

  const swaggerHtml = page(
    title,
    [`<link rel="stylesheet" href="${url('docs.css')}">`, `<link rel="stylesheet" href="${url('swagger-ui.css')}">`, ...icons],
    [
      '<div id="swagger-ui"></div>',
      `<script src="${url('swagger-ui-bundle.js')}"></script>`,
      `<script src="${url('swagger-ui-standalone-preset.js')}"></script>`,
      `<script src="${url('swagger-init.js')}"></script>`,
    ],
  );
  const redocHtml = page(
    title,
    [`<link rel="stylesheet" href="${url('docs.css')}">`, ...icons],
    ['<div id="redoc"></div>', `<script src="${url('redoc.standalone.js')}"></script>`, `<script src="${url('redoc-init.js')}"></script>`],
  );

  const openApi: StaticResponse = {
    body: JSON.stringify(document),
    headers: { 'content-type': 'application/json', 'cache-control': REVALIDATE },
  };

  return {
    document,
    openApi,
    swaggerPage: htmlResponse(swaggerHtml, SWAGGER_CSP),
    redocPage: htmlResponse(redocHtml, REDOC_CSP),
    asset(name, version) {
      // Map lookup by the decoded segment: '../x', '%2e%2e' or 'a/b' are simply unknown names.
      const asset = assets.get(name);
      if (!asset) return undefined;
      return {
        body: asset.bytes,
        headers: {
          'content-type': asset.contentType,
          // Only the URL naming the current content may be kept forever; any other is rechecked.
          'cache-control': version === asset.hash ? FOREVER : REVALIDATE,
          'x-content-type-options': 'nosniff',
        },
      };
    },
  };
}
