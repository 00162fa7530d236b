// The supervision service: answers `supervision.tree` with the node's live supervisors and
// children. A supervisor knows its children's statuses but keeps no history beyond its restart
// window, so the counts an operator wants (restarts since start, the last crash) are folded here
// from the same supervisor events the stream carries; the picture and the deltas then agree.
import type { Bus, Subscription } from '../runtime/bus/bus.js';
import { isoAt, isoNow, type Clock } from '../runtime/clock.js';
import type { Logger } from '../runtime/logger.js';
import type { SupervisionChild, SupervisionTree } from '../runtime/protocol/index.js';
import { serveOperation } from '../runtime/rpc.js';
import type { Subjects } from '../runtime/subjects.js';
import type { SupervisorPolicy } from './strategy.js';
import type { RestartBudget, Supervisor, SupervisorEvent } from './supervisor.js';

/** A supervisor as the service reports it: the policy is what it was built with (it does not expose it). */
export interface WatchedSupervisor {
  readonly supervisor: Supervisor;
  readonly parent: string | null;
  readonly policy: SupervisorPolicy;
  readonly budget: RestartBudget;
}

interface ChildHistory {
  restarts: number;
  lastCrash: { reason: string; error: string | null; at: number } | undefined;
}

export interface SupervisionService {
  start(): void;
  stop(): void;
  /** Every supervisor event of the node, in order. */
  record(event: SupervisorEvent): void;
  snapshot(): SupervisionTree;
}

/** Histories of children that no longer exist are dropped after this many events (deleted agents). */
const PRUNE_EVERY_EVENTS = 1024;

export function createSupervisionService(deps: {
  bus: Bus;
  subjects: Subjects;
  clock: Clock;
  logger: Logger;
  supervisors: readonly WatchedSupervisor[];
}): SupervisionService {
  const { bus, subjects, clock, logger, supervisors } = deps;
  const histories = new Map<string, ChildHistory>();
  const keyOf = (supervisor: string, child: string) => `${supervisor}\u0000${child}`;
  let sincePrune = 0;
  let sub: Subscription | undefined;

  function prune(): void {
    const live = new Set<string>();
    for (const w of supervisors) for (const c of w.supervisor.children()) live.add(keyOf(w.supervisor.id, c.id));
    for (const key of histories.keys()) if (!live.has(key)) histories.delete(key);
  }

  function record(event: SupervisorEvent): void {
    if (event.type !== 'restart' && event.type !== 'crash') return;
    const key = keyOf(event.supervisor, event.child);
    let history = histories.get(key);
    if (history === undefined) {
      history = { restarts: 0, lastCrash: undefined };
      histories.set(key, history);
    }
    if (event.type === 'restart') history.restarts++;
    else history.lastCrash = { reason: event.reason, error: event.error ?? null, at: event.at };
    if (++sincePrune >= PRUNE_EVERY_EVENTS) {
      sincePrune = 0;
      prune();
    }
  }

  function snapshot(): SupervisionTree {
    return {
      time: isoNow(clock),
      supervisors: supervisors.map(({ supervisor, parent, policy, budget }) => ({
        id: supervisor.id,
        parent,
        state: supervisor.state(),
        strategy: policy.strategy,
        budget: { scope: budget, max_restarts: policy.maxRestarts, period_ms: policy.periodMs },
        children: supervisor.children().map((c): SupervisionChild => {
          const history = histories.get(keyOf(supervisor.id, c.id));
          const crash = history?.lastCrash;
          return {
            id: c.id,
            kind: c.kind,
            status: c.status,
            restart: c.restart,
            restarts: history?.restarts ?? 0,
            last_crash_reason: crash?.reason ?? null,
            last_crash_error: crash?.error ?? null,
            last_crash_at: crash === undefined ? null : isoAt(crash.at),
          };
        }),
      })),
    };
  }

  return {
    record,
    snapshot,
    start() {
      sub = serveOperation(bus, subjects, 'supervision.tree', async () => snapshot(), {
        queue: subjects.queue('supervision'),
        logger,
      });
    },
    stop() {
      sub?.unsubscribe();
    },
  };
}
