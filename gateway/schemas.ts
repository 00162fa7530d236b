// JSON Schemas of every request body and response the gateway speaks: the one source for input
// validation (ajv), response serialisation (fast-json-stringify) and, later, the OpenAPI document.
//
// Unknown fields: request bodies are closed (`additionalProperties: false`). A misspelt optional
// field ("model" for "model_name") would otherwise be dropped silently and replaced by its default,
// so the gateway answers 400 naming the field instead. Open maps are the `config` objects only.
// Responses are serialised from these schemas, so a field the schema does not name never leaves
// the process (a runtime that starts sending internals does not leak them).
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import fastJson from 'fast-json-stringify';
import { AGENT_NAME_PATTERN, AGENT_STATUSES, TASK_STATUSES, type TaskParameters } from '../actors/protocol.js';

/** The agent kinds and providers the gateway accepts; unknown ones answer 400 by name. */
export { AGENT_KIND_NAMES as AGENT_KINDS, PROVIDER_NAMES as PROVIDERS } from '../actors/protocol.js';

/** Upper bounds that are part of the contract (the body byte cap bounds everything else). */
export const LIMITS = {
  nameMaxLength: 64,
  modelNameMaxLength: 256,
  descriptionMaxLength: 4096,
  promptMaxLength: 1_000_000,
  systemMaxLength: 100_000,
  maxTokens: 1_000_000,
  taskTimeoutMaxMs: 3_600_000,
  retriesMax: 10,
  listLimitMax: 1000,
  listLimitDefault: 50,
} as const;

// ---------------------------------------------------------------- shared pieces

const agentName = { type: 'string', pattern: AGENT_NAME_PATTERN } as const;
const isoTime = { type: 'string' } as const;
const nullableIsoTime = { type: ['string', 'null'] } as const;
const openObject = { type: 'object', additionalProperties: true } as const;
const nullableInt = { type: ['integer', 'null'] } as const;
const nullableNumber = { type: ['number', 'null'] } as const;
const nullableString = { type: ['string', 'null'] } as const;

const taskParameters = {
  type: 'object',
  additionalProperties: false,
  properties: {
    system: { type: 'string', maxLength: LIMITS.systemMaxLength },
    temperature: { type: 'number', minimum: 0, maximum: 2 },
    max_tokens: { type: 'integer', minimum: 1, maximum: LIMITS.maxTokens },
    seed: { type: 'integer' },
    timeout_ms: { type: 'integer', minimum: 1, maximum: LIMITS.taskTimeoutMaxMs },
    retries: { type: 'integer', minimum: 0, maximum: LIMITS.retriesMax },
  },
} as const;

const taskTimings = {
  type: 'object',
  required: ['queued_ms', 'total_duration_ms', 'load_duration_ms', 'prompt_eval_duration_ms', 'eval_duration_ms'],
  properties: {
    queued_ms: { type: 'number' },
    total_duration_ms: nullableNumber,
    load_duration_ms: nullableNumber,
    prompt_eval_duration_ms: nullableNumber,
    eval_duration_ms: nullableNumber,
  },
} as const;

const taskExecuteRequest = {
  type: 'object',
  required: ['agent', 'prompt'],
  additionalProperties: false,
  properties: {
    agent: agentName,
    prompt: { type: 'string', minLength: 1, maxLength: LIMITS.promptMaxLength },
    parameters: { ...taskParameters, default: {} },
  },
} as const;

const agentRecord = {
  type: 'object',
  required: ['name', 'description', 'status', 'config', 'created_at', 'last_run', 'agent_type', 'model_name', 'provider'],
  properties: {
    name: { type: 'string' },
    description: { type: 'string' },
    status: { type: 'string', enum: AGENT_STATUSES },
    config: openObject,
    created_at: isoTime,
    last_run: nullableIsoTime,
    agent_type: { type: 'string' },
    model_name: { type: 'string' },
    provider: { type: 'string' },
  },
} as const;

const taskResult = {
  type: 'object',
  required: [
    'task_id',
    'agent',
    'result',
    'status',
    'model',
    'provider',
    'tokens_used',
    'prompt_tokens',
    'completion_tokens',
    'completed_at',
    'duration_ms',
    'timings',
  ],
  properties: {
    task_id: { type: 'string' },
    agent: { type: 'string' },
    result: { type: 'string' },
    status: { type: 'string', const: 'completed' },
    model: { type: 'string' },
    provider: { type: 'string' },
    tokens_used: { type: 'integer' },
    prompt_tokens: { type: 'integer' },
    completion_tokens: { type: 'integer' },
    completed_at: isoTime,
    duration_ms: { type: 'number' },
    timings: taskTimings,
  },
} as const;

const batchFailure = {
  type: 'object',
  required: ['task_id', 'agent', 'status', 'error', 'error_code'],
  properties: {
    task_id: { type: 'string' },
    agent: { type: 'string' },
    status: { type: 'string', const: 'failed' },
    error: { type: 'string' },
    error_code: { type: 'string' },
  },
} as const;

