// The registry service: creates, updates, lists, deletes and restarts agents of every kind, and
// routes each agent's task and cancel messages to its host. It answers on the bus only.
import type { AgentKind, CapabilityTable } from '../actors/kind.js';
import type { Bus, BusMessage, Subscription } from '../runtime/bus/bus.js';
import { isoNow, type Clock } from '../runtime/clock.js';
import type { Config } from '../runtime/config.js';
import { AuroraError, toErrorPayload } from '../runtime/errors.js';
import type { EventPublisher } from '../runtime/events.js';
import type { Logger } from '../runtime/logger.js';
import type { Metrics } from '../runtime/metrics.js';
import { canonicalModelName } from '../runtime/providers/llm.js';
import type { AgentDefinition, AgentRecord, AgentRequestOf, ReplyOf, RequestOf, TaskRequest } from '../runtime/protocol/index.js';
import { serveOperation } from '../runtime/rpc.js';
import { durable, type Store } from '../runtime/store/index.js';
import { tokenToName, type Subjects } from '../runtime/subjects.js';
import { AgentHost } from './actor-host.js';
import { createDefinitions } from './definitions.js';
import type { ModelFacts } from './model-facts.js';
import type { Supervisor, SupervisorEvent } from './supervisor.js';
import type { ToolRegistry } from './capabilities/tools/index.js';

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
  /** The node's tools, which agent definitions may name. */
  tools: ToolRegistry;
  models: ModelFacts;
}

const noop = (): void => {};

