// Agents: what a user defines, and what Aurora answers about one.
import { Type, type Static } from '@sinclair/typebox';
import { AgentName, IsoTime, LIMITS, Nullable, OpenObject } from './common.js';
import { EXAMPLE } from './examples.js';

/** The model an agent gets when its definition names none. */
export const DEFAULT_MODEL_NAME = 'llama2';

export const AGENT_STATUSES = ['idle', 'running', 'restarting', 'failed', 'stopped'] as const;
export type AgentStatus = (typeof AGENT_STATUSES)[number];

const StatusField = Type.Unsafe<AgentStatus>({ type: 'string', enum: AGENT_STATUSES, description: 'Agent status' });

/** What a user defines; its `config` is validated against the schema of its kind (`agent_type`). */
export const AgentDefinition = Type.Object({
  name: AgentName(),
  agent_type: Type.String({ description: 'Agent kind' }),
  model_name: Type.String({ description: 'Model the agent runs on' }),
  provider: Type.String({ description: 'LLM provider of the model' }),
  description: Type.String({ description: 'What the agent is for, for people' }),
  config: OpenObject({ description: "The kind's configuration" }),
});
export type AgentDefinition = Static<typeof AgentDefinition>;

/** An agent as GET /api/v1/agents/{name} answers it. */
const agentRecordExample = {
  name: EXAMPLE.agent,
  agent_id: EXAMPLE.agentId,
  description: EXAMPLE.agentDescription,
  status: 'idle',
  config: { system: EXAMPLE.system },
  created_at: EXAMPLE.time,
  last_run: null,
  agent_type: EXAMPLE.agentType,
  model_name: EXAMPLE.model,
  provider: EXAMPLE.provider,
  running_tasks: 0,
  queued_tasks: 0,
  model_installed: true,
};

export const AgentRecord = Type.Object(
  {
    name: Type.String({ description: 'Agent name, unique among live agents' }),
    agent_id: Type.String({
      description: 'This incarnation of the name: an agent created again under the same name gets a new id, and its tasks and threads carry it',
    }),
    description: Type.String({ description: 'What the agent is for, for people' }),
    status: StatusField,
    config: OpenObject({ description: "The kind's configuration, validated against the kind's config schema" }),
    created_at: IsoTime({ description: 'When the agent was created' }),
    last_run: Nullable('string', { description: 'When the agent last completed a task' }),
    agent_type: Type.String({ description: 'Agent kind (llm, workflow, …)' }),
    model_name: Type.String({ description: 'Model the agent runs on' }),
    provider: Type.String({ description: 'LLM provider of the model' }),
    running_tasks: Type.Optional(Type.Integer({ description: 'Tasks running now (up to the agent\'s slots)' })),
    queued_tasks: Type.Optional(Type.Integer({ description: 'Tasks waiting in the mailbox' })),
    model_installed: Type.Optional(
      Nullable('boolean', { description: 'Whether the provider has the model; null when the provider cannot be asked' }),
    ),
  },
  { examples: [agentRecordExample] },
);
export type AgentRecord = Static<typeof AgentRecord>;

export const AgentList = Type.Array(AgentRecord, { examples: [[agentRecordExample]] });

/** One page of agents, oldest first; `next_cursor` is null on the last page. */
export const AgentPage = Type.Object(
  {
    agents: Type.Array(AgentRecord, { description: 'Agents of this page, oldest first' }),
    next_cursor: Nullable('string', { description: 'Pass as ?cursor= for the next page' }),
  },
  { examples: [{ agents: [agentRecordExample], next_cursor: null }] },
);
export type AgentPage = Static<typeof AgentPage>;

/**
 * GET /api/v1/agents/: the plain array without query parameters (the first AGENTS_LIST_MAX agents,
 * with a Link header to the page form when there are more), the page object with any of them.
 */
