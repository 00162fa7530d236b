// The only place an agent's actor meets the store and the bus, for every agent kind.
//
// The host owns the agent's mailbox, so queued tasks survive a restart of the actor: a crash
// costs the tasks in flight (or retries them when they asked for retries), never the queue.
// The actor itself is the supervised child: start() spawns a fresh one, a crash ends it.
// The host speaks the kind protocol of actors/kind.ts: it sends TASK while the agent has a free
// slot, performs the effects the machine asks for with the node's capabilities, and records what
// the machine says of each task.
import { createActor, type AnyActorRef } from 'xstate';
import type { AgentKind, CapabilityTable, HostEvent, MachineEmitted } from '../actors/kind.js';
import { isoNow, type Clock } from '../runtime/clock.js';
import { AuroraError, describe } from '../runtime/errors.js';
import type { EventPublisher } from '../runtime/events.js';
import type { Logger } from '../runtime/logger.js';
import type { Metrics } from '../runtime/metrics.js';
import type { AgentDefinition, AgentStatus, Reply, TaskOutcome, TaskRequest, TaskResult, TaskStatus } from '../runtime/protocol/index.js';
import type { Store } from '../runtime/store/index.js';
import { Effects } from './host/effects.js';
import { recordOutcome } from './host/outcome.js';
import { Mailbox } from './host/mailbox.js';
import type { Pending } from './host/pending.js';
import type { ChildExit, ChildHandle, ChildSpec } from './supervisor.js';

export interface AgentHostDeps {
  /** This incarnation of the agent (AgentRecord.agent_id): the threads it may continue carry it. */
  agentId: string;
  kind: Pick<AgentKind, 'machine' | 'events' | 'slots' | 'resumable'>;
  /** Slots of an agent whose kind leaves it to the node (AGENT_MAX_CONCURRENCY). */
  defaultSlots: number;
  /** The node's capabilities; the host performs the machine's effects with them. */
  capabilities: CapabilityTable;
  store: Store;
  events: EventPublisher;
  metrics: Metrics;
  clock: Clock;
  logger: Logger;
  mailboxSize: number;
  taskTimeoutMs: number;
}

// Hosts whose status moved with a task start or end, announced once at the end of the turn. A
// task that starts and ends within one turn leaves the agent as it was: no running/idle pair is
// published for a state nobody could have acted on. Lifecycle changes (restarting, failed,
// stopped, a fresh actor) are announced at once.
const unsettled = new Set<AgentHost>();
let settleScheduled = false;
function announceUnsettled(): void {
  settleScheduled = false;
  for (const host of unsettled) host.announceStatus();
  unsettled.clear();
}

export class AgentHost {
  /** Queued and running tasks; it outlives the actor, so a crash costs only what was running. */
  private readonly mailbox: Mailbox;
  private actor: AnyActorRef | null = null;
  /** Effects in flight for the actor's running tasks; abandoned when their task ends or the actor goes. */
  private readonly effects: Effects;
  private exitListener: ((exit: ChildExit) => void) | null = null;
  private lifecycle: 'starting' | 'up' | 'restarting' | 'failed' | 'stopped' = 'starting';
  private published: AgentStatus | null = null;
  private mailboxClosed = false;
  private readonly idleWaiters = new Set<() => void>();
  private logger: Logger | null = null;
  private slots: number;
  private readonly declaredEvents: ReadonlySet<string>;

  constructor(
    private current: AgentDefinition,
    private readonly deps: AgentHostDeps,
  ) {
    this.slots = this.slotsOf(current);
    this.declaredEvents = new Set(deps.kind.events);
    this.effects = new Effects(deps.capabilities);
    this.mailbox = new Mailbox(deps.metrics);
  }

  /** The definition new tasks run with. */
  get definition(): AgentDefinition {
    return this.current;
  }

  private slotsOf(definition: AgentDefinition): number {
    return Math.max(1, this.deps.kind.slots?.(definition) ?? this.deps.defaultSlots);
  }

  /** Made on first use: most agents never log, and one node may host 100,000 of them. */
  private get log(): Logger {
    return (this.logger ??= this.deps.logger.child({ agent: this.definition.name }));
  }

