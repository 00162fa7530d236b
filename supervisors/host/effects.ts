// The effects a host performs for its actor: each one a capability call with its own abort
// signal, answered to the actor unless it was abandoned meanwhile (the task ended, the actor
// stopped or crashed). Aborting closes whatever the capability holds open (an HTTP request).
import type { CapabilityTable, EffectContext, HostEvent } from '../../actors/kind.js';
import type { AgentDefinition, TaskRequest } from '../../runtime/protocol/index.js';

interface Effect {
  readonly taskId: string;
  readonly controller: AbortController;
}

export interface EffectRequest {
  readonly effectId: string;
  readonly capability: string;
  readonly input: unknown;
  readonly agent: AgentDefinition;
  readonly task: TaskRequest;
  readonly deadlineAt: number;
  /** Streams a token of the task's answer. */
  readonly token: (text: string) => void;
  /** Hands the answer to the actor that asked (the host checks it is still the current one). */
  readonly deliver: (event: HostEvent) => void;
}

// The map is made on the first effect: a node may hold 100,000 agents, most of them idle.
const NONE: ReadonlyMap<string, Effect> = new Map();

export class Effects {
  private inFlight: Map<string, Effect> | null = null;

  constructor(private readonly capabilities: CapabilityTable) {}

  get size(): number {
    return this.inFlight?.size ?? 0;
  }

  perform(request: EffectRequest): void {
    const { effectId, task } = request;
    const taskId = task.task_id;
    const inFlight = (this.inFlight ??= new Map());
    inFlight.get(effectId)?.controller.abort();
    const effect: Effect = { taskId, controller: new AbortController() };
    inFlight.set(effectId, effect);
    const answer = (event: HostEvent): void => {
      if (inFlight.get(effectId) !== effect) return;
      inFlight.delete(effectId);
      request.deliver(event);
    };
    const ctx: EffectContext = {
      agent: request.agent,
      taskId,
      task,
      deadlineAt: request.deadlineAt,
      signal: effect.controller.signal,
      token: request.token,
    };
    let result: Promise<unknown>;
    try {
      const perform = this.capabilities[request.capability];
      if (perform === undefined) throw new Error(`No capability named ${request.capability} on this node`);
      result = perform(request.input, ctx);
    } catch (err) {
      result = Promise.reject(err);
    }
    result.then(
      (output) => answer({ type: 'effect.done', effectId, taskId, output }),
      (error: unknown) => answer({ type: 'effect.failed', effectId, taskId, error }),
    );
  }

  /** Abandons one effect: its signal aborts and its answer is ignored. */
  abortOne(effectId: string): void {
    const effect = this.inFlight?.get(effectId);
    if (effect === undefined) return;
    this.inFlight!.delete(effectId);
    effect.controller.abort();
  }

  /** Abandons effects in flight (all, or one task's): their signals abort and their answers are ignored. */
  abort(taskId?: string): void {
    const inFlight = this.inFlight ?? NONE;
    if (inFlight.size === 0) return;
    for (const [id, effect] of inFlight) {
      if (taskId !== undefined && effect.taskId !== taskId) continue;
      this.inFlight!.delete(id);
      effect.controller.abort();
    }
  }
}
