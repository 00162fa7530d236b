// The page's one API client (client/ — the same typed client the CLI and the tests use), rebuilt
// when the token changes. Every call goes through `api()`, which notes a 401 so the page can ask
// for a token.
import { computed } from '@preact/signals';
import { AuroraApiError, createAuroraClient, type AuroraClient } from '../../client/index.js';
import { browserSocket } from './browser-socket.js';
import { authProblem, authRequired, token } from './session.js';

const client = computed(() =>
  createAuroraClient({ url: location.origin, token: token.value === '' ? undefined : token.value, socket: browserSocket }),
);

export function currentClient(): AuroraClient {
  return client.value;
}

/** Runs `fn` with the current client; a 401 marks auth as required (and says why), then rethrows. */
export async function api<T>(fn: (c: AuroraClient) => Promise<T>): Promise<T> {
  try {
    return await fn(client.value);
  } catch (err) {
    if (err instanceof AuroraApiError && err.status === 401) {
      authRequired.value = true;
      authProblem.value = err.detail;
    }
    throw err;
  }
}

/** What to show for a failed call: the API's own `detail` when it gave one. */
export function describeError(err: unknown): string {
  if (err instanceof AuroraApiError) return err.detail;
  return err instanceof Error ? err.message : String(err);
}

export function isForbidden(err: unknown): boolean {
  return err instanceof AuroraApiError && (err.status === 403 || err.status === 401);
}
