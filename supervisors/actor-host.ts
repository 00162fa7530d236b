// The only place an agent's actor meets the store and the bus, for every agent kind.
//
// The host owns the agent's mailbox, so queued tasks survive a restart of the actor: a crash
// costs the tasks in flight (or retries them when they asked for retries), never the queue.
// The actor itself is the supervised child: start() spawns a fresh one, a crash ends it.
// The host speaks the kind protocol of actors/kind.ts: it sends TASK while the agent has a free
// slot, performs the effects the machine asks for with the node's capabilities, and records what
// the machine says of each task.
import { createActor, type AnyActorRef } from 'xstate';
import type { AgentKind, CapabilityTable, EffectContext, HostEvent, MachineEmitted } from '../actors/kind.js';
import { isoNow, type Clock, type Timer } from '../runtime/clock.js';
import { AuroraError, describe, toErrorPayload } from '../runtime/errors.js';
import type { EventPublisher } from '../runtime/events.js';
import type { Logger } from '../runtime/logger.js';
import type { Metrics } from '../runtime/metrics.js';
import type { AgentDefinition, AgentStatus, Reply, TaskOutcome, TaskRequest, TaskResult, TaskStatus } from '../runtime/protocol/index.js';
import type { Store } from '../runtime/store/index.js';
import type { ChildExit, ChildHandle, ChildSpec } from './supervisor.js';

export interface AgentHostDeps {
  kind: Pick<AgentKind, 'machine' | 'events' | 'slots'>;
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

interface Pending {
  task: TaskRequest;
  reply: (reply: Reply<TaskResult>) => void;
  acceptedAt: number;
  startedAt: number;
  attempts: number;
  deadline: Timer;
  /** Set when the host asked the actor to abandon this task; says how the task ends. */
  abandonedWith: AuroraError | null;
  /** Index of the next streamed token of this task, across all its effects. */
  tokens: number;
  /** When the task times out, ms since the epoch. */
  deadlineAt: number;
  /** What the machine recorded about the task; written with its outcome (or at once when asked). */
  details: Record<string, unknown> | undefined;
}

interface Effect {
  readonly taskId: string;
  readonly controller: AbortController;
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
  private readonly queue: Pending[] = [];
  /** Tasks the actor is running, in start order. */
  private readonly running = new Map<string, Pending>();
  private actor: AnyActorRef | null = null;
  /** Effects in flight for the actor's running tasks, by effect id; removed once answered or abandoned. */
  private readonly effects = new Map<string, Effect>();
  private exitListener: ((exit: ChildExit) => void) | null = null;
  private lifecycle: 'starting' | 'up' | 'restarting' | 'failed' | 'stopped' = 'starting';
  private published: AgentStatus | null = null;
  private mailboxClosed = false;
  private readonly idleWaiters = new Set<() => void>();
  private logger: Logger | null = null;
  private slots: number;
  private readonly declaredEvents: ReadonlySet<string>;
  /** Threads with a task running: the thread is the unit of ordering, one task at a time each. */
  private readonly busyThreads = new Set<string>();

  constructor(
    private current: AgentDefinition,
    private readonly deps: AgentHostDeps,
  ) {
    this.slots = this.slotsOf(current);
    this.declaredEvents = new Set(deps.kind.events);
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
        return this.running.size > 0 ? 'running' : 'idle';
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
    return this.queue.length;
  }

