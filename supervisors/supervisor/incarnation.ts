// One run of a supervisor as its parent sees it (asChild): it begins with start() and ends once —
// stopped, escalated, or failed to start — and that end is the exit the parent's handle reports.
import type { Logger } from '../../runtime/logger.js';
import type { ChildExit, ChildHandle } from './child-spec.js';

interface Run {
  listeners: Array<(exit: ChildExit) => void>;
  exit: ChildExit | undefined;
}

export interface Incarnations {
  /** A new run begins; exit listeners of the previous one are not carried over. */
  begin(): void;
  /** Ends the current run (a second end is ignored) and tells its listeners. */
  end(exit: ChildExit): void;
  /** The current run as the handle a parent supervisor watches. Call after begin(). */
  handle(stop: () => Promise<void>): ChildHandle;
}

export function createIncarnations(supervisorId: string, logger: Logger): Incarnations {
  let incarnation: Run | undefined;
  return {
    begin() {
      incarnation = { listeners: [], exit: undefined };
    },
    end(exit) {
      const current = incarnation;
      if (current === undefined || current.exit !== undefined) return;
      current.exit = exit;
      const listeners = current.listeners;
      current.listeners = [];
      for (const listener of listeners) {
        try {
          listener(exit);
        } catch (error) {
          logger.error('supervisor exit listener threw', { supervisor: supervisorId, error });
        }
      }
    },
    handle(stop) {
      const current = incarnation!;
      return {
        stop,
        onExit(listener) {
          if (current.exit !== undefined) listener(current.exit);
          else current.listeners.push(listener);
        },
      };
    },
  };
}
