// The registry service: creates, lists, deletes and restarts agents, and routes each agent's
// task and cancel messages to its host. It answers on the bus only.
import type { AgentDefinition, AgentRecord, ServiceProtocol, TaskRequest } from '../actors/protocol.js';
import { AGENT_KINDS, isAgentKind, type KindRuntime } from '../actors/catalog.js';
import type { Bus, BusMessage, Subscription } from '../runtime/bus/bus.js';
import { isoNow, type Clock } from '../runtime/clock.js';
import type { Config } from '../runtime/config.js';
import { AuroraError, toErrorPayload } from '../runtime/errors.js';
import type { EventPublisher } from '../runtime/events.js';
import type { Logger } from '../runtime/logger.js';
import type { Metrics } from '../runtime/metrics.js';
import { serve } from '../runtime/rpc.js';
import type { Store } from '../runtime/store/index.js';
import { tokenToName, type Subjects } from '../runtime/subjects.js';
import { AgentHost } from './actor-host.js';
import type { Supervisor, SupervisorEvent } from './supervisor.js';

export interface AgentRegistryDeps {
  bus: Bus;
  subjects: Subjects;
  store: Store;
  events: EventPublisher;
  metrics: Metrics;
  clock: Clock;
  logger: Logger;
  config: Config;
  /** The agents supervisor: every agent's actor is its child. */
  supervisor: Supervisor;
  /** Each agent kind's machine and its calls, bound to this node's capabilities. */
  kinds: Readonly<Record<string, KindRuntime>>;
}

type Op<K extends keyof ServiceProtocol> = ServiceProtocol[K];

