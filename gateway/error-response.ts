// How an error becomes an HTTP answer. Its status is always the row of its code in the one error
// table (runtime/errors.ts), which the OpenAPI document reads too, so what is documented and what
// is sent cannot drift; test/unit/error-table.test.ts keeps status numbers out of gateway/.
import { ERROR_CODES, type ErrorCode } from '../runtime/errors.js';
import type { Headers, OutgoingResponse } from './http.js';
import { REQUEST_ID_HEADER } from './request-id.js';
import { SECURITY_HEADERS } from './security-headers.js';

/** A status some row of the error table answers with. */
export type ErrorStatus = (typeof ERROR_CODES)[ErrorCode]['status'];

export function statusOf(code: ErrorCode): ErrorStatus {
  return ERROR_CODES[code].status;
}

/** From 500 Internal Server Error up, the failure is the server's rather than the client's. */
const FIRST_SERVER_ERROR = ERROR_CODES.internal.status;

export function isServerError(status: number): boolean {
  return status >= FIRST_SERVER_ERROR;
}

/**
 * Seconds a client should wait before retrying, by status. The request pipeline adds it to every
 * answer with that status that does not name its own (readiness's 503 included).
 */
export const RETRY_AFTER_SECONDS: Readonly<Record<number, number>> = {
  [ERROR_CODES.rate_limited.status]: 1,
  [ERROR_CODES.unavailable.status]: 5,
};

/**
 * An error answered outside the request pipeline (a refused stream upgrade, the adapter's last
 * resort): the security headers and the request id every answer carries, `headers` (a denial's
 * challenge) before the id; none of the pipeline's CORS, Retry-After or metrics.
 */
export function standaloneErrorResponse(status: ErrorStatus, detail: string, requestId: string, headers: Headers = {}): OutgoingResponse {
  return {
    status,
    headers: { 'content-type': 'application/json', ...SECURITY_HEADERS, ...headers, [REQUEST_ID_HEADER]: requestId },
    body: JSON.stringify({ detail }),
  };
}