  get runningCount(): number {
    return this.running.size;
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
    if (this.lifecycle === 'failed') {
      throw new AuroraError('agent_failed', `Agent ${this.name} has failed; restart it to run tasks`);
    }
    if (this.lifecycle === 'stopped') throw new AuroraError('agent_stopped', `Agent ${this.name} is stopped`);
    if (this.mailboxClosed) throw new AuroraError('unavailable', 'Aurora is shutting down; the task was not accepted');
    if (this.queue.length >= this.deps.mailboxSize) {
      throw new AuroraError('queue_full', `Agent ${this.name} has ${this.queue.length} tasks queued; try again later`);
    }
    const { clock, store } = this.deps;
    if (task.thread_id !== undefined) {
      const thread = store.threads.get(task.thread_id);
      if (thread === undefined || thread.agent !== this.name) {
        throw new AuroraError('thread_not_found', `Thread ${task.thread_id} not found for agent ${this.name}`);
      }
    }
    // An agent with a free slot and an empty mailbox starts the task in this same call: its row is
    // written as running straight away, one statement instead of queued-then-running.
    const startsNow = this.canStart() && this.queue.length === 0 && !this.threadBusy(task);
    if (startsNow) store.tasks.insertRunning(task, isoNow(clock));
    else store.tasks.insertQueued(task, isoNow(clock));
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
      deadline: clock.setTimeout(() => this.onDeadline(pending, timeoutMs), timeoutMs),
    };
    this.queue.push(pending);
    this.deps.metrics.mailboxDepth.inc();
    this.deps.events.publish('task.queued', { agent: this.name, task_id: task.task_id, payload: { position: this.queue.length } });
    this.pump(startsNow);
  }

  /** Aborts a queued or running task of this agent. Undefined when the task is not here. */
  cancel(taskId: string): TaskStatus | undefined {
    const err = new AuroraError('task_cancelled', `Task ${taskId} was cancelled`);
    const running = this.running.get(taskId);
    if (running) {
      this.abandon(running, err);
      return 'cancelled';
    }
    const index = this.queue.findIndex((p) => p.task.task_id === taskId);
    if (index < 0) return undefined;
    const [pending] = this.queue.splice(index, 1);
    this.deps.metrics.mailboxDepth.dec();
    this.finish(pending!, err);
    return 'cancelled';
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

  /** The agent is being deleted or the node is going down: every task still here ends with `reason`. */
  shutdown(reason: AuroraError): void {
    this.lifecycle = 'stopped';
    this.failAll(reason);
    this.announce();
  }

  /** Stops taking tasks (new ones are refused with `unavailable`); what is already here carries on. */
  closeMailbox(): void {
    this.mailboxClosed = true;
  }

  /** Resolves true once the mailbox is empty and nothing runs, false if timeoutMs passes first. */
  settle(timeoutMs: number): Promise<boolean> {
    if (this.running.size === 0 && this.queue.length === 0) return Promise.resolve(true);
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
    return this.lifecycle === 'up' && this.actor !== null && this.running.size < this.slots;
  }

  private threadBusy(task: TaskRequest): boolean {
    return task.thread_id !== undefined && this.busyThreads.has(task.thread_id);
  }

  /** The first queued task that may start now: tasks of a thread that has one running wait their turn. */
  private nextStartable(): number {
    if (this.busyThreads.size === 0) return this.queue.length > 0 ? 0 : -1;
    return this.queue.findIndex((p) => !this.threadBusy(p.task));
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
          this.abortEffects();
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
      const index = this.nextStartable();
      if (index < 0) return;
      const next = index === 0 ? this.queue.shift()! : this.queue.splice(index, 1)[0]!;
      this.deps.metrics.mailboxDepth.dec();
      this.running.set(next.task.task_id, next);
      if (next.task.thread_id !== undefined) this.busyThreads.add(next.task.thread_id);
      next.startedAt = this.deps.clock.monotonic();
      next.attempts += 1;
      if (!rowRunning) this.deps.store.tasks.markRunning(next.task.task_id, isoNow(this.deps.clock));
      rowRunning = false;
      this.deps.events.publish('task.started', {
        agent: this.name,
        task_id: next.task.task_id,
        payload: { attempt: next.attempts },
      });
      this.announceSoon();
      this.send({ type: 'TASK', task: next.task });
    }
  }