  get name(): string {
    return this.definition.name;
  }

  get status(): AgentStatus {
    switch (this.lifecycle) {
      case 'up':
        return this.mailbox.runningCount > 0 ? 'running' : 'idle';
      // A new agent waits for its first actor only while the supervisor finishes other work;
      // tasks sent meanwhile queue as they would for an idle agent.
      case 'starting':
        return 'idle';
      case 'restarting':
        return 'restarting';
      case 'failed':
      case 'stopped':
        return this.lifecycle;
    }
  }

  get queueDepth(): number {
    return this.mailbox.queued;
  }

  get runningCount(): number {
    return this.mailbox.runningCount;
  }

  /**
   * A new definition (PATCH): tasks that start from now on run with it; running ones keep theirs
   * and queued ones stay queued. More slots start queued tasks at once.
   */
  update(definition: AgentDefinition): void {
    this.current = definition;
    this.slots = this.slotsOf(definition);
    this.send({ type: 'UPDATE', definition });
    this.pump();
  }

  /** The supervised child: each start() is a fresh actor incarnation. */
  childSpec(restart: ChildSpec['restart'] = 'permanent'): ChildSpec {
    return {
      id: this.name,
      kind: this.definition.agent_type,
      restart,
      start: () => this.spawn(),
    };
  }

  /** Accepts a task into the mailbox; throws AuroraError when it cannot be accepted. */
  submit(task: TaskRequest, reply: (reply: Reply<TaskResult>) => void): void {
    this.accept(task, reply, true);
  }

  /**
   * Takes back a task a previous process left queued or running (agents of resumable kinds): its
   * row exists already, nobody waits for its reply (tasks.wait may join it), and its timeout starts
   * again from now. The mailbox bound does not apply: these tasks were accepted long ago.
   */
  resume(task: TaskRequest): void {
    this.accept(task, () => {}, false);
  }

  private accept(task: TaskRequest, reply: (reply: Reply<TaskResult>) => void, fresh: boolean): void {
    if (this.lifecycle === 'failed') {
      throw new AuroraError('agent_failed', `Agent ${this.name} has failed; restart it to run tasks`);
    }
    if (this.lifecycle === 'stopped') throw new AuroraError('agent_stopped', `Agent ${this.name} is stopped`);
    if (this.mailboxClosed) throw new AuroraError('unavailable', 'Aurora is shutting down; the task was not accepted');
    if (fresh && this.mailbox.queued >= this.deps.mailboxSize) {
      throw new AuroraError('queue_full', `Agent ${this.name} has ${this.mailbox.queued} tasks queued; try again later`);
    }
    const { clock, store } = this.deps;
    if (fresh && task.thread_id !== undefined) {
      const thread = store.threads.get(task.thread_id);
      // An agent deleted and created again under the same name is a new agent: its threads are not the old one's.
      if (thread === undefined || thread.agent_id !== this.deps.agentId) {
        throw new AuroraError('thread_not_found', `Thread ${task.thread_id} not found for agent ${this.name}`);
      }
    }
    // An agent with a free slot and an empty mailbox starts the task in this same call: its row is
    // written as running straight away, one statement instead of queued-then-running.
    const startsNow = fresh && this.canStart() && this.mailbox.startsAtOnce(task);
    if (startsNow) store.tasks.insertRunning(task, isoNow(clock));
    else if (fresh) store.tasks.insertQueued(task, isoNow(clock));
    const timeoutMs = task.parameters.timeout_ms ?? this.deps.taskTimeoutMs;
    const pending: Pending = {
      task,
      reply,
      acceptedAt: clock.monotonic(),
      startedAt: 0,
      attempts: 0,
      abandonedWith: null,
      tokens: 0,
      deadlineAt: clock.now() + timeoutMs,
      details: undefined,
      joiners: null,
      deadline: clock.setTimeout(() => this.onDeadline(pending, timeoutMs), timeoutMs),
    };
    const position = this.mailbox.enqueue(pending);
    this.deps.events.publish('task.queued', { agent: this.name, task_id: task.task_id, payload: { position }, trace: task.trace });
    this.pump(startsNow);
  }

