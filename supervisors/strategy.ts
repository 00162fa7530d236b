// Pure supervision decisions (Erlang/OTP semantics): given a child's exit, the restarts already made
// and the policy, say whether to ignore it, which children to restart after what delay, or escalate.
// No clock, no timers, no I/O: the supervisor (supervisor/restart-planner.ts) carries the decision out.
import type { SupervisionConfig } from '../runtime/config.js';
import { backoffDelayMs } from './backoff.js';

/** permanent: always restarted; transient: restarted only after a crash; temporary: never. */
export const RESTART_TYPES = ['permanent', 'transient', 'temporary'] as const;
export type RestartType = (typeof RESTART_TYPES)[number];

/**
 * one_for_one: only the exited child is restarted; one_for_all: every child is; rest_for_one: the
 * exited child and every child started after it (they are assumed to depend on it).
 */
export const STRATEGIES = ['one_for_one', 'one_for_all', 'rest_for_one'] as const;
export type Strategy = (typeof STRATEGIES)[number];

export const EXIT_REASONS = ['normal', 'crash'] as const;
export type ExitReason = (typeof EXIT_REASONS)[number];

export interface SupervisorPolicy extends SupervisionConfig {
  readonly strategy: Strategy;
}

export interface DecideInput {
  readonly child: { readonly id: string; readonly restart: RestartType };
  readonly exit: ExitReason;
  /** Timestamps (ms, ascending) of restarts this supervisor (or budget) already made. */
  readonly history: readonly number[];
  readonly policy: SupervisorPolicy;
  readonly now: number;
  /** Every child id of the supervisor, in start order. */
  readonly children: readonly string[];
  readonly rng: () => number;
}

export type Decision =
  | { readonly action: 'ignore' }
  | {
      readonly action: 'restart';
      /** Children to restart, in start order (stop them in the reverse order). */
      readonly ids: string[];
      readonly delayMs: number;
      /** `history` pruned to the intensity window, with `now` appended: the caller stores it. */
      readonly history: number[];
    }
  | { readonly action: 'escalate'; readonly reason: string };

const IGNORE: Decision = Object.freeze({ action: 'ignore' });

/**
 * Decides what a supervisor does when `child` exits.
 *
 * Intensity: restarts made within (now - periodMs, now] are counted; if one more would exceed
 * maxRestarts the supervisor escalates (exactly maxRestarts restarts per period are allowed;
 * maxRestarts 0 means any restart escalates). A timestamp later than `now` can only come from a
 * clock that stepped back; it is counted rather than forgotten, so a clock step cannot refill the
 * budget. Backoff attempt = restarts in the window + 1.
 *
 * Throws (a defect in the caller) when a one_for_all / rest_for_one decision names a child that is
 * not in `children`.
 */
export function decide(input: DecideInput): Decision {
  const { child, exit, history, policy, now } = input;
  if (child.restart === 'temporary') return IGNORE;
  if (child.restart === 'transient' && exit === 'normal') return IGNORE;

  const windowStart = now - policy.periodMs;
  let recent = 0;
  for (const t of history) if (t > windowStart) recent++;
  if (recent + 1 > policy.maxRestarts) {
    return {
      action: 'escalate',
      reason:
        policy.maxRestarts === 0
          ? `restarts are disabled (maxRestarts 0); ${child.id} exited (${exit})`
          : `restart intensity exceeded: ${child.id} exited (${exit}) after ${recent} restarts within ${policy.periodMs}ms (maxRestarts ${policy.maxRestarts})`,
    };
  }

  const pruned: number[] = [];
  for (const t of history) if (t > windowStart) pruned.push(t);
  pruned.push(now);

  return {
    action: 'restart',
    ids: affected(policy.strategy, child.id, input.children),
    delayMs: backoffDelayMs({
      attempt: recent + 1,
      baseMs: policy.backoffBaseMs,
      maxMs: policy.backoffMaxMs,
      rng: input.rng,
    }),
    history: pruned,
  };
}

/** The children a strategy restarts when `id` exits, in start order. */
export function affected(strategy: Strategy, id: string, children: readonly string[]): string[] {
  if (strategy === 'one_for_one') return [id];
  const index = children.indexOf(id);
  if (index < 0) throw new Error(`decide: child "${id}" is not among the supervisor's children`);
  return strategy === 'one_for_all' ? children.slice() : children.slice(index);
}

/** Throws a descriptive error for a policy no supervisor can run with. */
export function assertValidPolicy(policy: SupervisorPolicy): void {
  const problems: string[] = [];
  if (!(STRATEGIES as readonly string[]).includes(policy.strategy)) problems.push(`unknown strategy "${policy.strategy}"`);
  if (!Number.isInteger(policy.maxRestarts) || policy.maxRestarts < 0) problems.push('maxRestarts must be an integer ≥ 0');
  if (!Number.isFinite(policy.periodMs) || policy.periodMs <= 0) problems.push('periodMs must be > 0');
  if (!Number.isFinite(policy.backoffBaseMs) || policy.backoffBaseMs < 0) problems.push('backoffBaseMs must be ≥ 0');
  if (!Number.isFinite(policy.backoffMaxMs) || policy.backoffMaxMs < 0) problems.push('backoffMaxMs must be ≥ 0');
  if (problems.length > 0) throw new Error(`Invalid supervisor policy: ${problems.join('; ')}`);
}
