// Cross-site writes while auth is off. A web page can make the visitor's browser send a "simple"
// request (a POST with a text/plain or form body) to http://127.0.0.1:8000 without any CORS
// preflight; CORS then only hides the answer from the page, after the task has run. With auth on,
// the page has no token to send and gets 401. With auth off (the default on loopback) this guard
// refuses, with 403, every state-changing request whose Origin is neither listed in CORS_ORIGINS
// nor the server's own (the docs' "Try it out" is same-origin), and every WebSocket upgrade likewise
// (WebSockets are not subject to CORS at all, and the stream's `execute` op runs tasks).
//
// Requests without Origin pass: browsers send it on every cross-origin request and every
// non-GET one, so its absence means a non-browser client (curl, SDKs), which CSRF is not about.
// Not covered: DNS rebinding (a hostile name resolving to 127.0.0.1 is same-origin to the browser).
import type { Cors } from './cors.js';
import type { Headers } from './http.js';

/** Methods that change state: refused cross-origin. GET and HEAD only read (and CORS hides their answers). */
const STATE_CHANGING: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export interface OriginGuard {
  /** The 403 detail when this request must be refused, else undefined. */
  refusal(method: string, headers: Headers): string | undefined;
  /** The same for a WebSocket upgrade (a GET that can lead to writes). */
  upgradeRefusal(headers: Headers): string | undefined;
}

/** True when `origin` (scheme://host[:port]) names the host the request was sent to. */
function isSameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined || host === '') return false;
  try {
    return new URL(origin).host === host.toLowerCase();
  } catch {
    return false; // "null" (sandboxed frames, file://) and anything malformed
  }
}

/** undefined when auth is on: tokens already stop cross-site requests. */
export function createOriginGuard(authEnabled: boolean, cors: Cors | undefined): OriginGuard | undefined {
  if (authEnabled) return undefined;
  const refused = (headers: Headers): string | undefined => {
    const origin = headers.origin;
    if (origin === undefined || cors?.allowsOrigin(origin) === true || isSameOrigin(origin, headers.host)) return undefined;
    return (
      `Cross-origin request refused: Origin ${JSON.stringify(origin.slice(0, 200))} is not in CORS_ORIGINS, ` +
      'and with AUTH_ENABLED=false only listed origins may change state'
    );
  };
  return {
    refusal: (method, headers) => (STATE_CHANGING.has(method) ? refused(headers) : undefined),
    upgradeRefusal: refused,
  };
}
