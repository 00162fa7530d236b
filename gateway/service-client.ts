// Typed requests from the gateway to the runtime services, per ServiceProtocol. Subjects come
// from runtime/subjects.ts; this table only says which builder serves which protocol entry.
import type { ServiceProtocol } from '../actors/protocol.js';
import { call } from '../runtime/rpc.js';
import type { Subjects } from '../runtime/subjects.js';
import type { GatewayDeps } from './deps.js';

export type ServiceKey = Exclude<keyof ServiceProtocol, 'agent.task' | 'agent.cancel'>;
export type RequestOf<K extends keyof ServiceProtocol> = ServiceProtocol[K][0];
export type ReplyOf<K extends keyof ServiceProtocol> = ServiceProtocol[K][1];

const SERVICE_SUBJECTS = {
  'registry.create': (s) => s.registry('create'),
  'registry.get': (s) => s.registry('get'),
  'registry.list': (s) => s.registry('list'),
  'registry.delete': (s) => s.registry('delete'),
  'registry.restart': (s) => s.registry('restart'),
  'registry.fault': (s) => s.registry('fault'),
  'models.list': (s) => s.models('list'),
  'models.installed': (s) => s.models('installed'),
  'models.load': (s) => s.models('load'),
  'models.unload': (s) => s.models('unload'),
  'models.status': (s) => s.models('status'),
  'tasks.get': (s) => s.tasks('get'),
  'tasks.list': (s) => s.tasks('list'),
  'tasks.cancel': (s) => s.tasks('cancel'),
  'health.check': (s) => s.health(),
} as const satisfies Record<ServiceKey, (s: Subjects) => string>;

type ClientDeps = Pick<GatewayDeps, 'bus' | 'subjects' | 'config'>;

/** One control request; rejects with the runtime's AuroraError (or no_responders / bus_timeout). */
export function ask<K extends ServiceKey>(
  deps: ClientDeps,
  key: K,
  data: RequestOf<K>,
  timeoutMs: number = deps.config.busRequestTimeoutMs,
): Promise<ReplyOf<K>> {
  return call<ReplyOf<K>>(deps.bus, SERVICE_SUBJECTS[key](deps.subjects), data, timeoutMs);
}

/** Runs one task on an agent; the bus waits for the task's own timeout plus the control margin. */
export function runTask(deps: ClientDeps, request: RequestOf<'agent.task'>): Promise<ReplyOf<'agent.task'>> {
  const timeoutMs = (request.parameters.timeout_ms ?? deps.config.taskTimeoutMs) + deps.config.busRequestTimeoutMs;
  return call<ReplyOf<'agent.task'>>(deps.bus, deps.subjects.agentTask(request.agent), request, timeoutMs);
}
