// The capability that performs one tool call for an agent: `{ name, arguments }` in, the text for
// the model's tool message out. Expected failures (unknown tool, invalid arguments, a refused or
// failed fetch) reject with an AuroraError, which the agent's loop turns into a tool message so
// the model can correct itself.
import type { Capability } from '../../../actors/kind.js';
import { AuroraError } from '../../../runtime/errors.js';
import type { AgentDefinition } from '../../../runtime/protocol/index.js';
import type { ToolRegistry } from './tool.js';

export interface ToolCall {
  readonly name: string;
  readonly arguments: Record<string, unknown>;
}

export interface ToolCallResult {
  readonly content: string;
}

export interface ToolCapabilityOptions {
  /**
   * The tools `agent` may call. When given, a call to any other tool is refused, so a model cannot
   * reach a tool its agent was not offered by naming it.
   */
  readonly enabled?: (agent: AgentDefinition) => readonly string[];
}

export function toolCapability(registry: ToolRegistry, options: ToolCapabilityOptions = {}): Capability {
  return async (input, ctx): Promise<ToolCallResult> => {
    const call = toolCall(input);
    if (options.enabled && !options.enabled(ctx.agent).includes(call.name)) {
      throw new AuroraError('invalid_request', `tool "${call.name}" is not enabled for agent ${ctx.agent.name}`);
    }
    return { content: await registry.run(call.name, call.arguments, ctx) };
  };
}

/**
 * A name that is not a string is the machine's bug (a defect). Arguments come from the model, so
 * arguments that are not an object are its mistake, reported back to it; absent ones mean none.
 */
function toolCall(input: unknown): ToolCall {
  const { name, arguments: args } = (input ?? {}) as { name?: unknown; arguments?: unknown };
  if (typeof name !== 'string') throw new Error(`a tool call needs a string name, got ${typeof name}`);
  if (args === undefined || args === null) return { name, arguments: {} };
  if (typeof args !== 'object' || Array.isArray(args)) {
    throw new AuroraError('invalid_request', `the arguments of a call to ${name} must be a JSON object`);
  }
  return { name, arguments: args as Record<string, unknown> };
}
