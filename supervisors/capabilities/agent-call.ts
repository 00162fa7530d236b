// `agent:<name>` tools: an agent asks another agent, over the bus (its address, never an object),
// with what is left of its own deadline and one more level of depth. Cancelling the caller's task
// cancels the callee's.
import type { Bus } from '../../runtime/bus/bus.js';
import type { Clock } from '../../runtime/clock.js';
import type { Config } from '../../runtime/config.js';
import { AuroraError } from '../../runtime/errors.js';
import { newTaskId } from '../../runtime/ids.js';
import type { Logger } from '../../runtime/logger.js';
import { AGENT_NAME_PATTERN, type AgentReplyOf, type AgentRequestOf } from '../../runtime/protocol/index.js';
import { call } from '../../runtime/rpc.js';
import type { Subjects } from '../../runtime/subjects.js';
import type { ToolContext, ToolFamily, ToolSpec } from './tools/index.js';

export const AGENT_TOOL_PREFIX = 'agent:';
const NAME = new RegExp(AGENT_NAME_PATTERN, 'u');
/** Kept back from the caller's deadline so its own answer can still travel after the callee's. */
const DEADLINE_MARGIN_MS = 50;

export interface AgentCallDeps {
  bus: Bus;
  subjects: Subjects;
  config: Pick<Config, 'agentCallMaxDepth' | 'busRequestTimeoutMs'>;
  clock: Clock;
  logger: Logger;
}

export function agentCallFamily(deps: AgentCallDeps): ToolFamily {
  const { bus, subjects, config, clock } = deps;
  const spec = (name: string): ToolSpec | undefined => {
    const agent = name.slice(AGENT_TOOL_PREFIX.length);
    if (!NAME.test(agent)) return undefined;
    return {
      name,
      description: `Ask the agent "${agent}" to do something. It answers in text; give it everything it needs in the prompt.`,
      parameters: {
        type: 'object',
        properties: { prompt: { type: 'string', minLength: 1, maxLength: 100_000, description: 'What to ask the agent' } },
        required: ['prompt'],
        additionalProperties: false,
      },
    };
  };

  async function run(name: string, args: Record<string, unknown>, ctx: ToolContext): Promise<string> {
    const agent = name.slice(AGENT_TOOL_PREFIX.length);
    const depth = (ctx.task.depth ?? 0) + 1;
    if (depth > config.agentCallMaxDepth) {
      throw new AuroraError(
        'invalid_request',
        `calling ${agent} would make a chain of ${depth} agent calls; AGENT_CALL_MAX_DEPTH is ${config.agentCallMaxDepth}`,
      );
    }
    const remainingMs = Math.floor(ctx.deadlineAt - clock.now()) - DEADLINE_MARGIN_MS;
    if (remainingMs <= 0) throw new AuroraError('timeout', `no time left to call agent ${agent}`);
    const request: AgentRequestOf<'task'> = {
      task_id: newTaskId(clock),
      agent,
      prompt: String(args.prompt),
      parameters: { timeout_ms: remainingMs },
      depth,
    };
    if (ctx.signal.aborted) throw new AuroraError('task_cancelled', 'the calling task was cancelled');
    const cancel = () => {
      // The callee's task runs on its own node: it is told over the bus, and its answer ignored.
      call(bus, subjects.agent(agent, 'cancel'), { task_id: request.task_id }, config.busRequestTimeoutMs).catch((err: unknown) =>
        deps.logger.debug('cancel of a called agent task found nothing to cancel', { agent, task_id: request.task_id, err }),
      );
    };
    ctx.signal.addEventListener('abort', cancel, { once: true });
    try {
      const reply = await call<AgentReplyOf<'task'>>(
        bus,
        subjects.agent(agent, 'task'),
        request,
        remainingMs + config.busRequestTimeoutMs,
      );
      return reply.output === undefined ? reply.result : JSON.stringify(reply.output);
    } catch (err) {
      if (ctx.signal.aborted) throw new AuroraError('task_cancelled', 'the calling task was cancelled');
      if (err instanceof AuroraError) throw new AuroraError(err.code, `agent ${agent}: ${err.message}`, { cause: err });
      throw err;
    } finally {
      ctx.signal.removeEventListener('abort', cancel);
    }
  }

  return { prefix: AGENT_TOOL_PREFIX, configKey: 'agent_calls', spec, run };
}
