// What a tool is: the spec a model reads (name, description, JSON Schema of its arguments) and a
// runner that turns validated arguments into the text handed back to the model. A family serves
// every name under one prefix (`agent:<name>`) when the tools are not known up front.
import type { EffectContext } from '../../../actors/kind.js';
import type { Clock } from '../../../runtime/clock.js';

export interface ToolSpec {
  readonly name: string;
  readonly description: string;
  /** JSON Schema of the arguments object; arguments are validated against it before run(). */
  readonly parameters: Readonly<Record<string, unknown>>;
}

export interface ToolContext extends EffectContext {
  /** The agent's config section for this tool (`config.http_fetch`); undefined when absent. */
  readonly settings: unknown;
  readonly clock: Clock;
}

export interface Tool {
  readonly spec: ToolSpec;
  /** The agent config key holding this tool's settings; default: the tool's name. */
  readonly configKey?: string;
  /**
   * Returns the text handed back to the model as the tool message. Rejects with an AuroraError
   * for expected failures (the loop shows it to the model); anything else is a defect.
   */
  run(args: Record<string, unknown>, ctx: ToolContext): Promise<string>;
  /** The task ended: drop whatever the tool holds for it. */
  release?(taskId: string): void;
}

export interface ToolFamily {
  /** Every tool name starting with this belongs to the family, e.g. 'agent:'. */
  readonly prefix: string;
  /** The agent config key holding the family's settings; default: the prefix without its final ':' or '.'. */
  readonly configKey?: string;
  /** The spec of `name` (which starts with the prefix), or undefined when the family has no such tool. */
  spec(name: string): ToolSpec | undefined;
  run(name: string, args: Record<string, unknown>, ctx: ToolContext): Promise<string>;
  /** The task ended: drop whatever the family holds for it. */
  release?(taskId: string): void;
}

export interface ToolRegistry {
  has(name: string): boolean;
  /** The specs to offer a model, in the order asked; an unknown name is an invalid_request. */
  specs(names: readonly string[]): ToolSpec[];
  /** Validates `args` against the tool's parameters and runs it; invalid_request names the bad field. */
  run(name: string, args: Record<string, unknown>, ctx: EffectContext): Promise<string>;
  /** The single tools' names (a family's names are open-ended and not listed). */
  names(): string[];
  /** The families' prefixes. */
  prefixes(): string[];
  /** Tells every tool and family that the task ended. */
  release(taskId: string): void;
}
