// Cursor pagination as every list route speaks it: `limit` and `cursor` in the query, and the next
// page announced in a `Link: <…&cursor=…>; rel="next"` header (RFC 8288) and an `X-Next-Cursor`
// header. Routes whose body is a plain array (the seed's contract) have only the headers to say
// it; page objects carry `next_cursor` as well. Cursors are opaque: the runtime decodes them and
// answers 400 naming `cursor` when one is not its own.
import { LIMITS } from '../../runtime/protocol/index.js';
import type { HandlerRequest } from '../http.js';
import { queryInt, queryString } from './params.js';

export const NEXT_CURSOR_HEADER = 'x-next-cursor';

export interface PageParams {
  limit: number;
  cursor?: string;
}

/** `limit` (1..LIMITS.listLimitMax, default `fallback`) and `cursor`, each refused with 400 naming it. */
export function pageParams(req: HandlerRequest, fallback: number = LIMITS.listLimitDefault): PageParams {
  const limit = queryInt(req, 'limit', { min: 1, max: LIMITS.listLimitMax, fallback });
  // A longer one is refused here, before it crosses the bus.
  const cursor = queryString(req, 'cursor', LIMITS.cursorMaxLength);
  return cursor === undefined ? { limit } : { limit, cursor };
}

/**
 * The headers announcing the next page: `path` with `query` and the cursor (an empty object on the
 * last page). `path` is the request's path, percent-encoded; the Link is relative to the server.
 */
export function nextPageHeaders(
  path: string,
  query: Readonly<Record<string, string>>,
  nextCursor: string | null,
): Record<string, string> {
  if (nextCursor === null) return {};
  const params = new URLSearchParams(query);
  params.set('cursor', nextCursor);
  return { link: `<${path}?${params.toString()}>; rel="next"`, [NEXT_CURSOR_HEADER]: nextCursor };
}
