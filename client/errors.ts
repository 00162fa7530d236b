// What a call to Aurora can end with besides its answer: the API said no (an HTTP error status, or
// a task that ended with an error code), or the server could not be reached at all.
import { ERROR_CODES, isErrorCode } from '../runtime/errors.js';

/** Aurora answered with an error: `status` is the HTTP status (or its error code's), `detail` its `{"detail"}`. */
export class AuroraApiError extends Error {
  override readonly name = 'AuroraApiError';
  constructor(
    readonly status: number,
    readonly detail: string,
    /** The error code, when the answer names one (stream errors and failed pulls do; REST answers do not). */
    readonly code?: string,
  ) {
    super(`${status}${code === undefined ? '' : ` ${code}`}: ${detail}`);
  }

  /** From an error code of runtime/errors.ts (a task.error message, a failed pull); unknown codes read as 500. */
  static fromCode(code: string, detail: string): AuroraApiError {
    return new AuroraApiError(isErrorCode(code) ? ERROR_CODES[code].status : 500, detail, code);
  }
}

/** Nothing answered at `url` (refused, reset, DNS, TLS), or the stream closed before its answer. */
export class AuroraConnectionError extends Error {
  override readonly name = 'AuroraConnectionError';
  constructor(
    readonly url: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
