// The events service: reads the node's event log (supervisor crashes, restarts and escalations,
// the agent lifecycle, model changes) over the bus, a page at a time. The log is written by the
// supervisor tree and the event publisher; this service never writes it.
import type { Bus, Subscription } from '../runtime/bus/bus.js';
import type { Logger } from '../runtime/logger.js';
import { serveOperation } from '../runtime/rpc.js';
import type { Store } from '../runtime/store/index.js';
import type { Subjects } from '../runtime/subjects.js';

export interface EventsServiceDeps {
  bus: Bus;
  subjects: Subjects;
  store: Store;
  logger: Logger;
}

export function createEventsService(deps: EventsServiceDeps) {
  const { bus, subjects, store } = deps;
  let subscription: Subscription | undefined;
  // The log lives in each node's store beside its agents, so the registry's queue group serves it.
  const opts = { queue: subjects.queue('registry'), logger: deps.logger };
  return {
    start(): void {
      subscription = serveOperation(bus, subjects, 'events.list', (query) => store.events.page(query), opts);
    },
    stop(): void {
      subscription?.unsubscribe();
    },
  };
}
