// The named schemas of every request body and response the gateway speaks, compiled once: ajv
// validates bodies, fast-json-stringify serialises responses, and the OpenAPI document lists the
// very same objects under these names. The shapes themselves are declared in runtime/protocol.
//
// Unknown fields: request bodies are closed (`additionalProperties: false`). A misspelt optional
// field ("model" for "model_name") would otherwise be dropped silently and replaced by its default,
// so the gateway answers 400 naming the field instead. Open maps are the `config` objects only.
// Responses are serialised from these schemas, so a field the schema does not name never leaves
// the process (a runtime that starts sending internals does not leak them).
import fastJson from 'fast-json-stringify';
import type { TSchema } from '@sinclair/typebox';
import {
  AgentCreateRequest,
  AgentDeleted,
  AgentList,
  AgentListing,
  AgentPage,
  AgentUpdateRequest,
  AgentRecord,
  ClusterStatus,
  ErrorBody,
  EventPage,
  FaultAccepted,
  Health,
  ModelLoaded,
  ModelUnloaded,
  NotReady,
  ThreadDeleted,
  Alive,
  Started,
  ModelLoadRequest,
  ModelMap,
  ModelStatus,
  PullRecord,
  PullRequest,
  Ready,
  Root,
  SupervisionTree,
  TaskBatchRequest,
  TaskBatchResult,
  TaskCancelled,
  TaskExecuteRequest,
  TaskList,
  TaskRecord,
  TaskResult,
  TaskSubmitted,
  Text,
  Binary,
  EventStream,
  ThreadCreateRequest,
  ThreadDetail,
  ThreadPage,
  ThreadRecord,
  RunPage,
  RunRecord,
  RunRequest,
  RunStarted,
  WorkflowCreateRequest,
  WorkflowPage,
  WorkflowRecord,
  WorkflowUpdateRequest,
  type AgentCreateBody,
  type RunBody,
  type AgentUpdateBody,
  type ThreadCreateBody,
  type ModelLoadBody,
  type PullBody,
  type TaskBatchBody,
  type TaskExecuteBody,
  type WorkflowCreateBody,
  type WorkflowUpdateBody,
} from '../runtime/protocol/index.js';
import { compileValidator, type ValidationResult, type Validator } from '../runtime/validation.js';

export { LIMITS } from '../runtime/protocol/index.js';
export { describeValidationError, pointerToField, type ValidationResult } from '../runtime/validation.js';
export type {
  AgentCreateBody,
  AgentUpdateBody,
  ModelLoadBody,
  PullBody,
  TaskBatchBody,
  TaskExecuteBody,
  ThreadCreateBody,
  WorkflowCreateBody,
  WorkflowUpdateBody,
} from '../runtime/protocol/index.js';

/**
 * The protocol's schemas as plain JSON: TypeBox marks its schemas with symbol keys, which JSON
 * drops; what is validated, serialised and documented is exactly this JSON.
 */
function plain<T extends Record<string, TSchema>>(schemas: T): T {
  return JSON.parse(JSON.stringify(schemas)) as T;
}

/** Request bodies, by name. */
export const REQUEST_SCHEMAS = plain({
  AgentCreateRequest,
  AgentUpdateRequest,
  ThreadCreateRequest,
  ModelLoadRequest,
  PullRequest,
  TaskExecuteRequest,
  TaskBatchRequest,
  RunRequest,
  WorkflowCreateRequest,
  WorkflowUpdateRequest,
} as const satisfies Record<string, TSchema>);

/** Response bodies, by name. `Text` marks a body sent as it is (Prometheus exposition). */
export const RESPONSE_SCHEMAS = plain({
  Error: ErrorBody,
  Root,
  Health,
  Alive,
  Started,
  Ready,
  NotReady,
  AgentRecord,
  AgentList,
  AgentPage,
  AgentListing,
  AgentDeleted,
  ThreadDeleted,
  FaultAccepted,
  ModelMap,
  ModelLoaded,
  ModelUnloaded,
  ModelStatus,
  PullRecord,
  TaskResult,
  TaskBatchResult,
  TaskRecord,
  TaskList,
  TaskCancelled,
  TaskSubmitted,
  ThreadRecord,
  ThreadDetail,
  ThreadPage,
  EventPage,
  SupervisionTree,
  RunStarted,
  RunRecord,
  RunPage,
  WorkflowRecord,
  WorkflowPage,
  Text,
  Binary,
  EventStream,
  ClusterStatus,
} as const satisfies Record<string, TSchema>);

export type RequestSchemaName = keyof typeof REQUEST_SCHEMAS;
export type ResponseSchemaName = keyof typeof RESPONSE_SCHEMAS;

export interface RequestBodies {
  AgentCreateRequest: AgentCreateBody;
  AgentUpdateRequest: AgentUpdateBody;
  ThreadCreateRequest: ThreadCreateBody;
  ModelLoadRequest: ModelLoadBody;
  PullRequest: PullBody;
  TaskExecuteRequest: TaskExecuteBody;
  TaskBatchRequest: TaskBatchBody;
  RunRequest: RunBody;
  WorkflowCreateRequest: WorkflowCreateBody;
  WorkflowUpdateRequest: WorkflowUpdateBody;
}

export interface Codecs {
  /** Validates (and fills defaults into) a parsed body; the message names the offending field. */
  validate<N extends RequestSchemaName>(name: N, data: unknown): ValidationResult<RequestBodies[N]>;
  serialize(name: ResponseSchemaName, data: unknown): string;
}

/** Compiles every schema once. Call at startup; the result is immutable and safe to share. */
export function compileCodecs(): Codecs {
  const validators = new Map<RequestSchemaName, Validator<unknown>>();
  for (const name of Object.keys(REQUEST_SCHEMAS) as RequestSchemaName[]) {
    validators.set(name, compileValidator(REQUEST_SCHEMAS[name]));
  }
  const serializers = new Map<ResponseSchemaName, (data: unknown) => string>();
  for (const name of Object.keys(RESPONSE_SCHEMAS) as ResponseSchemaName[]) {
    if (name === 'Text' || name === 'Binary' || name === 'EventStream') {
      serializers.set(name, (data) => String(data));
      continue;
    }
    // fast-json-stringify sorts `type` arrays in place: it gets a copy, so the protocol's schemas
    // (and the OpenAPI document built from them) stay exactly as declared.
    const stringify = fastJson(structuredClone(RESPONSE_SCHEMAS[name]) as fastJson.AnySchema) as (doc: unknown) => string;
    serializers.set(name, stringify);
  }
  return {
    validate<N extends RequestSchemaName>(name: N, data: unknown): ValidationResult<RequestBodies[N]> {
      const validator = validators.get(name);
      if (!validator) throw new Error(`No request schema named ${name}`);
      return validator(data) as ValidationResult<RequestBodies[N]>;
    },
    serialize(name, data) {
      const serializer = serializers.get(name);
      if (!serializer) throw new Error(`No response schema named ${name}`);
      return serializer(data);
    },
  };
}
