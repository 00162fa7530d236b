// What an agent kind is, and the one protocol between any kind's machine and its host.
//
// A kind is a folder actors/<kind>/ exporting one AgentKind: its machine (decides, performs no
// I/O), the schema of an agent's `config`, the capabilities it asks its host to perform, and the
// event types it publishes. The host (supervisors/actor-host.ts) is generic over kinds: it feeds
// the machine tasks, performs the effects the machine asks for with the node's capabilities and
// answers them, and turns the machine's task outcomes into records, events and replies.
//
//   host → machine   TASK, CANCEL, UPDATE, STOP, FAULT, effect.done, effect.failed
//   machine → host   effect (perform `capability` with `input` for a task), task.done,
//                    task.error, task.cancelled, task.event (a kind event about a task),
//                    task.details (what the task records about itself)
//
// Expected failures are AuroraErrors: an effect that fails with one is answered with it and the
// machine decides (usually: the task fails, the machine carries on). Anything else is a defect:
// the machine ends in its `failed` final state (or throws) and its supervisor sees a crash.
import type { AnyStateMachine } from 'xstate';
import type { AgentDefinition, AgentKindDescriptor, TaskOutcome, TaskRequest } from '../runtime/protocol/index.js';
import type { AuroraError } from '../runtime/errors.js';

/** Events the host sends a machine. */
export type HostEvent =
  /** A free slot: start this task. Sent only while the machine has fewer running than its slots. */
  | { type: 'TASK'; task: TaskRequest }
  /** Drop this task (cancelled or timed out); the machine answers task.cancelled. */
  | { type: 'CANCEL'; taskId: string }
  | { type: 'STOP' }
  /** The agent's definition changed (PATCH): tasks started from now on use it; running ones keep theirs. */
  | { type: 'UPDATE'; definition: AgentDefinition }
  /** Fault injection: the machine must fail exactly like a defect would. */
  | { type: 'FAULT'; reason: string }
  | { type: 'effect.done'; effectId: string; taskId: string; output: unknown }
  | { type: 'effect.failed'; effectId: string; taskId: string; error: unknown };

/** Events a machine emits for its host. */
export type MachineEmitted =
  /** Asks the host to perform `capability`; answered with effect.done / effect.failed for `effectId`. */
  | { type: 'effect'; effectId: string; taskId: string; capability: string; input: unknown }
  /** The machine no longer needs an effect (a sibling failed, a timer is moot): the host aborts it. */
  | { type: 'effect.cancel'; effectId: string }
  | { type: 'task.done'; taskId: string; output: TaskOutcome }
  | { type: 'task.error'; taskId: string; error: AuroraError }
  | { type: 'task.cancelled'; taskId: string }
  /** A kind event about a task; `event` must be one of the kind's declared event types. */
  | { type: 'task.event'; taskId: string; event: string; payload: Record<string, unknown> }
  /**
   * What the task records about itself (its record's `details`), replacing what it said before.
   * `flush`: write it now (a step worth seeing while the task runs); otherwise it is written with
   * the task's outcome, which costs nothing extra on a task that finishes in one call.
   */
  | { type: 'task.details'; taskId: string; details: Record<string, unknown>; flush: boolean };

export const MACHINE_EMITTED_TYPES = ['effect', 'effect.cancel', 'task.done', 'task.error', 'task.cancelled', 'task.event', 'task.details'] as const;

/** The provider of kinds that call no LLM themselves (workflow agents): no model is checked. */
export const NO_PROVIDER = 'none';

/** What a capability may use while it performs one effect. */
export interface EffectContext {
  readonly agent: AgentDefinition;
  readonly taskId: string;
  /** The task the effect is for (its depth in a chain of agent calls, its thread). */
  readonly task: TaskRequest;
  /** When the task times out, in ms since the epoch: work done for it must not outlast this. */
  readonly deadlineAt: number;
  /** Aborted when the task ends, is cancelled or times out, or the actor stops or crashes. */
  readonly signal: AbortSignal;
  /** Streams a piece of the task's answer to its watchers (a `task.token` event). */
  token(text: string): void;
}

/** Performs one effect. Rejects with an AuroraError for expected failures; anything else is a defect. */
export type Capability = (input: unknown, ctx: EffectContext) => Promise<unknown>;

export type CapabilityTable = Readonly<Record<string, Capability>>;

export interface AgentKind extends AgentKindDescriptor {
  /** Input `{ definition }`; events HostEvent; emits MachineEmitted; final states `failed` and `stopped`. */
  readonly machine: AnyStateMachine;
  /** Capabilities the machine asks for; a node that lacks one refuses to run the kind. */
  readonly capabilities: readonly string[];
  /**
   * Tasks an agent runs at once; undefined leaves it to the node (AGENT_MAX_CONCURRENCY). The host
   * never sends more TASKs than this.
   */
  slots?(definition: AgentDefinition): number | undefined;
  /** Checks of a definition that need the node (its tools); a message names what is wrong. */
  check?(definition: AgentDefinition, node: NodeFacts): string | undefined;
  /** Capabilities the agent's model must have (Ollama's /api/show `capabilities`, e.g. 'tools'). */
  modelNeeds?(definition: AgentDefinition): string[];
  /**
   * Its tasks survive a restart of the process: instead of being marked `interrupted`, tasks left
   * queued or running are handed to the agent again, which resumes them (workflow runs, from their
   * checkpoints).
   */
  resumable?: boolean;
}

/** What a kind may ask of the node when it checks a definition. */
export interface NodeFacts {
  hasTool(name: string): boolean;
  toolNames(): string[];
}

/** The descriptor half of a kind: what the gateway may know without the machine. */
export function describeKind(kind: AgentKind): AgentKindDescriptor {
  const { name, description, providers, configSchema, events } = kind;
  return { name, description, providers, configSchema, events };
}
