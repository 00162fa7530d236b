// The only place an agent's actor meets the store and the bus.
//
// The host owns the agent's mailbox, so queued tasks survive a restart of the actor: a crash
// costs the task in flight (or retries it when the task asked for retries), never the queue.
// The actor itself is the supervised child: start() spawns a fresh one, a crash ends it.
import { performance } from 'node:perf_hooks';
import { createActor, type AnyActorRef, type AnyStateMachine } from 'xstate';
import type { AgentDefinition, AgentStatus, Reply, TaskRequest, TaskResult, TaskStatus } from '../actors/protocol.js';
import type { LlmCall } from '../actors/catalog.js';
import type { LlmEmitted, LlmEvent, LlmInvocation } from '../actors/llm/machine.js';
import type { LlmChatResult } from '../runtime/providers/llm.js';
import { isoNow, type Clock } from '../runtime/clock.js';
import { AuroraError, describe, toErrorPayload } from '../runtime/errors.js';
import type { EventPublisher } from '../runtime/events.js';
import type { Logger } from '../runtime/logger.js';
import type { Metrics } from '../runtime/metrics.js';
import type { Store } from '../runtime/store/index.js';
import type { ChildExit, ChildHandle, ChildSpec } from './supervisor.js';

export interface AgentHostDeps {
  machine: AnyStateMachine;
  /** Performs the calls the machine asks for (`llm.call`). */
  perform: LlmCall;
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
  deadline: { cancel(): void };
  /** Set when the host asked the actor to abandon this task; says how the task ends. */
  abandonedWith: AuroraError | null;
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
  private current: Pending | null = null;
  private actor: AnyActorRef | null = null;
  /** The call in flight for the actor's running task; null once answered or abandoned. */
  private call: { readonly taskId: string; readonly controller: AbortController } | null = null;
  private exitListener: ((exit: ChildExit) => void) | null = null;
  private lifecycle: 'starting' | 'up' | 'restarting' | 'failed' | 'stopped' = 'starting';
  private published: AgentStatus | null = null;
  private mailboxClosed = false;
  private readonly idleWaiters = new Set<() => void>();
  private logger: Logger | null = null;

