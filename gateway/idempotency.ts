// Idempotency-Key on the routes that do work (execute, submit, batch, agent and workflow create,
// workflow runs, model pull): a retry with the same key and the same request gets the first
// request's answer, a running task is joined rather than run again, and the same key with a
// different request is refused (422).
//
// The key is claimed before the work (the node's idempotency service: Redis when configured, else
// SQLite) and the answer recorded after it. When the first request's fate is unknown (the bus
// timed out, nobody answered) the claim is left to expire, or, for a task, left pending so that a
// retry joins the task and reads its real outcome.
import { createHash } from 'node:crypto';
import { AuroraError, isErrorCode } from '../runtime/errors.js';
import { IDEMPOTENCY_KEY_PATTERN, type StoredResponse } from '../runtime/protocol/index.js';
import type { GatewayDeps } from './deps.js';
import type { HandlerRequest, HandlerResponse } from './http.js';
import { ask } from './service-client.js';

export const IDEMPOTENCY_HEADER = 'idempotency-key';
/** Set on an answer replayed from an earlier request with the same key. */
export const REPLAYED_HEADER = 'idempotent-replayed';
const KEY = new RegExp(IDEMPOTENCY_KEY_PATTERN, 'u');

/** Failures after which nobody knows whether the work was done: the key is not answered with them. */
const UNKNOWN_OUTCOME = new Set(['no_responders', 'bus_timeout', 'unavailable', 'bus_disconnected', 'internal']);
/**
 * Among those, the ones that say the request reached nobody (refused while the bus was down, no
 * node listening, a task not found once the bus was back): a retry must run it, not join it.
 */
const NOT_DONE = new Set(['no_responders', 'unavailable']);

export interface IdempotentOptions<B> {
  /** Names the operation in the key and the fingerprint, e.g. 'POST /api/v1/tasks/execute'. */
  readonly operation: string;
  /**
   * The request runs one task whose id is chosen before the claim (so a retry can join it); the
   * handler receives it. `join` answers a retry while that task still runs.
   */
  readonly task?: {
    join(taskId: string, req: HandlerRequest<B>, deps: GatewayDeps): Promise<HandlerResponse>;
    /** How long the first request may hold the key before it counts as abandoned. */
    pendingMs(req: HandlerRequest<B>, deps: GatewayDeps): number;
  };
}

export type IdempotentHandler<B> = (req: HandlerRequest<B>, deps: GatewayDeps, taskId: string | undefined) => Promise<HandlerResponse>;

export function idempotent<B>(
  options: IdempotentOptions<B>,
  newTaskId: () => string,
  handler: IdempotentHandler<B>,
): (req: HandlerRequest<B>, deps: GatewayDeps) => Promise<HandlerResponse> {
  return async (req, deps) => {
    const taskId = options.task !== undefined ? newTaskId() : undefined;
    const raw = req.headers[IDEMPOTENCY_HEADER];
    if (raw === undefined) return handler(req, deps, taskId);
    if (!KEY.test(raw)) {
      throw new AuroraError('invalid_request', `${IDEMPOTENCY_HEADER}: must be 1 to 255 visible ASCII characters without spaces`);
    }
    const key = `${req.subject ?? '-'} ${options.operation} ${raw}`;
    const fingerprint = fingerprintOf(options.operation, req);
    const pendingMs = options.task?.pendingMs(req, deps) ?? 2 * deps.config.busRequestTimeoutMs;
    const claimed = await ask(deps, 'idempotency.claim', {
      key,
      fingerprint,
      pending_ms: pendingMs,
      ...(taskId !== undefined && { task_id: taskId }),
    });
    switch (claimed.state) {
      case 'done':
        return replay(claimed.response);
      case 'pending':
        if (claimed.task_id !== undefined && options.task !== undefined) {
          const res = await options.task.join(claimed.task_id, req, deps);
          return { ...res, headers: { ...res.headers, [REPLAYED_HEADER]: 'true' } };
        }
        throw new AuroraError('idempotency_in_progress', 'The first request with this Idempotency-Key is still being answered; retry shortly', {
          headers: { 'retry-after': '1' },
        });
      case 'claimed':
        break;
    }
    let res: HandlerResponse;
    try {
      res = await handler(req, deps, taskId);
    } catch (err) {
      if (err instanceof AuroraError && !UNKNOWN_OUTCOME.has(err.code)) {
        await settle(deps, key, fingerprint, { status: err.status, body: JSON.stringify({ code: err.code, detail: err.message }), headers: {} });
      } else if (taskId === undefined || (err instanceof AuroraError && NOT_DONE.has(err.code))) {
        // Nothing will tell a retry what happened, or nothing happened: let it try again.
        await ask(deps, 'idempotency.release', { key }).catch(() => undefined);
      }
      throw err;
    }
    await settle(deps, key, fingerprint, { status: res.status, body: JSON.stringify(res.body), headers: { ...res.headers } });
    return res;
  };
}

/** Records the answer; a failure to record it does not change the answer the client gets now. */
async function settle(deps: GatewayDeps, key: string, fingerprint: string, response: StoredResponse): Promise<void> {
  try {
    await ask(deps, 'idempotency.settle', { key, fingerprint, response });
  } catch (err) {
    deps.logger.warn('idempotency key not recorded; a retry may run the request again', { err });
  }
}

function replay(response: StoredResponse): HandlerResponse {
  const body = JSON.parse(response.body) as unknown;
  // An error was recorded with its code, which is what decides its status when it is replayed.
  if (typeof body === 'object' && body !== null && 'code' in body && 'detail' in body && !isSuccess(response.status)) {
    const { code, detail } = body as { code: string; detail: string };
    throw new AuroraError(isErrorCode(code) ? code : 'internal', detail, { headers: { [REPLAYED_HEADER]: 'true' } });
  }
  return { status: response.status, body, headers: { ...response.headers, [REPLAYED_HEADER]: 'true' } };
}

function isSuccess(status: number): boolean {
  return Math.floor(status / 100) === 2;
}

/** What was asked, hashed: the operation, the path and query parameters, and the body (keys sorted). */
function fingerprintOf(operation: string, req: HandlerRequest<unknown>): string {
  const text = `${operation}\n${canonical(req.params)}\n${canonical(req.query)}\n${canonical(req.body ?? null)}`;
  return createHash('sha256').update(text).digest('base64url');
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