const taskRecord = {
  type: 'object',
  required: [
    'task_id',
    'agent',
    'prompt',
    'parameters',
    'status',
    'result',
    'error',
    'error_code',
    'model',
    'provider',
    'tokens_used',
    'created_at',
    'started_at',
    'completed_at',
    'duration_ms',
    'timings',
  ],
  properties: {
    task_id: { type: 'string' },
    agent: { type: 'string' },
    prompt: { type: 'string' },
    parameters: { ...taskParameters, additionalProperties: true },
    status: { type: 'string', enum: TASK_STATUSES },
    result: nullableString,
    error: nullableString,
    error_code: nullableString,
    model: nullableString,
    provider: nullableString,
    tokens_used: nullableInt,
    created_at: isoTime,
    started_at: nullableIsoTime,
    completed_at: nullableIsoTime,
    duration_ms: nullableNumber,
    timings: { anyOf: [taskTimings, { type: 'null' }] },
  },
} as const;

const loadedModel = {
  type: 'object',
  required: ['name', 'provider', 'loaded_at'],
  properties: { name: { type: 'string' }, provider: { type: 'string' }, loaded_at: isoTime },
} as const;

const message = {
  type: 'object',
  required: ['message'],
  properties: { message: { type: 'string' } },
} as const;

const healthChecks = {
  type: 'object',
  required: ['database', 'bus', 'cache', 'llm'],
  properties: {
    database: { type: 'boolean' },
    bus: { type: 'boolean' },
    cache: { type: 'boolean' },
    llm: { type: 'boolean' },
  },
} as const;

// ---------------------------------------------------------------- the named schemas

/** Request bodies, by name. */
export const REQUEST_SCHEMAS = {
  AgentCreateRequest: {
    type: 'object',
    required: ['name'],
    additionalProperties: false,
    properties: {
      name: agentName,
      agent_type: { type: 'string', minLength: 1, maxLength: 64, default: 'llm' },
      provider: { type: 'string', minLength: 1, maxLength: 64, default: 'ollama' },
      model_name: { type: 'string', minLength: 1, maxLength: LIMITS.modelNameMaxLength, default: 'llama2' },
      description: { type: 'string', maxLength: LIMITS.descriptionMaxLength, default: '' },
      config: { type: 'object', default: {} },
    },
  },
  ModelLoadRequest: {
    type: 'object',
    required: ['name'],
    additionalProperties: false,
    properties: {
      name: { type: 'string', minLength: 1, maxLength: LIMITS.modelNameMaxLength },
      provider: { type: 'string', minLength: 1, maxLength: 64, default: 'ollama' },
      config: { type: 'object', default: {} },
    },
  },
  TaskExecuteRequest: taskExecuteRequest,
  TaskBatchRequest: {
    type: 'object',
    required: ['tasks'],
    additionalProperties: false,
    properties: {
      tasks: { type: 'array', minItems: 1, items: taskExecuteRequest },
    },
  },
} as const;

/** Response bodies, by name. `Text` marks a body sent as it is (Prometheus exposition). */
export const RESPONSE_SCHEMAS = {
  Error: {
    type: 'object',
    required: ['detail'],
    properties: { detail: { type: 'string' } },
  },
  Root: {
    type: 'object',
    required: ['name', 'version', 'status'],
    properties: { name: { type: 'string' }, version: { type: 'string' }, status: { type: 'string' } },
  },
  Health: {
    type: 'object',
    required: ['status', 'timestamp', 'service'],
    properties: { status: { type: 'string' }, timestamp: isoTime, service: { type: 'string' } },
  },
  Status: {
    type: 'object',
    required: ['status'],
    properties: { status: { type: 'string' } },
  },
  Ready: {
    type: 'object',
    required: ['status', 'checks', 'timestamp'],
    properties: {
      status: { type: 'string', enum: ['ready', 'not_ready'] },
      checks: healthChecks,
      timestamp: isoTime,
      detail: { type: 'string' },
    },
  },
  AgentRecord: agentRecord,
  AgentList: { type: 'array', items: agentRecord },
  Message: message,
  FaultAccepted: {
    type: 'object',
    required: ['message', 'name'],
    properties: { message: { type: 'string' }, name: { type: 'string' } },
  },
  ModelMap: {
    type: 'object',
    required: ['models', 'count'],
    properties: {
      models: { type: 'object', additionalProperties: loadedModel },
      count: { type: 'integer' },
    },
  },
  ModelLoaded: {
    type: 'object',
    required: ['message', 'name', 'provider'],
    properties: { message: { type: 'string' }, name: { type: 'string' }, provider: { type: 'string' } },
  },
  ModelStatus: {
    type: 'object',
    required: ['name', 'provider', 'installed', 'loaded', 'loaded_at', 'size_bytes', 'expires_at'],
    properties: {
      name: { type: 'string' },
      provider: { type: 'string' },
      installed: { type: 'boolean' },
      loaded: { type: 'boolean' },
      loaded_at: nullableIsoTime,
      size_bytes: nullableInt,
      expires_at: nullableIsoTime,
    },
  },
  TaskResult: taskResult,
  TaskBatchResult: { type: 'array', items: { anyOf: [taskResult, batchFailure] } },
  TaskRecord: taskRecord,
  TaskList: { type: 'array', items: taskRecord },
  TaskCancelled: {
    type: 'object',
    required: ['task_id', 'status'],
    properties: { task_id: { type: 'string' }, status: { type: 'string', enum: TASK_STATUSES } },
  },
  Text: { type: 'string' },
} as const;

