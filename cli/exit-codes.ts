// What the command line's exit status means (README "Command line"): scripts can tell "the API
// said no" from "I typed it wrong" from "Aurora is not there".
import { AuroraApiError, AuroraConnectionError } from '../client/index.js';

export const EXIT = {
  /** Done. */
  ok: 0,
  /** Aurora answered with a client error (4xx): no such agent, invalid request, unauthorized, a task that failed with a 4xx code. */
  apiError: 1,
  /** The command line was wrong: unknown command or option, a missing or invalid argument. */
  usage: 2,
  /** Aurora could not be reached, or failed (5xx, a task that failed with a 5xx code, the stream closed early). */
  unavailable: 3,
  /** Interrupted with Ctrl-C (a running task or pull was cancelled first). */
  interrupted: 130,
} as const;

/** A mistake in the command line itself (exit 2). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Ctrl-C ended the command (exit 130); the message says what was cleaned up. */
export class Interrupted extends Error {
  override readonly name = 'Interrupted';
}

export function exitCodeOf(err: unknown): number | undefined {
  if (err instanceof UsageError) return EXIT.usage;
  if (err instanceof Interrupted) return EXIT.interrupted;
  if (err instanceof AuroraConnectionError) return EXIT.unavailable;
  if (err instanceof AuroraApiError) return err.status >= 500 ? EXIT.unavailable : EXIT.apiError;
  return undefined;
}