  /** Performs one effect the actor asked for and answers it, unless it was abandoned meanwhile. */
  private perform(actor: AnyActorRef, effectId: string, taskId: string, capability: string, input: unknown): void {
    this.effects.get(effectId)?.controller.abort();
    const effect: Effect = { taskId, controller: new AbortController() };
    this.effects.set(effectId, effect);
    const answer = (event: HostEvent): void => {
      if (this.effects.get(effectId) !== effect) return;
      this.effects.delete(effectId);
      if (this.actor === actor) actor.send(event);
    };
    const pending = this.running.get(taskId);
    const ctx: EffectContext = {
      agent: this.definition,
      taskId,
      task: pending?.task ?? { task_id: taskId, agent: this.name, prompt: '', parameters: {} },
      deadlineAt: pending?.deadlineAt ?? this.deps.clock.now(),
      signal: effect.controller.signal,
      token: (text) => {
        const index = pending === undefined ? 0 : pending.tokens++;
        this.deps.events.publish('task.token', { agent: this.name, task_id: taskId, payload: { token: text, index } });
      },
    };
    let result: Promise<unknown>;
    try {
      const perform = this.deps.capabilities[capability];
      if (perform === undefined) throw new Error(`No capability named ${capability} on this node`);
      result = perform(input, ctx);
    } catch (err) {
      result = Promise.reject(err);
    }
    result.then(
      (output) => answer({ type: 'effect.done', effectId, taskId, output }),
      (error: unknown) => answer({ type: 'effect.failed', effectId, taskId, error }),
    );
  }

  /** Abandons effects in flight (all, or one task's): their signals abort and their answers are ignored. */
  private abortEffects(taskId?: string): void {
    for (const [id, effect] of this.effects) {
      if (taskId !== undefined && effect.taskId !== taskId) continue;
      this.effects.delete(id);
      effect.controller.abort();
    }
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
    this.deps.events.publish(event, { agent: this.name, task_id: taskId, payload });
  }

  private onDetails(taskId: string, details: Record<string, unknown>, flush: boolean): void {
    const pending = this.running.get(taskId);
    if (pending === undefined) return;
    pending.details = details;
    if (flush) this.deps.store.tasks.setDetails(taskId, details);
  }

  /** Removes a running task; whatever it still had in flight is aborted. */
  private takeRunning(taskId: string): Pending | null {
    const pending = this.running.get(taskId);
    if (!pending) return null;
    this.release(pending);
    if (this.effects.size > 0) this.abortEffects(taskId);
    return pending;
  }

  private onDeadline(pending: Pending, timeoutMs: number): void {
    const err = new AuroraError('timeout', `Task ${pending.task.task_id} timed out after ${timeoutMs} ms`);
    if (this.running.get(pending.task.task_id) === pending) return this.abandon(pending, err);
    const index = this.queue.indexOf(pending);
    if (index < 0) return;
    this.queue.splice(index, 1);
    this.deps.metrics.mailboxDepth.dec();
    this.finish(pending, err);
  }

  /** Asks the actor to drop a running task; when it does (task.cancelled), its effects are aborted. */
  private abandon(pending: Pending, err: AuroraError): void {
    pending.abandonedWith = err;
    const taskId = pending.task.task_id;
    if (this.actor) this.send({ type: 'CANCEL', taskId });
    // No actor (restarting): nothing runs the task any more, so it ends now.
    if (!this.actor && this.running.get(taskId) === pending) {
      this.release(pending);
      this.finish(pending, err);
    }
  }

  private onCrash(actor: AnyActorRef, error: unknown): void {
    if (this.actor !== actor) return;
    this.actor = null;
    this.abortEffects();
    const reason = describe(error);
    const crashed = [...this.running.values()];
    for (const pending of crashed) this.release(pending);
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
    if (retried.length > 0) {
      this.queue.unshift(...retried);
      this.deps.metrics.mailboxDepth.inc(retried.length);
    }
    if (this.lifecycle === 'up') this.lifecycle = 'restarting';
    this.log.warn('agent actor crashed', { reason, error });
    this.announce(reason);
    this.onExit(actor, { reason: 'crash', error });
  }

  /** The task no longer runs: its slot and its thread are free. */
  private release(pending: Pending): void {
    this.running.delete(pending.task.task_id);
    if (pending.task.thread_id !== undefined) this.busyThreads.delete(pending.task.thread_id);
  }

  private onExit(actor: AnyActorRef, exit: ChildExit): void {
    if (this.actor === actor) {
      this.actor = null;
      this.abortEffects();
    }
    this.exitListener?.(exit);
  }