export type RequestSchemaName = keyof typeof REQUEST_SCHEMAS;
export type ResponseSchemaName = keyof typeof RESPONSE_SCHEMAS;

// ---------------------------------------------------------------- request body types (after defaults)

export interface AgentCreateBody {
  name: string;
  agent_type: string;
  provider: string;
  model_name: string;
  description: string;
  config: Record<string, unknown>;
}

export interface ModelLoadBody {
  name: string;
  provider: string;
  config: Record<string, unknown>;
}

export interface TaskExecuteBody {
  agent: string;
  prompt: string;
  parameters: TaskParameters;
}

export interface TaskBatchBody {
  tasks: TaskExecuteBody[];
}

export interface RequestBodies {
  AgentCreateRequest: AgentCreateBody;
  ModelLoadRequest: ModelLoadBody;
  TaskExecuteRequest: TaskExecuteBody;
  TaskBatchRequest: TaskBatchBody;
}

// ---------------------------------------------------------------- compiled codecs

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; message: string };

export interface Codecs {
  /** Validates (and fills defaults into) a parsed body; the message names the offending field. */
  validate<N extends RequestSchemaName>(name: N, data: unknown): ValidationResult<RequestBodies[N]>;
  serialize(name: ResponseSchemaName, data: unknown): string;
}

/** Compiles every schema once. Call at startup; the result is immutable and safe to share. */
export function compileCodecs(): Codecs {
  const ajv = new Ajv({ allErrors: false, useDefaults: true, coerceTypes: false, strict: true });
  const validators = new Map<RequestSchemaName, ValidateFunction>();
  for (const name of Object.keys(REQUEST_SCHEMAS) as RequestSchemaName[]) {
    validators.set(name, ajv.compile(REQUEST_SCHEMAS[name]));
  }
  const serializers = new Map<ResponseSchemaName, (data: unknown) => string>();
  for (const name of Object.keys(RESPONSE_SCHEMAS) as ResponseSchemaName[]) {
    if (name === 'Text') {
      serializers.set(name, (data) => String(data));
      continue;
    }
    // fast-json-stringify sorts `type` arrays in place: it gets a copy, so the exported schemas
    // (and the OpenAPI document built from them) stay exactly as written here.
    const stringify = fastJson(structuredClone(RESPONSE_SCHEMAS[name]) as fastJson.AnySchema) as (doc: unknown) => string;
    serializers.set(name, stringify);
  }
  return {
    validate<N extends RequestSchemaName>(name: N, data: unknown): ValidationResult<RequestBodies[N]> {
      const validator = validators.get(name);
      if (!validator) throw new Error(`No request schema named ${name}`);
      if (validator(data)) return { ok: true, value: data as RequestBodies[N] };
      return { ok: false, message: describeValidationError(validator.errors?.[0]) };
    },
    serialize(name, data) {
      const serializer = serializers.get(name);
      if (!serializer) throw new Error(`No response schema named ${name}`);
      return serializer(data);
    },
  };
}

/** `/tasks/0/parameters/seed` → `tasks[0].parameters.seed`. */
export function pointerToField(pointer: string): string {
  if (pointer === '') return '';
  let out = '';
  for (const raw of pointer.slice(1).split('/')) {
    const token = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (/^\d+$/.test(token)) out += `[${token}]`;
    else out += out === '' ? token : `.${token}`;
  }
  return out;
}

function join(parent: string, child: string): string {
  return parent === '' ? child : `${parent}.${child}`;
}

/** Turns ajv's first error into one sentence that names the field. */
export function describeValidationError(error: ErrorObject | undefined): string {
  if (!error) return 'Invalid request body';
  const field = pointerToField(error.instancePath);
  switch (error.keyword) {
    case 'required':
      return `${join(field, String((error.params as { missingProperty: string }).missingProperty))} is required`;
    case 'additionalProperties':
      return `${join(field, String((error.params as { additionalProperty: string }).additionalProperty))} is not a known field`;
    default:
      return `${field === '' ? 'Request body' : field}: ${error.message ?? 'is invalid'}`;
  }
}
