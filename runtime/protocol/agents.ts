// Agents: what a user defines, and what Aurora answers about one.
import { Type, type Static } from '@sinclair/typebox';
import { AgentName, IsoTime, LIMITS, Nullable, OpenObject } from './common.js';

export const AGENT_STATUSES = ['idle', 'running', 'restarting', 'failed', 'stopped'] as const;
export type AgentStatus = (typeof AGENT_STATUSES)[number];

const StatusField = Type.Unsafe<AgentStatus>({ type: 'string', enum: AGENT_STATUSES, description: 'Agent status' });

/** What a user defines; its `config` is validated against the schema of its kind (`agent_type`). */
export const AgentDefinition = Type.Object({
  name: AgentName(),
  agent_type: Type.String({ description: 'Agent kind' }),
  model_name: Type.String({ description: 'Model the agent runs on' }),
  provider: Type.String({ description: 'LLM provider of the model' }),
  description: Type.String(),
  config: OpenObject({ description: "The kind's configuration" }),
});
export type AgentDefinition = Static<typeof AgentDefinition>;

export const AgentRecord = Type.Object({
  name: Type.String(),
  description: Type.String(),
  status: StatusField,
  config: OpenObject(),
  created_at: IsoTime(),
  last_run: Nullable('string', { description: 'When the agent last completed a task' }),
  agent_type: Type.String(),
  model_name: Type.String(),
  provider: Type.String(),
  running_tasks: Type.Optional(Type.Integer({ description: 'Tasks running now (up to the agent\'s slots)' })),
  queued_tasks: Type.Optional(Type.Integer({ description: 'Tasks waiting in the mailbox' })),
  model_installed: Type.Optional(
    Nullable('boolean', { description: 'Whether the provider has the model; null when the provider cannot be asked' }),
  ),
});
export type AgentRecord = Static<typeof AgentRecord>;

export const AgentList = Type.Array(AgentRecord);

/** POST /api/v1/agents/. Closed: a misspelt field is refused by name instead of becoming a default. */
export const AgentCreateRequest = Type.Object(
  {
    name: AgentName(),
    agent_type: Type.Optional(Type.String({ minLength: 1, maxLength: 64, default: 'llm' })),
    provider: Type.Optional(Type.String({ minLength: 1, maxLength: 64, default: 'ollama' })),
    model_name: Type.Optional(Type.String({ minLength: 1, maxLength: LIMITS.modelNameMaxLength, default: 'llama2' })),
    description: Type.Optional(Type.String({ maxLength: LIMITS.descriptionMaxLength, default: '' })),
    config: Type.Optional(Type.Object({}, { default: {}, description: "The kind's configuration" })),
  },
  { additionalProperties: false },
);
/** After validation: defaults filled in. */
export type AgentCreateBody = Required<Static<typeof AgentCreateRequest>> & { config: Record<string, unknown> };

/** PATCH /api/v1/agents/{name}: what may change. `config` replaces the whole config. */
export const AgentUpdateRequest = Type.Object(
  {
    description: Type.Optional(Type.String({ maxLength: LIMITS.descriptionMaxLength })),
    model_name: Type.Optional(Type.String({ minLength: 1, maxLength: LIMITS.modelNameMaxLength })),
    config: Type.Optional(Type.Object({}, { description: "The kind's configuration, replacing the current one" })),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type AgentUpdateBody = Static<typeof AgentUpdateRequest> & { config?: Record<string, unknown> };

export const FaultAccepted = Type.Object({ message: Type.String(), name: Type.String() });
