// What a supervisor is told to be: its policy, static children, restart budget and time bounds on
// its children, and the check that turns a spec into settings it can run with (or a descriptive
// error); and the states it goes through.
import { assertValidPolicy, type SupervisorPolicy } from '../strategy.js';
import type { ChildSpec } from './child-spec.js';

export const SUPERVISOR_STATES = ['idle', 'running', 'stopping', 'stopped', 'failed'] as const;
export type SupervisorState = (typeof SUPERVISOR_STATES)[number];

/**
 * shared: one intensity window for the whole supervisor (OTP); spending it escalates.
 * per_child: each child has its own window; spending it fails only that child.
 *
 * Per-child restart budgets (`budget: 'per_child'`, for the agents supervisor). Why: agents are
 * independent and created by users; with one shared intensity window a single crash-looping agent
 * would spend the budget of every other agent and, on escalation, take all of them (and the agents
 * supervisor) down. OTP would give each agent its own supervisor (a one-child one_for_one
 * supervisor under a simple_one_for_one); here each child simply carries its own window, which has
 * the same effect without an extra process per agent: when an agent spends its budget, that
 * notional per-agent supervisor "escalates" — the agent alone becomes 'failed' (still listed and
 * queryable, never silently dropped), a 'failed' event is emitted and
 * aurora_supervisor_escalations_total{supervisor="<supervisor>/<agent>"} is incremented — and the
 * agents supervisor keeps running. restartChild(id) revives the agent with a fresh budget.
 */
export const RESTART_BUDGETS = ['shared', 'per_child'] as const;
export type RestartBudget = (typeof RESTART_BUDGETS)[number];

export interface SupervisorSpec {
  readonly id: string;
  readonly policy: SupervisorPolicy;
  /** Static children, started in this order by start(). */
  readonly children?: readonly ChildSpec[];
  /** Default 'shared'. 'per_child' requires strategy one_for_one. */
  readonly budget?: RestartBudget;
  /** Longest an asynchronous child start() may take before it counts as a crash. Default 30 000. */
  readonly startTimeoutMs?: number;
  /** Longest a child's stop() is awaited before the child is abandoned (logged). Default 5 000. */
  readonly stopTimeoutMs?: number;
}

export const DEFAULT_START_TIMEOUT_MS = 30_000;
export const DEFAULT_STOP_TIMEOUT_MS = 5_000;

export interface SupervisorSettings {
  readonly perChild: boolean;
  readonly startTimeoutMs: number;
  readonly stopTimeoutMs: number;
}

/** Throws a descriptive error for a spec no supervisor can run with. */
export function resolveSpec(spec: SupervisorSpec): SupervisorSettings {
  assertValidPolicy(spec.policy);
  const budget: RestartBudget = spec.budget ?? 'shared';
  if (!(RESTART_BUDGETS as readonly string[]).includes(budget)) throw new Error(`unknown restart budget "${budget}"`);
  if (budget === 'per_child' && spec.policy.strategy !== 'one_for_one') {
    throw new Error(`supervisor ${spec.id}: per_child budgets need strategy one_for_one (children must be independent)`);
  }
  const startTimeoutMs = spec.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  const stopTimeoutMs = spec.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
  for (const [name, ms] of [
    ['startTimeoutMs', startTimeoutMs],
    ['stopTimeoutMs', stopTimeoutMs],
  ] as const) {
    if (!(ms > 0)) throw new Error(`supervisor ${spec.id}: ${name} must be > 0`);
  }
  return { perChild: budget === 'per_child', startTimeoutMs, stopTimeoutMs };
}
