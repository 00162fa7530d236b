// The request id every answer carries and every log line of the request names: the client's own
// when it is sane, else a fresh one. REST and the stream upgrade take it the same way.
import { newId } from '../runtime/ids.js';

export const REQUEST_ID_HEADER = 'x-request-id';
/** Short and unremarkable: the id is echoed into headers and logs, so nothing else is believed. */
const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

export function acceptRequestId(incoming: string | undefined): string {
  return incoming !== undefined && REQUEST_ID_PATTERN.test(incoming) ? incoming : newId();
}