  private failAll(err: AuroraError): void {
    const queued = this.queue.splice(0);
    this.deps.metrics.mailboxDepth.dec(queued.length);
    for (const pending of queued) this.finish(pending, err);
    for (const pending of [...this.running.values()]) this.abandon(pending, err);
  }

  private finish(pending: Pending, outcome: TaskOutcome | AuroraError): void {
    pending.deadline.cancel();
    const { task } = pending;
    const { metrics, store, events, clock } = this.deps;
    const durationMs = Math.round((clock.monotonic() - pending.acceptedAt) * 1000) / 1000;
    const completedAt = isoNow(clock);
    if (outcome instanceof AuroraError) {
      const status = outcome.code === 'task_cancelled' ? 'cancelled' : 'failed';
      store.tasks.fail(task.task_id, {
        status,
        error: outcome.message,
        error_code: outcome.code,
        completed_at: completedAt,
        duration_ms: durationMs,
        ...(pending.details !== undefined && { details: pending.details }),
      });
      metrics.tasks.inc({ outcome: status });
      metrics.taskDuration.observe({ outcome: status }, durationMs / 1000);
      events.publish(status === 'cancelled' ? 'task.cancelled' : 'task.failed', {
        agent: this.name,
        task_id: task.task_id,
        payload: { code: outcome.code, detail: outcome.message },
      });
      this.acknowledge(pending, { ok: false, error: toErrorPayload(outcome) });
    } else {
      const result: TaskResult = {
        task_id: task.task_id,
        agent: this.name,
        result: outcome.text,
        status: 'completed',
        model: outcome.model,
        provider: this.definition.provider,
        tokens_used: outcome.promptTokens + outcome.completionTokens,
        prompt_tokens: outcome.promptTokens,
        completion_tokens: outcome.completionTokens,
        completed_at: completedAt,
        duration_ms: durationMs,
        timings: {
          queued_ms: Math.round((pending.startedAt - pending.acceptedAt) * 1000) / 1000,
          total_duration_ms: outcome.totalDurationMs,
          load_duration_ms: outcome.loadDurationMs,
          prompt_eval_duration_ms: outcome.promptEvalDurationMs,
          eval_duration_ms: outcome.evalDurationMs,
        },
        ...(task.thread_id !== undefined && { thread_id: task.thread_id }),
        ...(outcome.output !== undefined && { output: outcome.output }),
      };
      // In the same turn as the completion, hence the same transaction: a thread never holds the
      // answer of a task that is not recorded as completed.
      if (task.thread_id !== undefined && outcome.messages !== undefined) {
        store.threads.append(task.thread_id, outcome.messages, task.task_id, completedAt);
      }
      store.tasks.complete(task.task_id, {
        result: result.result,
        model: result.model,
        provider: result.provider,
        tokens_used: result.tokens_used,
        completed_at: completedAt,
        duration_ms: durationMs,
        timings: result.timings,
        ...(outcome.output !== undefined && { output: outcome.output }),
        ...(pending.details !== undefined && { details: pending.details }),
      });
      store.agents.touchLastRun(this.name, completedAt);
      metrics.tasks.inc({ outcome: 'completed' });
      metrics.taskDuration.observe({ outcome: 'completed' }, durationMs / 1000);
      metrics.tokens.inc({ direction: 'prompt' }, outcome.promptTokens);
      metrics.tokens.inc({ direction: 'completion' }, outcome.completionTokens);
      events.publish('task.completed', {
        agent: this.name,
        task_id: task.task_id,
        payload: { tokens_used: result.tokens_used, duration_ms: durationMs },
      });
      this.acknowledge(pending, { ok: true, data: result });
    }
    this.announceSoon();
    this.pump();
    if (this.running.size === 0 && this.queue.length === 0 && this.idleWaiters.size > 0) {
      for (const wake of this.idleWaiters) wake();
      this.idleWaiters.clear();
    }
  }

  /** Answers the requester once the task's outcome is committed, so a crash cannot undo what it was told. */
  private acknowledge(pending: Pending, reply: Reply<TaskResult>): void {
    this.deps.store.afterCommit((committed) =>
      pending.reply(
        committed ? reply : { ok: false, error: { code: 'internal', message: 'the task outcome could not be stored' } },
      ),
    );
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
