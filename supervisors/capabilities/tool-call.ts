// `tool.call`: one tool call of an agent's tool loop, bounded by the agent's tool_timeout_ms and
// the task's own deadline. A tool that overruns is abandoned (its signal aborts) and the model is
// told it timed out.
import type { Capability, EffectContext } from '../../actors/kind.js';
import type { ToolCallInput, ToolCallOutput } from '../../actors/llm/effects.js';
import type { Clock } from '../../runtime/clock.js';
import { AuroraError } from '../../runtime/errors.js';
import type { ToolRegistry } from './tools/index.js';

export function toolCall(tools: ToolRegistry, clock: Clock): Capability {
  return async (input, ctx): Promise<ToolCallOutput> => {
    const call = input as ToolCallInput;
    const enabled = (ctx.agent.config as { tools?: string[] }).tools ?? [];
    // The model names the tool: one its agent was not given is refused, whatever the registry holds.
    if (!enabled.includes(call.name)) {
      throw new AuroraError('invalid_request', `tool ${call.name} is not enabled for agent ${ctx.agent.name}`);
    }
    const limitMs = Math.min(call.timeout_ms, Math.max(0, ctx.deadlineAt - clock.now()));
    const controller = new AbortController();
    const abort = () => controller.abort(ctx.signal.reason);
    ctx.signal.addEventListener('abort', abort, { once: true });
    let timer: { cancel(): void } | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = clock.setTimeout(() => {
        const err = new AuroraError('timeout', `tool ${call.name} took longer than ${limitMs} ms`);
        controller.abort(err);
        reject(err);
      }, limitMs);
    });
    const scoped: EffectContext = {
      agent: ctx.agent,
      taskId: ctx.taskId,
      task: ctx.task,
      deadlineAt: Math.min(ctx.deadlineAt, clock.now() + limitMs),
      signal: controller.signal,
      token: () => {},
    };
    try {
      // A tool that ignores its signal is not waited for: the race ends the call either way.
      const content = await Promise.race([tools.run(call.name, call.arguments, scoped), timedOut]);
      return { content };
    } finally {
      timer?.cancel();
      ctx.signal.removeEventListener('abort', abort);
    }
  };
}
