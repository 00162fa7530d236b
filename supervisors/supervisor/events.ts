// What a supervisor tells the world: events for its observers (bus, socket, SQLite), the
// escalation its parent hears, and the metrics it keeps.
import type { Logger } from '../../runtime/logger.js';
import type { Metrics } from '../../runtime/metrics.js';

/** `reason` label of aurora_supervisor_restarts_total: why the child was (re)started. */
export const RESTART_REASONS = ['crash', 'normal', 'sibling', 'operator'] as const;
export type RestartReason = (typeof RESTART_REASONS)[number];

export const SUPERVISOR_EVENT_TYPES = ['crash', 'restart', 'escalation', 'failed'] as const;
export type SupervisorEventType = (typeof SUPERVISOR_EVENT_TYPES)[number];

export interface SupervisorEvent {
  readonly type: SupervisorEventType;
  readonly supervisor: string;
  readonly child: string;
  readonly kind: string;
  /** crash: 'crash' | 'start_failed'; restart: a RestartReason; escalation / failed: why. */
  readonly reason: string;
  readonly delayMs?: number;
  /** restart after a crash or exit: ms from the exit until the child ran again. */
  readonly restartLatencyMs?: number;
  readonly attempt?: number;
  /** crash: the error's message. */
  readonly error?: string;
  readonly at: number;
}

export interface SupervisorEscalation {
  readonly supervisor: string;
  /** The child whose exit spent the budget (the supervisor's own id for an internal defect). */
  readonly child: string;
  readonly kind: string;
  readonly reason: string;
  readonly at: number;
}

/** What a nested supervisor reports to its parent as its crash. */
export class SupervisorEscalationError extends Error {
  override readonly name = 'SupervisorEscalationError';
  constructor(readonly escalation: SupervisorEscalation) {
    super(`supervisor ${escalation.supervisor} escalated: ${escalation.reason}`);
  }
}

export type SupervisorMetrics = Pick<
  Metrics,
  'supervisorRestarts' | 'supervisorRestartLatency' | 'supervisorEscalations' | 'supervisorChildren'
>;

export type Emit = (event: SupervisorEvent) => void;

/** Hands events to the observer, if there is one. */
export function createEmit(supervisorId: string, logger: Logger, onEvent: ((event: SupervisorEvent) => void) | undefined): Emit {
  return (event) => {
    if (!onEvent) return;
    try {
      onEvent(event);
    } catch (error) {
      // An observer's bug must not break supervision; it is reported, not hidden.
      logger.error('supervisor event handler threw', { supervisor: supervisorId, event: event.type, error });
    }
  };
}
