// CORS for browser clients on other origins, from CORS_ORIGINS.
//
// A request from an origin that is not listed gets no CORS headers at all (its preflight falls
// through to the router, which answers OPTIONS with 405), and the browser refuses to hand the
// response to the page. That protects what the page could read, not what the request does: a
// "simple" cross-site POST reaches the server without a preflight. With auth off nothing else
// stops it, so gateway/origin-guard.ts refuses such writes using allowsOrigin() below.
//
// No Access-Control-Allow-Credentials: Aurora authenticates with bearer tokens the page sends
// explicitly, never with cookies, so credentialed requests are never needed. That is also what
// makes answering `*` safe when CORS_ORIGINS is `*`.
import type { Headers } from './http.js';

/** How long a browser may reuse a preflight answer. Chromium caps it at 7200. */
export const CORS_MAX_AGE_SECONDS = 600;
/** Request headers a page may send: Authorization is never covered by a wildcard, so it is named. */
export const CORS_ALLOWED_HEADERS = 'Authorization, Content-Type, X-Request-Id';
/** Response headers a page may read beyond the CORS-safelisted ones. */
export const CORS_EXPOSED_HEADERS =
  'X-Request-Id, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, Retry-After, WWW-Authenticate, Link, X-Next-Cursor';

export interface Cors {
  /** True when `origin` is listed in CORS_ORIGINS (or CORS_ORIGINS is `*`). */
  allowsOrigin(origin: string | undefined): boolean;
  /** Headers for a response to a request carrying `origin` (undefined: no Origin header). */
  responseHeaders(origin: string | undefined): Record<string, string>;
  /** True for a CORS preflight from an allowed origin: OPTIONS with Origin and Access-Control-Request-Method. */
  isAllowedPreflight(method: string, headers: Headers): boolean;
  /** Headers of the 204 answering an allowed preflight for a path that serves `allowMethods`. */
  preflightHeaders(origin: string, allowMethods: readonly string[]): Record<string, string>;
}

/** undefined when no origin is configured: then no response carries any CORS header. */
export function createCors(origins: readonly string[]): Cors | undefined {
  if (origins.length === 0) return undefined;
  const anyOrigin = origins.includes('*');
  const listed = new Set(origins);
  const allows = (origin: string | undefined): origin is string =>
    origin !== undefined && origin !== '' && (anyOrigin || listed.has(origin));
  // Even a refused origin's response depends on Origin, so caches must key on it.
  const vary = { vary: 'Origin' };

  return {
    allowsOrigin: allows,
    responseHeaders(origin) {
      if (!allows(origin)) return { ...vary };
      return {
        ...vary,
        'access-control-allow-origin': anyOrigin ? '*' : origin,
        'access-control-expose-headers': CORS_EXPOSED_HEADERS,
      };
    },
    isAllowedPreflight(method, headers) {
      return method === 'OPTIONS' && allows(headers.origin) && headers['access-control-request-method'] !== undefined;
    },
    preflightHeaders(origin, allowMethods) {
      return {
        ...vary,
        'access-control-allow-origin': anyOrigin ? '*' : origin,
        'access-control-allow-methods': allowMethods.join(', '),
        'access-control-allow-headers': CORS_ALLOWED_HEADERS,
        'access-control-max-age': String(CORS_MAX_AGE_SECONDS),
      };
    },
  };
}