  /** Aborts a queued or running task of this agent. Undefined when the task is not here. */
  cancel(taskId: string): TaskStatus | undefined {
    const err = new AuroraError('task_cancelled', `Task ${taskId} was cancelled`);
    const running = this.mailbox.runningTask(taskId);
    if (running) {
      this.abandon(running, err);
      return 'cancelled';
    }
    const pending = this.mailbox.unqueue((p) => p.task.task_id === taskId);
    if (pending === undefined) return undefined;
    this.finish(pending, err);
    return 'cancelled';
  }

  /** Hears the outcome of a queued or running task too. False when the task is not here. */
  join(taskId: string, listener: (reply: Reply<TaskResult>) => void): boolean {
    const pending = this.mailbox.runningTask(taskId) ?? this.mailbox.queuedTask(taskId);
    if (pending === undefined) return false;
    (pending.joiners ??= []).push(listener);
    return true;
  }

  /** Fault injection: makes the actor throw, exactly like a defect would. */
  injectFault(): void {
    if (!this.actor) throw new AuroraError('agent_failed', `Agent ${this.name} has no running actor to crash`);
    this.send({ type: 'FAULT', reason: 'fault injection' });
  }

  /** The supervisor spent this agent's restart budget: it stays `failed` until an operator restarts it. */
  markFailed(reason: string): void {
    this.lifecycle = 'failed';
    this.failAll(new AuroraError('agent_failed', `Agent ${this.name} has failed: ${reason}`));
    this.deps.store.agents.setStatus(this.name, 'failed');
    this.announce(reason);
  }

  /**
   * The agent had spent its restart budget when the previous process stopped (its stored status
   * says `failed`): it is held without an actor, refusing tasks, until an operator restarts it.
   */
  restoreFailed(): void {
    this.lifecycle = 'failed';
  }

  /** The agent is being deleted or the node is going down: every task still here ends with `reason`. */
  shutdown(reason: AuroraError): void {
    this.lifecycle = 'stopped';
    this.failAll(reason);
    this.announce();
  }

  /** Its tasks outlive the process (a resumable kind): suspend() at shutdown instead of settling them. */
  get resumable(): boolean {
    return this.deps.kind.resumable === true;
  }

  /**
   * Shutdown of a resumable agent: its actor stops and its effects are aborted (steps in flight are
   * stopped and recorded so), but its tasks stay queued or running in the store, without an
   * outcome, for the next process to resume (registry.restore).
   */
  suspend(): void {
    this.lifecycle = 'stopped';
    this.mailboxClosed = true;
    const actor = this.actor;
    this.actor = null;
    this.effects.abort();
    actor?.stop();
    for (const pending of [...this.mailbox.drain(), ...this.mailbox.runningTasks()]) {
      pending.deadline.cancel();
      this.mailbox.release(pending);
    }
  }

  /** Stops taking tasks (new ones are refused with `unavailable`); what is already here carries on. */
  closeMailbox(): void {
    this.mailboxClosed = true;
  }

