// The threads service: an agent's conversations, created, read, listed and deleted over the bus.
// Tasks add to a thread through their host; this service never writes messages itself.
import type { Bus, Subscription } from '../runtime/bus/bus.js';
import { isoNow, type Clock } from '../runtime/clock.js';
import { AuroraError } from '../runtime/errors.js';
import { newId } from '../runtime/ids.js';
import type { Logger } from '../runtime/logger.js';
import { serveOperation } from '../runtime/rpc.js';
import { durable, type Store } from '../runtime/store/index.js';
import type { Subjects } from '../runtime/subjects.js';

export interface ThreadsServiceDeps {
  bus: Bus;
  subjects: Subjects;
  store: Store;
  clock: Clock;
  logger: Logger;
}

export function createThreadsService(deps: ThreadsServiceDeps) {
  const { bus, subjects, store } = deps;
  const subscriptions: Subscription[] = [];
  // Threads live beside their agents in each node's store, so the registry's queue group serves them.
  const opts = { queue: subjects.queue('registry'), logger: deps.logger };

  const mustGet = (threadId: string) => {
    const thread = store.threads.get(threadId);
    if (!thread) throw new AuroraError('thread_not_found', `Thread ${threadId} not found`);
    return thread;
  };

  return {
    start(): void {
      subscriptions.push(
        serveOperation(bus, subjects, 'threads.create', ({ agent, title }) => {
          if (!store.agents.get(agent)) throw new AuroraError('agent_not_found', `Agent ${agent} not found`);
          return durable(store, store.threads.create({ thread_id: newId(), agent, title }, isoNow(deps.clock)));
        }, opts),
        serveOperation(bus, subjects, 'threads.get', ({ thread_id, limit }) => {
          const thread = mustGet(thread_id);
          return { ...thread, ...store.threads.messages(thread_id, limit) };
        }, opts),
        serveOperation(bus, subjects, 'threads.delete', ({ thread_id }) => {
          if (!store.threads.delete(thread_id)) throw new AuroraError('thread_not_found', `Thread ${thread_id} not found`);
          return durable(store, { thread_id });
        }, opts),
        // The agent's own threads: those of an earlier agent of the same name stay readable by id only.
        serveOperation(bus, subjects, 'threads.list', ({ agent, limit, cursor }) => {
          const record = store.agents.get(agent);
          if (!record) throw new AuroraError('agent_not_found', `Agent ${agent} not found`);
          return store.threads.page({ agent_id: record.agent_id, limit, ...(cursor !== undefined && { cursor }) });
        }, opts),
      );
    },
    stop(): void {
      for (const s of subscriptions.splice(0)) s.unsubscribe();
    },
  };
}