  constructor(
    readonly definition: AgentDefinition,
    private readonly deps: AgentHostDeps,
  ) {}

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
        return this.current ? 'running' : 'idle';
      // A new agent waits for its first actor only while the supervisor finishes other work;
      // tasks sent meanwhile queue as they would for an idle agent.
      case 'starting':
        return 'idle';
      case 'restarting':
        return 'restarting';
      default:
        return this.lifecycle;
    }
  }

  get queueDepth(): number {
    return this.queue.length;
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
    // An idle agent with an empty mailbox starts the task in this same call: its row is written
    // as running straight away, one statement instead of queued-then-running.
    const startsNow = this.lifecycle === 'up' && this.current === null && this.actor !== null && this.queue.length === 0;
    if (startsNow) this.deps.store.tasks.insertRunning(task, isoNow(this.deps.clock));
    else this.deps.store.tasks.insertQueued(task, isoNow(this.deps.clock));
    const timeoutMs = task.parameters.timeout_ms ?? this.deps.taskTimeoutMs;
    const pending: Pending = {
      task,
      reply,
      acceptedAt: performance.now(),
      startedAt: 0,
      attempts: 0,
      abandonedWith: null,
      deadline: this.deps.clock.setTimeout(() => this.onDeadline(pending, timeoutMs), timeoutMs),
    };
    this.queue.push(pending);
    this.deps.metrics.mailboxDepth.inc();
    this.deps.events.publish('task.queued', { agent: this.name, task_id: task.task_id, payload: { position: this.queue.length } });
    this.pump(startsNow);
  }

  /** Aborts a queued or running task of this agent. Undefined when the task is not here. */
  cancel(taskId: string): TaskStatus | undefined {
    const err = new AuroraError('task_cancelled', `Task ${taskId} was cancelled`);
    if (this.current?.task.task_id === taskId) {
      this.abandon(this.current, err);
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
    this.actor.send({ type: 'FAULT', reason: 'fault injection' });
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
    if (!this.current && this.queue.length === 0) return Promise.resolve(true);
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

  private spawn(): ChildHandle {
    const actor = createActor(this.deps.machine, { input: { definition: this.definition } });
    actor.on('llm.call', (e: LlmEmitted) => e.type === 'llm.call' && this.perform(actor, e.call));
    actor.on('task.done', (e: LlmEmitted) => e.type === 'task.done' && this.onDone(e.taskId, e.output));
    actor.on('task.error', (e: LlmEmitted) => e.type === 'task.error' && this.onTaskError(e.taskId, e.error));
    actor.on('task.cancelled', (e: LlmEmitted) => e.type === 'task.cancelled' && this.onCancelled(e.taskId));
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
          this.abortCall();
        }
        actor.stop();
      },
      onExit: (listener) => {
        this.exitListener = listener;
      },
    };
  }

  /** Starts the next queued task if the actor is free; `rowRunning`: its row was inserted as running. */
  private pump(rowRunning = false): void {
    if (this.lifecycle !== 'up' || this.current || !this.actor) return;
    const next = this.queue.shift();
    if (!next) return;
    this.deps.metrics.mailboxDepth.dec();
    this.current = next;
    next.startedAt = performance.now();
    next.attempts += 1;
    if (!rowRunning) this.deps.store.tasks.markRunning(next.task.task_id, isoNow(this.deps.clock));
    this.deps.events.publish('task.started', {
      agent: this.name,
      task_id: next.task.task_id,
      payload: { attempt: next.attempts },
    });
    this.announceSoon();
    this.actor.send({ type: 'TASK', task: next.task });
  }

  /** Performs the call the actor asked for and answers it, unless the call was abandoned meanwhile. */
  private perform(actor: AnyActorRef, call: LlmInvocation): void {
    this.abortCall();
    const running = { taskId: call.task.task_id, controller: new AbortController() };
    this.call = running;
    const answer = (event: LlmEvent): void => {
      if (this.call !== running) return;
      this.call = null;
      if (this.actor === actor) actor.send(event);
    };
    let result: Promise<LlmChatResult>;
    try {
      result = this.deps.perform(call, running.controller.signal);
    } catch (err) {
      result = Promise.reject(err);
    }
    result.then(
      (output) => answer({ type: 'llm.done', taskId: running.taskId, output }),
      (error: unknown) => answer({ type: 'llm.failed', taskId: running.taskId, error }),
    );
  }

  /** Abandons the call in flight: its signal aborts (closing its HTTP request) and its answer is ignored. */
  private abortCall(): void {
    const running = this.call;
    if (!running) return;
    this.call = null;
    running.controller.abort();
  }

  private onDone(taskId: string, output: LlmChatResult): void {
    const pending = this.takeCurrent(taskId);
    if (pending) this.finish(pending, output);
  }

  private onTaskError(taskId: string, error: AuroraError): void {
    const pending = this.takeCurrent(taskId);
    if (pending) this.finish(pending, pending.abandonedWith ?? error);
  }

  private onCancelled(taskId: string): void {
    if (this.call?.taskId === taskId) this.abortCall();
    const pending = this.takeCurrent(taskId);
    if (pending) this.finish(pending, pending.abandonedWith ?? new AuroraError('task_cancelled', `Task ${taskId} was cancelled`));
  }

  private takeCurrent(taskId: string): Pending | null {
    const pending = this.current;
    if (!pending || pending.task.task_id !== taskId) return null;
    this.current = null;
    return pending;
  }

  private onDeadline(pending: Pending, timeoutMs: number): void {
    const err = new AuroraError('timeout', `Task ${pending.task.task_id} timed out after ${timeoutMs} ms`);
    if (this.current === pending) return this.abandon(pending, err);
    const index = this.queue.indexOf(pending);
    if (index < 0) return;
    this.queue.splice(index, 1);
    this.deps.metrics.mailboxDepth.dec();
    this.finish(pending, err);
  }

  /** Asks the actor to drop the running task; when it does (task.cancelled), the call is aborted. */
  private abandon(pending: Pending, err: AuroraError): void {
    pending.abandonedWith = err;
    if (this.actor) this.actor.send({ type: 'CANCEL', taskId: pending.task.task_id });
    // No actor (restarting): nothing runs the task any more, so it ends now.
    if (this.current === pending && !this.actor) {
      this.current = null;
      this.finish(pending, err);
    }
  }

  private onCrash(actor: AnyActorRef, error: unknown): void {
    if (this.actor !== actor) return;
    this.actor = null;
    this.abortCall();
    const reason = describe(error);
    const pending = this.current;
    this.current = null;
    if (pending) {
      const retries = pending.task.parameters.retries ?? 0;
      if (!pending.abandonedWith && pending.attempts <= retries) {
        this.queue.unshift(pending);
        this.deps.metrics.mailboxDepth.inc();
      } else {
        this.finish(
          pending,
          pending.abandonedWith ??
            new AuroraError('agent_crashed', `Agent ${this.name} crashed while running task ${pending.task.task_id}: ${reason}`),
        );
      }
    }
    if (this.lifecycle === 'up') this.lifecycle = 'restarting';
    this.log.warn('agent actor crashed', { reason, error });
    this.announce(reason);
    this.onExit(actor, { reason: 'crash', error });
  }

  private onExit(actor: AnyActorRef, exit: ChildExit): void {
    if (this.actor === actor) {
      this.actor = null;
      this.abortCall();
    }
    this.exitListener?.(exit);
  }

  private failAll(err: AuroraError): void {
    const queued = this.queue.splice(0);
    this.deps.metrics.mailboxDepth.dec(queued.length);
    for (const pending of queued) this.finish(pending, err);
    if (this.current) this.abandon(this.current, err);
  }

  private finish(pending: Pending, outcome: LlmChatResult | AuroraError): void {
    pending.deadline.cancel();
    const { task } = pending;
    const now = performance.now();
    const durationMs = Math.round((now - pending.acceptedAt) * 1000) / 1000;
    const completedAt = isoNow(this.deps.clock);
    const { metrics, store, events } = this.deps;
    if (outcome instanceof AuroraError) {
      const status = outcome.code === 'task_cancelled' ? 'cancelled' : 'failed';
      store.tasks.fail(task.task_id, {
        status,
        error: outcome.message,
        error_code: outcome.code,
        completed_at: completedAt,
        duration_ms: durationMs,
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
      };
      store.tasks.complete(task.task_id, {
        result: result.result,
        model: result.model,
        provider: result.provider,
        tokens_used: result.tokens_used,
        completed_at: completedAt,
        duration_ms: durationMs,
        timings: result.timings,
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
    if (!this.current && this.queue.length === 0 && this.idleWaiters.size > 0) {
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
      setImmediate(announceUnsettled);
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