export const AgentListing = Type.Union([AgentList, AgentPage], {
  description: 'Without query parameters a plain array; with limit, cursor, status, kind or model a page',
  examples: [[agentRecordExample]],
});

export const AgentListQuery = Type.Object({
  limit: Type.Integer({ minimum: 1 }),
  cursor: Type.Optional(Type.String()),
  /** The live status, as GET /api/v1/agents/{name} shows it. */
  status: Type.Optional(StatusField),
  /** agent_type */
  kind: Type.Optional(Type.String()),
  /** model_name */
  model: Type.Optional(Type.String()),
});
export type AgentListQuery = Static<typeof AgentListQuery>;

/** DELETE /api/v1/agents/{name}: the counts are there with ?purge=true only. */
export const AgentDeleted = Type.Object(
  {
    message: Type.String({ description: 'What was done, for people' }),
    tasks_deleted: Type.Optional(Type.Integer({ description: 'Tasks removed with the agent (?purge=true)' })),
    threads_deleted: Type.Optional(Type.Integer({ description: 'Threads removed with the agent (?purge=true)' })),
  },
  { examples: [{ message: `Agent ${EXAMPLE.agent} deleted successfully` }] },
);

/** POST /api/v1/agents/. Closed: a misspelt field is refused by name instead of becoming a default. */
export const AgentCreateRequest = Type.Object(
  {
    name: AgentName({ description: 'Agent name: letters, digits, `.`, `_`, `-`; used in URLs, task bodies and event filters' }),
    agent_type: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, default: 'llm', description: 'Agent kind: `llm` answers prompts with a model' }),
    ),
    provider: Type.Optional(Type.String({ minLength: 1, maxLength: 64, default: 'ollama', description: 'LLM provider of the model' })),
    model_name: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: LIMITS.modelNameMaxLength,
        default: DEFAULT_MODEL_NAME,
        description: 'Model the agent runs on, as the provider names it (`ollama list`)',
      }),
    ),
    description: Type.Optional(Type.String({ maxLength: LIMITS.descriptionMaxLength, default: '', description: 'What the agent is for, for people' })),
    config: Type.Optional(
      Type.Object({}, { default: {}, description: "The kind's configuration (for `llm`: system, options, tools, …), checked against the kind's schema" }),
    ),
  },
  {
    additionalProperties: false,
    examples: [
      {
        name: EXAMPLE.agent,
        agent_type: EXAMPLE.agentType,
        model_name: EXAMPLE.model,
        provider: EXAMPLE.provider,
        description: EXAMPLE.agentDescription,
        config: { system: EXAMPLE.system },
      },
    ],
  },
);
/** After validation: defaults filled in. */
export type AgentCreateBody = Required<Static<typeof AgentCreateRequest>> & { config: Record<string, unknown> };

/** PATCH /api/v1/agents/{name}: what may change. `config` replaces the whole config. */
export const AgentUpdateRequest = Type.Object(
  {
    description: Type.Optional(Type.String({ maxLength: LIMITS.descriptionMaxLength, description: 'New description' })),
    model_name: Type.Optional(Type.String({ minLength: 1, maxLength: LIMITS.modelNameMaxLength, description: 'New model; the next task uses it' })),
    config: Type.Optional(Type.Object({}, { description: "The kind's configuration, replacing the current one" })),
  },
  {
    additionalProperties: false,
    minProperties: 1,
    examples: [{ description: 'Drafts and tightens short product copy', config: { system: EXAMPLE.system, options: { temperature: 0.4 } } }],
  },
);
export type AgentUpdateBody = Static<typeof AgentUpdateRequest> & { config?: Record<string, unknown> };

export const FaultAccepted = Type.Object(
  {
    message: Type.String({ description: 'What was done, for people' }),
    name: Type.String({ description: 'The agent whose actor was made to crash' }),
  },
  { examples: [{ message: `Fault injected into agent ${EXAMPLE.agent}`, name: EXAMPLE.agent }] },
);
