// Typed requests from the gateway to the runtime, per the operation table of runtime/protocol.
import { callOperation, call } from '../runtime/rpc.js';
import type { AgentReplyOf, AgentRequestOf, ReplyOf, RequestOf, ServiceKey } from '../runtime/protocol/index.js';
import type { GatewayDeps } from './deps.js';

export type { ReplyOf, RequestOf, ServiceKey } from '../runtime/protocol/index.js';

type ClientDeps = Pick<GatewayDeps, 'bus' | 'subjects' | 'config'>;

/** One control request; rejects with the runtime's AuroraError (or no_responders / bus_timeout). */
export function ask<K extends ServiceKey>(
  deps: ClientDeps,
  key: K,
  data: RequestOf<K>,
  timeoutMs: number = deps.config.busRequestTimeoutMs,
): Promise<ReplyOf<K>> {
  return callOperation(deps.bus, deps.subjects, key, data, timeoutMs);
}

/** Runs one task on an agent; the bus waits for the task's own timeout plus the control margin. */
export function runTask(deps: ClientDeps, request: AgentRequestOf<'task'>): Promise<AgentReplyOf<'task'>> {
  const timeoutMs = (request.parameters.timeout_ms ?? deps.config.taskTimeoutMs) + deps.config.busRequestTimeoutMs;
  return call<AgentReplyOf<'task'>>(deps.bus, deps.subjects.agent(request.agent, 'task'), request, timeoutMs);
}

/** Hands a task to its agent's mailbox; answers once it is accepted and stored, not when it ends. */
export function submitTask(deps: ClientDeps, request: AgentRequestOf<'submit'>): Promise<AgentReplyOf<'submit'>> {
  return call<AgentReplyOf<'submit'>>(deps.bus, deps.subjects.agent(request.agent, 'submit'), request, deps.config.busRequestTimeoutMs);
}