  /** Resolves true once the mailbox is empty and nothing runs, false if timeoutMs passes first. */
  settle(timeoutMs: number): Promise<boolean> {
    if (this.mailbox.empty) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = this.deps.clock.setTimeout(() => {
        this.idleWaiters.delete(done);
        resolve(false);
      }, timeoutMs);
      const done = () => {
        timer.cancel();
        resolve(true);
      };
      this.idleWaiters.add(done);
    });
  }

  private canStart(): boolean {
    return this.lifecycle === 'up' && this.actor !== null && this.mailbox.runningCount < this.slots;
  }

  private send(event: HostEvent): void {
    this.actor?.send(event);
  }

  private spawn(): ChildHandle {
    const actor = createActor(this.deps.kind.machine, { input: { definition: this.definition } });
    actor.on('*', (e: MachineEmitted) => this.onEmitted(actor, e));
    actor.subscribe({
      next: (snapshot) => {
        if (snapshot.status !== 'done' || this.actor !== actor) return;
        if (snapshot.value === 'failed') this.onCrash(actor, (snapshot.context as { failure: unknown }).failure);
        else this.onExit(actor, { reason: 'normal' });
      },
      error: (error) => this.onCrash(actor, error),
    });
    this.actor = actor;
    actor.start();
    if (this.lifecycle !== 'stopped') {
      if (this.lifecycle === 'failed') this.deps.store.agents.setStatus(this.name, 'idle');
      this.lifecycle = 'up';
    }
    this.announce();
    this.pump();
    return {
      stop: async () => {
        if (this.actor === actor) {
          this.actor = null;
          this.effects.abort();
        }
        actor.stop();
      },
      onExit: (listener) => {
        this.exitListener = listener;
      },
    };
  }

  private onEmitted(actor: AnyActorRef, e: MachineEmitted): void {
    switch (e.type) {
      case 'effect':
        return this.perform(actor, e.effectId, e.taskId, e.capability, e.input);
      case 'effect.cancel':
        return this.effects.abortOne(e.effectId);
      case 'task.done':
        return this.onDone(e.taskId, e.output);
      case 'task.error':
        return this.onTaskError(e.taskId, e.error);
      case 'task.cancelled':
        return this.onCancelled(e.taskId);
      case 'task.event':
        return this.onKindEvent(e.taskId, e.event, e.payload);
      case 'task.details':
        return this.onDetails(e.taskId, e.details, e.flush);
    }
  }

  /** Starts queued tasks while a slot is free; `rowRunning`: the first one's row was inserted as running. */
  private pump(rowRunning = false): void {
    while (this.canStart()) {
      const next = this.mailbox.startNext();
      if (next === undefined) return;
      next.startedAt = this.deps.clock.monotonic();
      next.attempts += 1;
      if (!rowRunning) this.deps.store.tasks.markRunning(next.task.task_id, isoNow(this.deps.clock));
      rowRunning = false;
      this.deps.events.publish('task.started', {
        agent: this.name,
        task_id: next.task.task_id,
        payload: { attempt: next.attempts },
        trace: next.task.trace,
      });
      this.announceSoon();
      this.send({ type: 'TASK', task: next.task });
    }
  }

  /** Performs one effect the actor asked for; its answer reaches this actor only if it is still the current one. */
  private perform(actor: AnyActorRef, effectId: string, taskId: string, capability: string, input: unknown): void {
    const pending = this.mailbox.runningTask(taskId);
    this.effects.perform({
      effectId,
      capability,
      input,
      agent: this.definition,
      task: pending?.task ?? { task_id: taskId, agent: this.name, prompt: '', parameters: {} },
      deadlineAt: pending?.deadlineAt ?? this.deps.clock.now(),
      token: (text) => {
        const index = pending === undefined ? 0 : pending.tokens++;
        this.deps.events.publish('task.token', {
          agent: this.name,
          task_id: taskId,
          payload: { token: text, index },
          trace: pending?.task.trace,
        });
      },
      deliver: (event: HostEvent) => {
        if (this.actor === actor) actor.send(event);
      },
    });
  }

  private onDone(taskId: string, output: TaskOutcome): void {
    const pending = this.takeRunning(taskId);
    if (pending) this.finish(pending, output);
  }

  private onTaskError(taskId: string, error: AuroraError): void {
    const pending = this.takeRunning(taskId);
    if (pending) this.finish(pending, pending.abandonedWith ?? error);
  }

  private onCancelled(taskId: string): void {
    const pending = this.takeRunning(taskId);
    if (pending) this.finish(pending, pending.abandonedWith ?? new AuroraError('task_cancelled', `Task ${taskId} was cancelled`));
  }

  private onKindEvent(taskId: string, event: string, payload: Record<string, unknown>): void {
    if (!this.declaredEvents.has(event)) {
      // A machine publishing what its kind does not declare is a bug in the kind; clients filter on
      // declared types, so the event is dropped rather than sent where nobody expects it.
      this.log.error('machine emitted an undeclared event type; dropped', { event, task_id: taskId });
      return;
    }
    this.deps.events.publish(event, { agent: this.name, task_id: taskId, payload, trace: this.mailbox.runningTask(taskId)?.task.trace });
  }

  private onDetails(taskId: string, details: Record<string, unknown>, flush: boolean): void {
    const pending = this.mailbox.runningTask(taskId);
    if (pending === undefined) return;
    pending.details = details;
    if (flush) this.deps.store.tasks.setDetails(taskId, details);
  }

  /** Removes a running task; whatever it still had in flight is aborted. */
  private takeRunning(taskId: string): Pending | null {
    const pending = this.mailbox.runningTask(taskId);
    if (!pending) return null;
    this.mailbox.release(pending);
    this.effects.abort(taskId);
    return pending;
  }

  private onDeadline(pending: Pending, timeoutMs: number): void {
    const err = new AuroraError('timeout', `Task ${pending.task.task_id} timed out after ${timeoutMs} ms`);
    if (this.mailbox.runningTask(pending.task.task_id) === pending) return this.abandon(pending, err);
    if (this.mailbox.unqueue((p) => p === pending) === undefined) return;
    this.finish(pending, err);
  }

  /** Asks the actor to drop a running task; when it does (task.cancelled), its effects are aborted. */
  private abandon(pending: Pending, err: AuroraError): void {
    pending.abandonedWith = err;
    const taskId = pending.task.task_id;
    if (this.actor) this.send({ type: 'CANCEL', taskId });
    // No actor (restarting): nothing runs the task any more, so it ends now.
    if (!this.actor && this.mailbox.runningTask(taskId) === pending) {
      this.mailbox.release(pending);
      this.finish(pending, err);
    }
  }

  private onCrash(actor: AnyActorRef, error: unknown): void {
    if (this.actor !== actor) return;
    this.actor = null;
    this.effects.abort();
    const reason = describe(error);
    const crashed = this.mailbox.runningTasks();
    for (const pending of crashed) this.mailbox.release(pending);
    // Retried tasks go back to the front of the mailbox in the order they started.
    const retried: Pending[] = [];
    for (const pending of crashed) {
      const retries = pending.task.parameters.retries ?? 0;
      if (!pending.abandonedWith && pending.attempts <= retries) {
        retried.push(pending);
      } else {
        this.finish(
          pending,
          pending.abandonedWith ??
            new AuroraError('agent_crashed', `Agent ${this.name} crashed while running task ${pending.task.task_id}: ${reason}`),
        );
      }
    }
    this.mailbox.requeue(retried);
    if (this.lifecycle === 'up') this.lifecycle = 'restarting';
    this.log.warn('agent actor crashed', { reason, error });
    this.announce(reason);
    this.onExit(actor, { reason: 'crash', error });
  }

  private onExit(actor: AnyActorRef, exit: ChildExit): void {
    if (this.actor === actor) {
      this.actor = null;
      this.effects.abort();
    }
    this.exitListener?.(exit);
  }

  private failAll(err: AuroraError): void {
    for (const pending of this.mailbox.drain()) this.finish(pending, err);
    for (const pending of this.mailbox.runningTasks()) this.abandon(pending, err);
  }

  private finish(pending: Pending, outcome: TaskOutcome | AuroraError): void {
    recordOutcome(this.deps, this.definition, pending, outcome);
    this.announceSoon();
    this.pump();
    if (this.mailbox.empty && this.idleWaiters.size > 0) {
      for (const wake of this.idleWaiters) wake();
      this.idleWaiters.clear();
    }
  }

  /** Publishes agent.status now if the visible status differs from the last one published. */
  announceStatus(): void {
    this.announce();
  }

  private announceSoon(): void {
    unsettled.add(this);
    if (!settleScheduled) {
      settleScheduled = true;
      this.deps.clock.setImmediate(announceUnsettled);
    }
  }

  /** Publishes agent.status when the visible status changed. */
  private announce(reason?: string): void {
    const status = this.status;
    if (status === this.published) return;
    this.published = status;
    this.deps.events.publish('agent.status', {
      agent: this.name,
      payload: reason === undefined ? { status } : { status, reason },
    });
  }
}