export function createAgentRegistry(deps: AgentRegistryDeps) {
  const { bus, subjects, store, events, config } = deps;
  const hosts = new Map<string, AgentHost>();
  const subscriptions: Subscription[] = [];
  const queue = subjects.queue('registry');

  const hostOf = (name: string): AgentHost => {
    const host = hosts.get(name);
    if (!host) throw new AuroraError('agent_not_found', `Agent ${name} not found`);
    return host;
  };

  /** Resolves with `value` once the writes behind it are committed: no client hears of a write a crash could undo. */
  const durable = <T>(value: T): Promise<T> =>
    new Promise((resolve, reject) =>
      store.afterCommit((committed) =>
        committed ? resolve(value) : reject(new AuroraError('internal', 'the change could not be stored')),
      ),
    );

  const withStatus = (record: AgentRecord): AgentRecord => {
    const host = hosts.get(record.name);
    return host ? { ...record, status: host.status } : record;
  };

  function spawn(definition: AgentDefinition): AgentHost {
    const kind = deps.kinds[definition.agent_type];
    if (!kind) throw new AuroraError('invalid_request', `Unknown agent_type: ${definition.agent_type}`);
    const host = new AgentHost(definition, {
      machine: kind.machine,
      perform: kind.perform,
      store,
      events,
      metrics: deps.metrics,
      clock: deps.clock,
      logger: deps.logger,
      mailboxSize: config.mailboxSize,
      taskTimeoutMs: config.taskTimeoutMs,
    });
    hosts.set(definition.name, host);
    deps.supervisor.startChild(host.childSpec()).catch((err: unknown) => {
      // The supervisor already restarts or fails a child whose start throws; this only reports it.
      deps.logger.error('agent did not start', { agent: definition.name, error: err });
    });
    return host;
  }

  function create(def: AgentDefinition): AgentRecord {
    if (!isAgentKind(def.agent_type)) throw new AuroraError('invalid_request', `Unknown agent_type: ${def.agent_type}`);
    if (!(AGENT_KINDS[def.agent_type].providers as readonly string[]).includes(def.provider)) {
      throw new AuroraError('invalid_request', `Unknown provider for agent_type ${def.agent_type}: ${def.provider}`);
    }
    const record = store.agents.insert(def, isoNow(deps.clock));
    spawn(record);
    events.publish('agent.created', { agent: def.name, payload: { agent_type: def.agent_type, model_name: def.model_name } });
    return withStatus(record);
  }

  async function remove(name: string): Promise<{ name: string }> {
    const host = hosts.get(name);
    if (!host && !store.agents.get(name)) throw new AuroraError('agent_not_found', `Agent ${name} not found`);
    if (host) {
      host.shutdown(new AuroraError('agent_stopped', `Agent ${name} was deleted`));
      hosts.delete(name);
      await deps.supervisor.removeChild(name);
    }
    store.agents.delete(name);
    events.publish('agent.deleted', { agent: name });
    return durable({ name });
  }

  function route(msg: BusMessage): void {
    // <ns>.agent.<token>.<op>
    const parts = msg.subject.split('.');
    const name = tokenToName(parts[parts.length - 2] ?? '');
    const op = parts[parts.length - 1];
    try {
      if (op === 'task') {
        hostOf(name).submit(msg.data as TaskRequest, (reply) => msg.respond(reply));
      } else if (op === 'cancel') {
        const { task_id } = msg.data as Op<'agent.cancel'>[0];
        const status = hostOf(name).cancel(task_id);
        if (!status) throw new AuroraError('task_not_found', `Task ${task_id} is not queued or running on agent ${name}`);
        msg.respond({ ok: true, data: { task_id, status } });
      }
    } catch (err) {
      if (!(err instanceof AuroraError)) throw err;
      msg.respond({ ok: false, error: toErrorPayload(err) });
    }
  }

  async function cancelTask({ task_id }: Op<'tasks.cancel'>[0]): Promise<Op<'tasks.cancel'>[1]> {
    const task = store.tasks.get(task_id);
    if (!task) throw new AuroraError('task_not_found', `Task ${task_id} not found`);
    if (task.status !== 'queued' && task.status !== 'running') {
      throw new AuroraError('task_finished', `Task ${task_id} is already ${task.status}`);
    }
    const host = hosts.get(task.agent);
    const status = host?.cancel(task_id);
    if (!status) throw new AuroraError('task_finished', `Task ${task_id} is no longer queued or running`);
    return { task_id, status };
  }

  const opts = { queue, logger: deps.logger };
  return {
    hosts: hosts as ReadonlyMap<string, AgentHost>,

    /** Spawns every stored agent again, under supervision. */
    restore(): number {
      const stored = store.agents.list();
      for (const record of stored) {
        if (isAgentKind(record.agent_type)) spawn(record);
        else deps.logger.error('stored agent has an unknown kind; not started', { agent: record.name, kind: record.agent_type });
      }
      return stored.length;
    },

    /** Hears the agents supervisor: an agent whose budget is spent becomes `failed`. */
    onSupervisorEvent(event: SupervisorEvent): void {
      if (event.type === 'failed') hosts.get(event.child)?.markFailed(event.reason);
    },

    start(): void {
      subscriptions.push(
        bus.subscribe(subjects.agentAny(), route),
        serve<Op<'registry.create'>[0], AgentRecord>(bus, subjects.registry('create'), (def) => durable(create(def)), opts),
        serve<Op<'registry.get'>[0], AgentRecord>(bus, subjects.registry('get'), ({ name }) => {
          const record = store.agents.get(name);
          if (!record) throw new AuroraError('agent_not_found', `Agent ${name} not found`);
          return withStatus(record);
        }, opts),
        serve<Op<'registry.list'>[0], AgentRecord[]>(bus, subjects.registry('list'), () => store.agents.list().map(withStatus), opts),
        serve<Op<'registry.delete'>[0], { name: string }>(bus, subjects.registry('delete'), ({ name }) => remove(name), opts),
        serve<Op<'registry.restart'>[0], AgentRecord>(bus, subjects.registry('restart'), async ({ name }) => {
          hostOf(name);
          await deps.supervisor.restartChild(name);
          return withStatus(store.agents.get(name)!);
        }, opts),
        serve<Op<'registry.fault'>[0], { name: string }>(bus, subjects.registry('fault'), ({ name }) => {
          if (!config.faultInjection) {
            throw new AuroraError('fault_injection_disabled', 'Fault injection is disabled (set FAULT_INJECTION_ENABLED=true)');
          }
          hostOf(name).injectFault();
          return { name };
        }, opts),
        serve<Op<'tasks.get'>[0], Op<'tasks.get'>[1]>(bus, subjects.tasks('get'), ({ task_id }) => {
          const task = store.tasks.get(task_id);
          if (!task) throw new AuroraError('task_not_found', `Task ${task_id} not found`);
          return task;
        }, opts),
        serve<Op<'tasks.list'>[0], Op<'tasks.list'>[1]>(bus, subjects.tasks('list'), (query) => store.tasks.list(query), opts),
        serve<Op<'tasks.cancel'>[0], Op<'tasks.cancel'>[1]>(bus, subjects.tasks('cancel'), cancelTask, opts),
      );
    },

    /** Unsubscribes; agents are stopped by their supervisor. */
    stop(): void {
      for (const s of subscriptions.splice(0)) s.unsubscribe();
    },
  };
}

export type AgentRegistry = ReturnType<typeof createAgentRegistry>;
