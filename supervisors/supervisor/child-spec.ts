// What a supervisor asks of a child, what it keeps about one, and the check that a child spec (often
// built by callers at run time, e.g. per agent) is one it can supervise.
import { RESTART_TYPES, type ExitReason, type RestartType } from '../strategy.js';

export interface ChildExit {
  readonly reason: ExitReason;
  readonly error?: unknown;
}

/** A running child. If it has already exited when onExit is called, the listener is called at once. */
export interface ChildHandle {
  stop(): Promise<void>;
  onExit(listener: (exit: ChildExit) => void): void;
}

export interface ChildSpec {
  readonly id: string;
  readonly restart: RestartType;
  /** Agent kind or service name; a metric label, so keep it to a small set. */
  readonly kind: string;
  /** Throwing (or rejecting) counts as a crash of the child. */
  start(): Promise<ChildHandle> | ChildHandle;
}

export const CHILD_STATUSES = ['running', 'restarting', 'stopped', 'failed'] as const;
export type ChildStatus = (typeof CHILD_STATUSES)[number];

export interface ChildInfo {
  readonly id: string;
  readonly kind: string;
  readonly restart: RestartType;
  readonly status: ChildStatus;
}

export function isHandle(value: unknown): value is ChildHandle {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ChildHandle).stop === 'function' &&
    typeof (value as ChildHandle).onExit === 'function'
  );
}

export function assertValidChildSpec(spec: ChildSpec): void {
  if (typeof spec !== 'object' || spec === null) throw new TypeError('child spec must be an object');
  if (typeof spec.id !== 'string' || spec.id === '') throw new TypeError('child spec id must be a non-empty string');
  if (!(RESTART_TYPES as readonly string[]).includes(spec.restart)) {
    throw new TypeError(`child ${spec.id}: restart must be one of ${RESTART_TYPES.join(', ')}`);
  }
  if (typeof spec.kind !== 'string' || spec.kind === '') throw new TypeError(`child ${spec.id}: kind must be a non-empty string`);
  if (typeof spec.start !== 'function') throw new TypeError(`child ${spec.id}: start must be a function`);
}
