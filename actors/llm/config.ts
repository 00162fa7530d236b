// The `config` of an `llm` agent: its definition is its behaviour. Closed, so a misspelt setting
// is refused by name instead of silently doing nothing.
import { Type, type Static } from '@sinclair/typebox';
import { AGENT_NAME_PATTERN, KeepAlive, LIMITS, ModelOptions, OutputSchema } from '../../runtime/protocol/index.js';
import { BrowserConfig } from '../browser/config.js';

/** Tool names: a built-in tool (`current_time`, `http_fetch`, `browser.*`…) or another agent (`agent:<name>`). */
export const TOOL_NAME_PATTERN = `^([a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)*|agent:${AGENT_NAME_PATTERN.slice(1, -1)})$`;

export const DEFAULT_MAX_TURNS = 10;
export const DEFAULT_TOOL_TIMEOUT_MS = 60_000;
/** The context window assumed when neither the agent nor the task sets num_ctx (Ollama's own default). */
export const DEFAULT_NUM_CTX = 4096;

export const LlmConfig = Type.Object(
  {
    system: Type.Optional(Type.String({ maxLength: LIMITS.systemMaxLength, description: 'System prompt of every task' })),
    options: Type.Optional({ ...ModelOptions, description: 'Ollama model options of every task' }),
    keep_alive: Type.Optional({ ...KeepAlive, description: 'How long Ollama keeps the model loaded after a call' }),
    max_concurrency: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 64,
        description: 'Tasks run at once (default AGENT_MAX_CONCURRENCY); 1 runs them strictly one at a time',
      }),
    ),
    tools: Type.Optional(
      Type.Array(Type.String({ pattern: TOOL_NAME_PATTERN }), {
        maxItems: 32,
        uniqueItems: true,
        description: 'Tools the model may call: current_time, http_fetch, browser.navigate, browser.snapshot, browser.click, browser.type, browser.extract, agent:<name>',
      }),
    ),
    output_schema: Type.Optional(OutputSchema),
    memory: Type.Optional(
      Type.Object(
        {
          max_messages: Type.Optional(
            Type.Integer({ minimum: 0, maximum: 10_000, description: 'Most thread messages sent as history (default 200)' }),
          ),
          reserve_tokens: Type.Optional(
            Type.Integer({
              minimum: 0,
              maximum: 1_000_000,
              description: 'Tokens of num_ctx kept free for the answer (default: num_predict, or a quarter of num_ctx up to 1024)',
            }),
          ),
        },
        { additionalProperties: false, description: 'How a thread is replayed to the model' },
      ),
    ),
    max_turns: Type.Optional(
      Type.Integer({ minimum: 1, maximum: LIMITS.maxTurns, description: `Most model calls per task in the tool loop (default ${DEFAULT_MAX_TURNS})` }),
    ),
    tool_timeout_ms: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 600_000, description: `Longest one tool call may take (default ${DEFAULT_TOOL_TIMEOUT_MS})` }),
    ),
    http_fetch: Type.Optional(
      Type.Object(
        {
          allow_hosts: Type.Optional(
            Type.Array(Type.String({ minLength: 1, maxLength: 256 }), {
              maxItems: 64,
              description: 'Hosts, host:port, IPs or CIDRs http_fetch may reach even when private or loopback',
            }),
          ),
          max_bytes: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 * 1024 * 1024 })),
          timeout_ms: Type.Optional(Type.Integer({ minimum: 1, maximum: 60_000 })),
        },
        { additionalProperties: false },
      ),
    ),
    browser: Type.Optional(
      Type.Omit(BrowserConfig, ['max_concurrency'], {
        additionalProperties: false,
        description: 'Settings of the browser.* tools: where their pages may go (allowed_origins) and their bounds',
      }),
    ),
  },
  { additionalProperties: false, description: 'Settings of an llm agent' },
);
export type LlmConfig = Static<typeof LlmConfig>;
