// Typed requests from the gateway to the runtime, per the operation table of runtime/protocol.
import { isAuroraError } from '../runtime/errors.js';
import { callOperation, call } from '../runtime/rpc.js';
import type { AgentReplyOf, AgentRequestOf, ReplyOf, RequestOf, ServiceKey } from '../runtime/protocol/index.js';
import type { GatewayDeps } from './deps.js';
import { answerFromRecord } from './task-answer.js';
import { recoverTask } from './task-recovery.js';

export type { ReplyOf, RequestOf, ServiceKey } from '../runtime/protocol/index.js';

type ClientDeps = Pick<GatewayDeps, 'bus' | 'subjects' | 'config' | 'clock'>;

/** One control request; rejects with the runtime's AuroraError (or no_responders / bus_timeout). */
export function ask<K extends ServiceKey>(
  deps: Pick<GatewayDeps, 'bus' | 'subjects' | 'config'>,
  key: K,
  data: RequestOf<K>,
  timeoutMs: number = deps.config.busRequestTimeoutMs,
): Promise<ReplyOf<K>> {
  return callOperation(deps.bus, deps.subjects, key, data, timeoutMs);
}

const lostToDisconnect = (err: unknown): boolean => isAuroraError(err) && err.code === 'bus_disconnected';

/**
 * Runs one task on an agent; the bus waits for the task's own timeout plus the control margin.
 * An answer lost to a bus disconnect is read from the task's record once the bus is back.
 */
export async function runTask(deps: ClientDeps, request: AgentRequestOf<'task'>): Promise<AgentReplyOf<'task'>> {
  const timeoutMs = (request.parameters.timeout_ms ?? deps.config.taskTimeoutMs) + deps.config.busRequestTimeoutMs;
  const budgetEndsAt = deps.clock.monotonic() + timeoutMs;
  try {
    return await call<AgentReplyOf<'task'>>(deps.bus, deps.subjects.agent(request.agent, 'task'), request, timeoutMs);
  } catch (err) {
    if (!lostToDisconnect(err)) throw err;
    return answerFromRecord(await recoverTask(deps, request.task_id, 'wait', budgetEndsAt));
  }
}

/** Hands a task to its agent's mailbox; answers once it is accepted and stored, not when it ends. */
export async function submitTask(deps: ClientDeps, request: AgentRequestOf<'submit'>): Promise<AgentReplyOf<'submit'>> {
  try {
    return await call<AgentReplyOf<'submit'>>(deps.bus, deps.subjects.agent(request.agent, 'submit'), request, deps.config.busRequestTimeoutMs);
  } catch (err) {
    if (!lostToDisconnect(err)) throw err;
    const record = await recoverTask(deps, request.task_id, 'get', deps.clock.monotonic());
    // Accepted before the disconnect; the 202 says so, its progress is on the record.
    return { task_id: record.task_id, status: 'queued' };
  }
}
