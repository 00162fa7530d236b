// What an LLM conversation is made of on the wire: model options, messages, tool calls. Agents'
// configs, task parameters and threads are built from these.
import { Type, type Static } from '@sinclair/typebox';
import { IsoTime, Nullable } from './common.js';

/** Ollama's model options that Aurora lets agents and tasks set (closed: a typo is refused by name). */
export const modelOptionFields = {
  temperature: Type.Optional(Type.Number({ minimum: 0, maximum: 2, description: 'Sampling temperature' })),
  top_p: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'Nucleus sampling: keep the tokens of this much probability' })),
  top_k: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000, description: 'Sample among this many most likely tokens' })),
  min_p: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'Drop tokens less likely than this share of the most likely one' })),
  num_ctx: Type.Optional(Type.Integer({ minimum: 256, maximum: 1_048_576, description: 'Context window in tokens' })),
  num_predict: Type.Optional(Type.Integer({ minimum: -2, maximum: 1_000_000, description: 'Most tokens generated (-1: no limit)' })),
  stop: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { maxItems: 16, description: 'Stop sequences' })),
  seed: Type.Optional(Type.Integer({ description: 'Random seed: the same seed and prompt give the same answer' })),
  repeat_penalty: Type.Optional(Type.Number({ minimum: 0, maximum: 10, description: 'How strongly to penalise repetitions' })),
  presence_penalty: Type.Optional(Type.Number({ minimum: -2, maximum: 2, description: 'Penalty on tokens already present' })),
  frequency_penalty: Type.Optional(Type.Number({ minimum: -2, maximum: 2, description: 'Penalty growing with how often a token appeared' })),
};
export const ModelOptions = Type.Object(modelOptionFields, { additionalProperties: false });
export type ModelOptions = Static<typeof ModelOptions>;

/** A JSON Schema the model's answer must match; checked when the agent is defined or the task sent. */
export const OutputSchema = Type.Record(Type.String(), Type.Unknown(), {
  type: 'object',
  description: 'JSON Schema of the structured answer (sent to Ollama as `format`, then validated)',
});

/** Ollama's keep_alive: a duration such as "5m" or "1h30m", or seconds (0 unloads after the call, -1 keeps it). */
export const KeepAlive = Type.Union([
  Type.String({ pattern: '^(-1|0|\\d+(\\.\\d+)?(ns|us|µs|ms|s|m|h)(\\d+(\\.\\d+)?(ns|us|µs|ms|s|m|h))*)$', maxLength: 32 }),
  Type.Integer({ minimum: -1 }),
]);

export const ToolCall = Type.Object({
  name: Type.String({ description: 'The tool the model called' }),
  arguments: Type.Record(Type.String(), Type.Unknown(), { description: 'The arguments it called it with' }),
});
export type ToolCall = Static<typeof ToolCall>;

export const MESSAGE_ROLES = ['system', 'user', 'assistant', 'tool'] as const;
export type MessageRole = (typeof MESSAGE_ROLES)[number];

/** One message of a thread, as stored and answered. */
export const ThreadMessage = Type.Object({
  seq: Type.Integer({ description: 'Position in the thread, from 1' }),
  role: Type.Unsafe<MessageRole>({ type: 'string', enum: MESSAGE_ROLES, description: 'Who said it' }),
  content: Type.String({ description: 'The text of the message' }),
  tool_calls: Type.Optional(Type.Array(ToolCall, { description: 'For role assistant: the tools the model called' })),
  tool_name: Type.Optional(Type.String({ description: 'For role tool: the tool that answered' })),
  tokens: Nullable('integer', { description: 'Tokens of this message when known (the model counted them), else null' }),
  task_id: Nullable('string', { description: 'The task that added it' }),
  created_at: IsoTime({ description: 'When it was added' }),
});
export type ThreadMessage = Static<typeof ThreadMessage>;
