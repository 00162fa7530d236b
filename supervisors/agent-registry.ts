// The registry service: creates, lists, deletes and restarts agents of every kind, and routes each
// agent's task and cancel messages to its host. It answers on the bus only.
import type { AgentKind, CapabilityTable } from '../actors/kind.js';
import type { Bus, BusMessage, Subscription } from '../runtime/bus/bus.js';
import { isoNow, type Clock } from '../runtime/clock.js';
import type { Config } from '../runtime/config.js';
import { AuroraError, toErrorPayload } from '../runtime/errors.js';
import type { EventPublisher } from '../runtime/events.js';
import type { Logger } from '../runtime/logger.js';
import type { Metrics } from '../runtime/metrics.js';
import type { AgentDefinition, AgentRecord, AgentRequestOf, RequestOf, ReplyOf } from '../runtime/protocol/index.js';
import { serveOperation } from '../runtime/rpc.js';
import type { Store } from '../runtime/store/index.js';
import { tokenToName, type Subjects } from '../runtime/subjects.js';
import { compileValidator, type Validator } from '../runtime/validation.js';
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
  /** The kinds this node runs (actors/catalog.ts, plus any a test or an embedding program adds). */
  kinds: readonly AgentKind[];
  /** What the hosts perform for their machines. */
  capabilities: CapabilityTable;
}

interface KnownKind {
  readonly kind: AgentKind;
  readonly validateConfig: Validator<Record<string, unknown>>;
}

/** Checks the kinds against this node once: a kind asking for a capability the node lacks is a wiring defect. */
function prepareKinds(kinds: readonly AgentKind[], capabilities: CapabilityTable): ReadonlyMap<string, KnownKind> {
  const known = new Map<string, KnownKind>();
  for (const kind of kinds) {
    if (known.has(kind.name)) throw new Error(`Two agent kinds are named ${kind.name}`);
    const missing = kind.capabilities.filter((c) => !Object.hasOwn(capabilities, c));
    if (missing.length > 0) throw new Error(`Agent kind ${kind.name} needs capabilities this node lacks: ${missing.join(', ')}`);
    known.set(kind.name, { kind, validateConfig: compileValidator(kind.configSchema, 'config') });
  }
  return known;
}

export function createAgentRegistry(deps: AgentRegistryDeps) {
  const { bus, subjects, store, events, config } = deps;
  const kinds = prepareKinds(deps.kinds, deps.capabilities);
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

  function kindOf(agentType: string): KnownKind {
    const known = kinds.get(agentType);
    if (!known) throw new AuroraError('invalid_request', `Unknown agent_type: ${agentType}`);
    return known;
  }

  function spawn(definition: AgentDefinition): AgentHost {
    const host = new AgentHost(definition, {
      kind: kindOf(definition.agent_type).kind,
      capabilities: deps.capabilities,
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
    const { kind, validateConfig } = kindOf(def.agent_type);
    if (!kind.providers.includes(def.provider)) {
      throw new AuroraError('invalid_request', `Unknown provider for agent_type ${def.agent_type}: ${def.provider}`);
    }
    const checked = validateConfig(def.config);
    if (!checked.ok) throw new AuroraError('invalid_request', checked.message);
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
        hostOf(name).submit(msg.data as AgentRequestOf<'task'>, (reply) => msg.respond(reply));
      } else if (op === 'cancel') {
        const { task_id } = msg.data as AgentRequestOf<'cancel'>;
        const status = hostOf(name).cancel(task_id);
        if (!status) throw new AuroraError('task_not_found', `Task ${task_id} is not queued or running on agent ${name}`);
        msg.respond({ ok: true, data: { task_id, status } });
      }
    } catch (err) {
      if (!(err instanceof AuroraError)) throw err;
      msg.respond({ ok: false, error: toErrorPayload(err) });
    }
  }

  async function cancelTask({ task_id }: RequestOf<'tasks.cancel'>): Promise<ReplyOf<'tasks.cancel'>> {
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
        if (kinds.has(record.agent_type)) spawn(record);
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
        serveOperation(bus, subjects, 'registry.create', (def) => durable(create(def)), opts),
        serveOperation(bus, subjects, 'registry.get', ({ name }) => {
          const record = store.agents.get(name);
          if (!record) throw new AuroraError('agent_not_found', `Agent ${name} not found`);
          return withStatus(record);
        }, opts),
        serveOperation(bus, subjects, 'registry.list', () => store.agents.list().map(withStatus), opts),
        serveOperation(bus, subjects, 'registry.delete', ({ name }) => remove(name), opts),
        serveOperation(bus, subjects, 'registry.restart', async ({ name }) => {
          hostOf(name);
          await deps.supervisor.restartChild(name);
          return withStatus(store.agents.get(name)!);
        }, opts),
        serveOperation(bus, subjects, 'registry.fault', ({ name }) => {
          if (!config.faultInjection) {
            throw new AuroraError('fault_injection_disabled', 'Fault injection is disabled (set FAULT_INJECTION_ENABLED=true)');
          }
          hostOf(name).injectFault();
          return { name };
        }, opts),
        serveOperation(bus, subjects, 'tasks.get', ({ task_id }) => {
          const task = store.tasks.get(task_id);
          if (!task) throw new AuroraError('task_not_found', `Task ${task_id} not found`);
          return task;
        }, opts),
        serveOperation(bus, subjects, 'tasks.list', (query) => store.tasks.list(query), opts),
        serveOperation(bus, subjects, 'tasks.cancel', cancelTask, opts),
      );
    },

    /** Unsubscribes; agents are stopped by their supervisor. */
    stop(): void {
      for (const s of subscriptions.splice(0)) s.unsubscribe();
    },
  };
}

export type AgentRegistry = ReturnType<typeof createAgentRegistry>;
