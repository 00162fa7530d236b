// The shapes a pure handler sees and returns. Nothing here knows about sockets.
import type { GatewayDeps } from './deps.js';
import type { ResponseSchemaName } from './schemas.js';
import type { ResponseStream } from './sse.js';

export type Headers = Readonly<Record<string, string>>;

export interface HandlerRequest<B = unknown> {
  /** Path parameters, percent-decoded. */
  readonly params: Readonly<Record<string, string>>;
  /** Query parameters, decoded; a key given twice is refused with 400 before any handler runs. */
  readonly query: Readonly<Record<string, string>>;
  /** The validated body (defaults filled in), or undefined for routes without one. */
  readonly body: B;
  /** Request headers, keys lower-case. */
  readonly headers: Headers;
  /** The token's subject when auth is on; null when it is off. */
  readonly subject?: string | null;
}

export interface HandlerResponse {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Headers;
  /**
   * The branch of the route's declared union the body follows (GET /api/v1/agents/ answers an
   * array or a page): serialising with it spares checking the body against every branch.
   */
  readonly schema?: ResponseSchemaName;
  /** A body written over time (Server-Sent Events) instead of `body`; the route's schema is not applied. */
  readonly stream?: ResponseStream;
}

/** Expected failures are thrown as AuroraError; the dispatcher turns them into `{"detail": ...}`. */
export type Handler<B = unknown> = (req: HandlerRequest<B>, deps: GatewayDeps) => Promise<HandlerResponse>;

/** Methods a route may declare. */
export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];
/** Methods that label metrics as themselves; any other is counted as OTHER. */
export const METRIC_METHODS: readonly string[] = [...HTTP_METHODS, 'HEAD', 'OPTIONS'];

/** What the socket adapter hands to the dispatcher, copied out of uWS before any await. */
export interface IncomingRequest {
  /** Upper-case. */
  readonly method: string;
  /** Path only, still percent-encoded. */
  readonly url: string;
  /** Raw query string without '?'. */
  readonly query: string;
  /** Keys lower-case. */
  readonly headers: Headers;
  /** The socket peer's address as uWS reports it; absent when no socket is involved (tests). */
  readonly remoteAddress?: string;
}

/** A response ready for the wire. */
export interface OutgoingResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
  /** A body sent as these exact bytes instead of `body` (which is then ''): files such as icons. */
  readonly bytes?: Uint8Array;
  /** Written after the head instead of a body, until it ends (Server-Sent Events). */
  readonly stream?: ResponseStream;
}