export function createAgentRegistry(deps: AgentRegistryDeps) {
  const { bus, subjects, store, events, config } = deps;
  const definitions = createDefinitions(
    deps.kinds,
    deps.capabilities,
    { hasTool: (name) => deps.tools.has(name), toolNames: () => deps.tools.names() },
    deps.models,
  );
  const hosts = new Map<string, AgentHost>();
  const subscriptions: Subscription[] = [];
  const queue = subjects.queue('registry');

  const hostOf = (name: string): AgentHost => {
    const host = hosts.get(name);
    if (!host) throw new AuroraError('agent_not_found', `Agent ${name} not found`);
    return host;
  };

  /**
   * The stored record with what only the running host knows: status, slots busy, mailbox. One
   * literal rather than a spread: a page builds a hundred of these, and spreading a record costs
   * several times more than naming its fields.
   */
  const live = (record: AgentRecord, installed?: boolean | null): AgentRecord => {
    const host = hosts.get(record.name);
    const out: AgentRecord = {
      name: record.name,
      agent_id: record.agent_id,
      agent_type: record.agent_type,
      model_name: record.model_name,
      provider: record.provider,
      description: record.description,
      config: record.config,
      status: host === undefined ? record.status : host.status,
      created_at: record.created_at,
      last_run: record.last_run,
      running_tasks: host === undefined ? 0 : host.runningCount,
      queued_tasks: host === undefined ? 0 : host.queueDepth,
    };
    if (installed !== undefined) out.model_installed = installed;
    return out;
  };

  /** Records with model_installed, from one cached listing per provider. */
  async function withModels(records: AgentRecord[]): Promise<AgentRecord[]> {
    const names = new Map<string, ReadonlySet<string> | null>();
    for (const r of records) if (!names.has(r.provider)) names.set(r.provider, await deps.models.installedNames(r.provider));
    return records.map((r) => {
      const installed = names.get(r.provider);
      return live(r, installed === null || installed === undefined ? null : installed.has(canonicalModelName(r.model_name)));
    });
  }

  /** Hands an agent of a resumable kind the tasks a previous process left it (tree.ts kept them). */
  function resumeTasks(host: AgentHost, record: AgentRecord): void {
    if (definitions.kind(record.agent_type).resumable !== true) return;
    for (const t of store.tasks.unfinished(record.agent_id)) {
      const task: TaskRequest = { task_id: t.task_id, agent: t.agent, prompt: t.prompt, parameters: t.parameters };
      if (t.thread_id !== null) task.thread_id = t.thread_id;
      if (t.trace !== undefined) task.trace = t.trace;
      host.resume(task);
    }
  }

  function spawn(definition: AgentRecord): AgentHost {
    const host = new AgentHost(definition, hostDeps(definition));
    hosts.set(definition.name, host);
    deps.supervisor.startChild(host.childSpec()).catch((err: unknown) => {
      // The supervisor already restarts or fails a child whose start throws; this only reports it.
      deps.logger.error('agent did not start', { agent: definition.name, error: err });
    });
    return host;
  }

  function hostDeps(definition: AgentRecord): ConstructorParameters<typeof AgentHost>[1] {
    return {
      agentId: definition.agent_id,
      kind: definitions.kind(definition.agent_type),
      defaultSlots: config.agentMaxConcurrency,
      capabilities: deps.capabilities,
      store,
      events,
      metrics: deps.metrics,
      clock: deps.clock,
      logger: deps.logger,
      mailboxSize: config.mailboxSize,
      taskTimeoutMs: config.taskTimeoutMs,
    };
  }

  /** An agent that was `failed` when the previous process stopped: held, not started, until restarted. */
  function spawnFailed(definition: AgentRecord): void {
    const host = new AgentHost(definition, hostDeps(definition));
    host.restoreFailed();
    hosts.set(definition.name, host);
    deps.supervisor.addFailedChild(host.childSpec()).catch((err: unknown) => {
      deps.logger.error('failed agent could not be restored', { agent: definition.name, error: err });
    });
    deps.logger.warn('agent restored as failed: it had spent its restart budget; POST /api/v1/agents/{name}/restart brings it back', {
      agent: definition.name,
    });
  }

  async function create(def: AgentDefinition): Promise<AgentRecord> {
    const installed = await definitions.check(def);
    const record = store.agents.insert(def, isoNow(deps.clock));
    spawn(record);
    events.publish('agent.created', {
      agent: def.name,
      payload: { agent_id: record.agent_id, agent_type: def.agent_type, model_name: def.model_name },
    });
    return durable(store, live(record, installed));
  }

  async function update(command: RequestOf<'registry.update'>): Promise<AgentRecord> {
    const { name } = command;
    const current = store.agents.get(name);
    if (!current) throw new AuroraError('agent_not_found', `Agent ${name} not found`);
    const next: AgentDefinition = {
      name,
      agent_type: current.agent_type,
      provider: current.provider,
      description: command.description ?? current.description,
      model_name: command.model_name ?? current.model_name,
      config: command.config ?? current.config,
    };
    const installed = await definitions.check(next);
    // The check awaited the provider: the agent may have been deleted meanwhile.
    const record = store.agents.update(name, next);
    if (!record) throw new AuroraError('agent_not_found', `Agent ${name} not found`);
    hosts.get(name)?.update(next);
    const changed = (['description', 'model_name', 'config'] as const).filter((k) => command[k] !== undefined);
    events.publish('agent.updated', { agent: name, payload: { changed } });
    return durable(store, live(record, installed));
  }

  /**
   * The agent goes; its tasks and threads stay (readable by id and by ?agent=) unless `purge`.
   * Agent row and history go in the same turn, so in one group-commit transaction.
   */
  async function remove({ name, purge = false }: RequestOf<'registry.delete'>): Promise<ReplyOf<'registry.delete'>> {
    const host = hosts.get(name);
    const record = store.agents.get(name);
    if (!record) throw new AuroraError('agent_not_found', `Agent ${name} not found`);
    if (host) {
      host.shutdown(new AuroraError('agent_stopped', `Agent ${name} was deleted`));
      hosts.delete(name);
      await deps.supervisor.removeChild(name);
    }
    // The stop awaited the supervisor: another delete of the same name may have won meanwhile.
    if (!store.agents.delete(name)) throw new AuroraError('agent_not_found', `Agent ${name} not found`);
    const { agent_id } = record;
    const tasks_deleted = purge ? store.tasks.deleteByAgentId(agent_id) : null;
    const threads_deleted = purge ? store.threads.deleteByAgentId(agent_id) : null;
    events.publish('agent.deleted', {
      agent: name,
      payload: { agent_id, purged: purge, ...(purge && { tasks_deleted, threads_deleted }) },
    });
    return durable(store, { name, agent_id, tasks_deleted, threads_deleted });
  }

  /** A page of agents; the status filter is the live one, which only the hosts know. */
  async function list({ limit, cursor, status, kind, model }: RequestOf<'registry.list'>): Promise<ReplyOf<'registry.list'>> {
    const page = store.agents.page({
      limit,
      ...(cursor !== undefined && { cursor }),
      ...(kind !== undefined && { kind }),
      ...(model !== undefined && { model }),
      ...(status !== undefined && { accept: (a) => (hosts.get(a.name)?.status ?? a.status) === status }),
    });
    return { agents: await withModels(page.agents), next_cursor: page.next_cursor };
  }

  function route(msg: BusMessage): void {
    // <ns>.agent.<token>.<op>
    const parts = msg.subject.split('.');
    const name = tokenToName(parts[parts.length - 2] ?? '');
    const op = parts[parts.length - 1];
    try {
      if (op === 'task') {
        hostOf(name).submit(msg.data as AgentRequestOf<'task'>, (reply) => msg.respond(reply));
      } else if (op === 'submit') {
        const task = msg.data as AgentRequestOf<'submit'>;
        // The outcome is recorded and published; nobody waits on this request for it.
        hostOf(name).submit(task, noop);
        store.afterCommit((committed) =>
          msg.respond(
            committed
              ? { ok: true, data: { task_id: task.task_id, status: 'queued' } }
              : { ok: false, error: { code: 'internal', message: 'the task could not be stored' } },
          ),
        );
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

  /** The task once it has ended, or as it is when timeoutMs passes. */
  function waitForTask({ task_id, timeout_ms }: RequestOf<'tasks.wait'>): Promise<ReplyOf<'tasks.wait'>> {
    const record = store.tasks.get(task_id);
    if (!record) return Promise.reject(new AuroraError('task_not_found', `Task ${task_id} not found`));
    if (record.status !== 'queued' && record.status !== 'running') return Promise.resolve(record);
    return new Promise((resolve) => {
      const timer = deps.clock.setTimeout(() => resolve(store.tasks.get(task_id)!), timeout_ms);
      const joined = hosts.get(record.agent)?.join(task_id, () => {
        timer.cancel();
        resolve(store.tasks.get(task_id)!);
      });
      // Not held by a host here (its process went away): what the store says is all there is.
      if (joined !== true) {
        timer.cancel();
        resolve(record);
      }
    });
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
        if (!definitions.has(record.agent_type)) {
          deps.logger.error('stored agent has an unknown kind; not started', { agent: record.name, kind: record.agent_type });
        } else if (record.status === 'failed') {
          // A restart of the process is not an operator's decision that the agent is fit again.
          spawnFailed(record);
        } else resumeTasks(spawn(record), record);
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
        serveOperation(bus, subjects, 'registry.create', create, opts),
        serveOperation(bus, subjects, 'registry.update', update, opts),
        serveOperation(bus, subjects, 'registry.get', async ({ name }) => {
          const record = store.agents.get(name);
          if (!record) throw new AuroraError('agent_not_found', `Agent ${name} not found`);
          return (await withModels([record]))[0]!;
        }, opts),
        serveOperation(bus, subjects, 'registry.list', list, opts),
        serveOperation(bus, subjects, 'registry.delete', remove, opts),
        serveOperation(bus, subjects, 'registry.restart', async ({ name }) => {
          hostOf(name);
          await deps.supervisor.restartChild(name);
          return live(store.agents.get(name)!);
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
        serveOperation(bus, subjects, 'tasks.list', (query) => store.tasks.page(query), opts),
        serveOperation(bus, subjects, 'tasks.cancel', cancelTask, opts),
        serveOperation(bus, subjects, 'tasks.wait', waitForTask, opts),
      );
    },

    /** Unsubscribes; agents are stopped by their supervisor. */
    stop(): void {
      for (const s of subscriptions.splice(0)) s.unsubscribe();
    },
  };
}

export type AgentRegistry = ReturnType<typeof createAgentRegistry>;
