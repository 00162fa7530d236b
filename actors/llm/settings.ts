// The settings a task actually runs with: the agent's definition, overridden by what the task's
// parameters may override. Recorded on the task, so what ran can always be read back.
import type { AgentDefinition, ModelOptions, TaskRequest } from '../../runtime/protocol/index.js';
import { DEFAULT_MAX_TURNS, DEFAULT_NUM_CTX, DEFAULT_TOOL_TIMEOUT_MS, type LlmConfig } from './config.js';

export const DEFAULT_MAX_MESSAGES = 200;
const MAX_DEFAULT_RESERVE = 1024;

export interface EffectiveSettings {
  model: string;
  provider: string;
  system: string | null;
  /** num_ctx is always set: Aurora must know the window to never send more than fits. */
  options: ModelOptions & { num_ctx: number };
  keep_alive: string | number | null;
  tools: string[];
  output_schema: Record<string, unknown> | null;
  max_turns: number;
  tool_timeout_ms: number;
  max_messages: number;
  reserve_tokens: number;
}

const OPTION_KEYS = [
  'temperature',
  'top_p',
  'top_k',
  'min_p',
  'num_ctx',
  'num_predict',
  'stop',
  'seed',
  'repeat_penalty',
  'presence_penalty',
  'frequency_penalty',
] as const satisfies readonly (keyof ModelOptions)[];

export function effectiveSettings(definition: AgentDefinition, task: TaskRequest): EffectiveSettings {
  const config = definition.config as LlmConfig;
  const p = task.parameters;
  const options: ModelOptions = { ...config.options };
  for (const key of OPTION_KEYS) {
    const value = p[key];
    if (value !== undefined) (options as Record<string, unknown>)[key] = value;
  }
  if (p.max_tokens !== undefined) options.num_predict = p.max_tokens;
  const numCtx = options.num_ctx ?? DEFAULT_NUM_CTX;
  const predict = options.num_predict !== undefined && options.num_predict > 0 ? options.num_predict : undefined;
  return {
    model: definition.model_name,
    provider: definition.provider,
    system: p.system ?? config.system ?? null,
    options: { ...options, num_ctx: numCtx },
    keep_alive: p.keep_alive ?? config.keep_alive ?? null,
    tools: [...(config.tools ?? [])],
    output_schema: p.output_schema ?? config.output_schema ?? null,
    max_turns: p.max_turns ?? config.max_turns ?? DEFAULT_MAX_TURNS,
    tool_timeout_ms: config.tool_timeout_ms ?? DEFAULT_TOOL_TIMEOUT_MS,
    max_messages: config.memory?.max_messages ?? DEFAULT_MAX_MESSAGES,
    reserve_tokens: config.memory?.reserve_tokens ?? predict ?? Math.min(MAX_DEFAULT_RESERVE, Math.floor(numCtx / 4)),
  };
}
