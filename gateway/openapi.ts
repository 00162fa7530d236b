// The OpenAPI document, generated from what the gateway runs: the route table (method, template,
// body schema, responses, summary, scope) and the very JSON Schemas that validate request bodies
// (ajv) and serialise responses (fast-json-stringify), placed under components.schemas unchanged.
// What the route table cannot say yet is kept in two tables below: the query parameters a handler
// reads, and the error codes the runtime behind a route can answer. test/unit/openapi.test.ts
// checks both against the route table, so a new route cannot go undocumented silently.
//
// Examples: a body's and an answer's come from the `examples` declared with its schema in
// runtime/protocol (repeated on the media type, where Swagger UI looks); an error answer lists one
// `{"detail"}` per error code, worded as in gateway/error-examples.ts; path parameters take the
// names those examples create (PATH_PARAMETERS). test/unit/openapi-examples.test.ts walks the
// result, and test/integration/try-it-out.test.ts sends the examples, in order, to a fresh server.
//
// Why 3.1 and not 3.0: a 3.1 Schema Object is JSON Schema 2020-12, so the running schemas go in
// as they are (`type: ['string', 'null']`, `const`). 3.0 would need them rewritten (`nullable`),
// and the document would then describe schemas that are not the ones that run.
import { STATUS_CODES } from 'node:http';
import { ERROR_CODES, type ErrorCode } from '../runtime/errors.js';
import {
  AGENT_NAME_PATTERN,
  AGENT_STATUSES,
  EXAMPLE,
  IDEMPOTENCY_KEY_PATTERN,
  TASK_STATUSES,
  type AgentKindDescriptor,
} from '../runtime/protocol/index.js';
import {
  CROSS_ORIGIN_EXAMPLE,
  DUPLICATE_QUERY_EXAMPLE,
  ERROR_EXAMPLES,
  INVALID_BODY_EXAMPLES,
  INVALID_QUERY_EXAMPLE,
  PULL_QUEUE_FULL_EXAMPLE,
} from './error-examples.js';
import { RETRY_AFTER_SECONDS } from './error-response.js';
import { REQUEST_ID_HEADER } from './request-id.js';
import type { Route } from './router.js';
import { eventTypes, providerNames } from './kinds.js';
import { EVENT_TYPE_FILTER_PATTERN } from './routes/events.js';
import { NEXT_CURSOR_HEADER } from './routes/paging.js';
import { THREAD_MESSAGES_MAX } from './routes/threads.js';
import { LIMITS, REQUEST_SCHEMAS, RESPONSE_SCHEMAS, type RequestSchemaName, type ResponseSchemaName } from './schemas.js';
import { requirementOf, SCOPE_DOCS, SCOPES, type AccessSettings, type Requirement } from './scopes.js';
import { CLOSE_CODES, MAX_TASKS_PER_SOCKET, STREAM_PATH } from './stream-protocol.js';

export const OPENAPI_VERSION = '3.1.0';
export const BEARER_SCHEME = 'bearerAuth';
const JSON_TYPE = 'application/json';
/** Media type of responses serialised with the 'Text' schema (Prometheus exposition). */
const TEXT_TYPE = 'text/plain';
/** Media type of artifacts ('Binary'): screenshots are PNG. */
const IMAGE_TYPE = 'image/png';
/** Media type of Server-Sent Events. */
const EVENT_STREAM_TYPE = 'text/event-stream';

/**
 * The first of a schema's own `examples` (declared with it in runtime/protocol), repeated on the media
 * type: that is where Swagger UI takes the body it fills in for "Try it out" and the answer it shows.
 */
function exampleOf(schema: JsonSchema): { example?: unknown } {
  const examples = schema.examples;
  return Array.isArray(examples) && examples.length > 0 ? { example: structuredClone(examples[0]) as unknown } : {};
}

function mediaType(name: ResponseSchemaName | RequestSchemaName): MediaType {
  const schema: JsonSchema = name in RESPONSE_SCHEMAS ? RESPONSE_SCHEMAS[name as ResponseSchemaName] : REQUEST_SCHEMAS[name as RequestSchemaName];
  return { schema: schemaRef(name), ...exampleOf(schema) };
}

/** A success answer's media types: its schema's, and an event stream where the route offers one. */
function contentOf(route: Route, status: string, schema: ResponseSchemaName): Record<string, MediaType> {
  const type = schema === 'Text' ? TEXT_TYPE : schema === 'Binary' ? IMAGE_TYPE : schema === 'EventStream' ? EVENT_STREAM_TYPE : JSON_TYPE;
  const content: Record<string, MediaType> = { [type]: mediaType(schema) };
  if (route.eventStream === true && status === '200') content[EVENT_STREAM_TYPE] = mediaType('EventStream');
  return content;
}

export type JsonSchema = Readonly<Record<string, unknown>>;

export interface Parameter {
  readonly name: string;
  readonly in: 'path' | 'query' | 'header';
  readonly required: boolean;
  readonly description: string;
  readonly schema: JsonSchema;
  /** What Swagger UI fills in for "Try it out" (see PATH_PARAMETERS). */
  readonly example?: unknown;
}

export interface ExampleObject {
  readonly summary: string;
  readonly value: unknown;
}

export interface MediaType {
  readonly schema: JsonSchema;
  readonly example?: unknown;
  /** Named examples: an error status lists one per error code behind it. */
  readonly examples?: Readonly<Record<string, ExampleObject>>;
}

export interface ResponseObject {
  readonly description: string;
  readonly headers?: Readonly<Record<string, JsonSchema>>;
  readonly content?: Readonly<Record<string, MediaType>>;
}

export interface Operation {
  readonly operationId: string;
  readonly summary: string;
  readonly tags: readonly string[];
  readonly parameters?: readonly Parameter[];
  readonly requestBody?: { readonly required: true; readonly content: Readonly<Record<string, MediaType>> };
  readonly responses: Readonly<Record<string, ResponseObject>>;
  readonly security?: readonly Readonly<Record<string, readonly string[]>>[];
}

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
export type PathItem = Partial<Record<Method, Operation>>;

export interface OpenApiDocument {
  readonly openapi: typeof OPENAPI_VERSION;
  readonly info: { readonly title: string; readonly version: string; readonly description: string };
  readonly servers: readonly { readonly url: string; readonly description: string }[];
  readonly tags: readonly { readonly name: string; readonly description: string }[];
  readonly paths: Readonly<Record<string, PathItem>>;
  readonly components: {
    readonly schemas: Readonly<Record<string, JsonSchema>>;
    readonly headers: Readonly<Record<string, JsonSchema>>;
    readonly securitySchemes: Readonly<Record<string, JsonSchema>>;
  };
}

export interface OpenApiOptions {
  /** Aurora's version (package.json). */
  readonly version: string;
  /** The routes to document, in table order. */
  readonly routes: readonly Route[];
  /** The authentication settings in force: they decide which operations need a token. */
  readonly access: AccessSettings;
  /** Whether the rate limiter counts requests to this route; always false when it is off. */
  readonly rateLimited: (route: Route) => boolean;
  /** The agent kinds served: their providers, config schemas and event types are documented. */
  readonly kinds: readonly AgentKindDescriptor[];
}

/** `GET /api/v1/agents/:name`: the key of a route in the tables below. */
export function routeKey(route: Pick<Route, 'method' | 'path'>): string {
  return `${route.method} ${route.path}`;
}

/** '/api/v1/agents/:name' → '/api/v1/agents/{name}'. */
export function openApiPath(template: string): string {
  return template
    .split('/')
    .map((s) => (s.startsWith(':') ? `{${s.slice(1)}}` : s))
    .join('/');
}

export function pathParamNames(template: string): string[] {
  return template
    .split('/')
    .filter((s) => s.startsWith(':'))
    .map((s) => s.slice(1));
}

/** The very rule the dispatcher enforces (gateway/scopes.ts), so the document cannot disagree. */
function requirement(route: Route, options: Pick<OpenApiOptions, 'access'>): Requirement {
  return requirementOf(route, options.access);
}

// ---------------------------------------------------------------- what the route table cannot say yet

const providerParam: Omit<Parameter, 'in'> = {
  name: 'provider',
  required: false,
  description: 'LLM provider of the model',
  // The enum is the providers of the kinds served, filled in per document (see operation()).
  schema: { type: 'string', default: 'ollama' },
  example: EXAMPLE.provider,
};

const limitParam = (what: string): Omit<Parameter, 'in'> => ({
  name: 'limit',
  required: false,
  description: `Most ${what} returned`,
  schema: { type: 'integer', minimum: 1, maximum: LIMITS.listLimitMax, default: LIMITS.listLimitDefault },
  example: 20,
});
// No `example`: Swagger UI sends a parameter's example with "Try it out", and no cursor is valid on
// every server, so an example cursor would turn the first try into a 400.
const cursorParam: Omit<Parameter, 'in'> = {
  name: 'cursor',
  required: false,
  description:
    'The next page: copy next_cursor (or X-Next-Cursor) of the previous answer. Opaque; a cursor not of this list is 400',
  schema: { type: 'string', minLength: 1, maxLength: LIMITS.cursorMaxLength },
};

/** Query parameters each handler reads (gateway/routes/params.ts checks them; a bad value is 400). */
export const QUERY_PARAMETERS: Readonly<Record<string, readonly Omit<Parameter, 'in'>[]>> = {
  'GET /api/v1/agents/': [
    {
      ...limitParam('agents'),
      description:
        'Most agents returned. Any of these parameters asks for the page form {agents, next_cursor}; without them the ' +
        'answer is a plain array of at most AGENTS_LIST_MAX agents, with a Link to the page form when there are more',
    },
    cursorParam,
    {
      name: 'status',
      required: false,
      description: 'Only agents in this live status (a page may then hold fewer than limit; follow next_cursor until null)',
      schema: { type: 'string', enum: AGENT_STATUSES },
      example: 'idle',
    },
    {
      name: 'kind',
      required: false,
      description: 'Only agents of this agent_type',
      schema: { type: 'string', minLength: 1, maxLength: 64 },
      example: EXAMPLE.agentType,
    },
    {
      name: 'model',
      required: false,
      description: 'Only agents on this model_name (exactly as given at creation)',
      schema: { type: 'string', minLength: 1, maxLength: LIMITS.modelNameMaxLength },
      example: EXAMPLE.model,
    },
  ],
  'DELETE /api/v1/agents/:name': [
    {
      name: 'purge',
      required: false,
      description: "true: delete the agent's tasks and threads with it (the answer counts them); otherwise they stay readable",
      schema: { type: 'string', enum: ['true', 'false'], default: 'false' },
      example: 'false',
    },
  ],
  'GET /api/v1/tasks/': [
    {
      name: 'agent',
      required: false,
      description: 'Only tasks of agents of this name, deleted ones included',
      schema: { type: 'string', pattern: AGENT_NAME_PATTERN },
      example: EXAMPLE.agent,
    },
    // No `example`: it would be sent with "Try it out", and no id names an agent on every server.
    {
      name: 'agent_id',
      required: false,
      description: `Only tasks of this one agent (AgentRecord.agent_id, e.g. \`${EXAMPLE.agentId}\`), not of others of the same name`,
      schema: { type: 'string', minLength: 1, maxLength: 64 },
    },
    {
      name: 'status',
      required: false,
      description: 'Only tasks in this status',
      schema: { type: 'string', enum: TASK_STATUSES },
      example: 'completed',
    },
    limitParam('tasks'),
    cursorParam,
  ],
  'GET /api/v1/runs': [
    {
      name: 'workflow',
      required: false,
      description: 'Only runs of this workflow',
      schema: { type: 'string', minLength: 1, maxLength: 64 },
      example: EXAMPLE.workflow,
    },
    {
      name: 'status',
      required: false,
      description: 'Only runs in this status',
      schema: { type: 'string', enum: TASK_STATUSES },
      example: 'completed',
    },
    limitParam('runs'),
    cursorParam,
  ],
  'GET /api/v1/events': [
    {
      name: 'type',
      required: false,
      description: 'Only this event type (supervisor.crash), or every type under a prefix (supervisor.*)',
      schema: { type: 'string', pattern: EVENT_TYPE_FILTER_PATTERN },
      example: 'agent.*',
    },
    {
      name: 'agent',
      required: false,
      description: 'Only events of this agent',
      schema: { type: 'string', pattern: AGENT_NAME_PATTERN },
      example: EXAMPLE.agent,
    },
    {
      name: 'since',
      required: false,
      description: 'Only events at or after this ISO-8601 time (with a zone)',
      schema: { type: 'string', format: 'date-time' },
      example: '2025-01-31T00:00:00Z',
    },
    limitParam('events'),
    cursorParam,
  ],
  'DELETE /api/v1/models/:name': [providerParam],
  'GET /api/v1/agents/:name/threads': [limitParam('threads'), cursorParam],
  'GET /api/v1/threads/:id': [
    {
      name: 'limit',
      required: false,
      description: 'Most messages returned (the newest)',
      schema: { type: 'integer', minimum: 1, maximum: THREAD_MESSAGES_MAX, default: THREAD_MESSAGES_MAX },
      example: 20,
    },
  ],
  'GET /api/v1/models/:name/status': [providerParam],
  'GET /api/v1/workflows': [limitParam('workflows'), cursorParam],
  'GET /api/v1/workflows/:name': [
    {
      name: 'version',
      required: false,
      description: 'This version instead of the current one',
      schema: { type: 'integer', minimum: 1 },
      example: 1,
    },
  ],
};

/** Routes that honour an Idempotency-Key header (gateway/idempotency.ts). */
export const IDEMPOTENT_ROUTES: ReadonlySet<string> = new Set([
  'POST /api/v1/agents/',
  'POST /api/v1/tasks/',
  'POST /api/v1/tasks/execute',
  'POST /api/v1/tasks/execute/batch',
  'POST /api/v1/models/pull',
  'POST /api/v1/workflows',
  'POST /api/v1/workflows/:name/runs',
]);

const idempotencyKeyParam: Parameter = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description:
    'Makes a retry safe: the same key with the same request returns the first answer (a running task is joined); ' +
    'with a different request it is refused (422). Remembered for IDEMPOTENCY_TTL_MS.',
  schema: { type: 'string', pattern: IDEMPOTENCY_KEY_PATTERN },
};

interface RouteErrors {
  /** The handler asks the runtime over the bus, so the bus's own failures can answer too. */
  readonly runtime: boolean;
  /** Codes (runtime/errors.ts) the handler or the runtime service behind it may answer. */
  readonly codes: readonly ErrorCode[];
}

const local = (codes: readonly ErrorCode[] = []): RouteErrors => ({ runtime: false, codes });
const runtime = (codes: readonly ErrorCode[] = []): RouteErrors => ({ runtime: true, codes });

/** What any request over the bus may meet: nobody serving, no answer in time, bus closed, a defect. */
const BUS_ERRORS: readonly ErrorCode[] = ['no_responders', 'bus_timeout', 'unavailable', 'internal'];
const LLM_ERRORS: readonly ErrorCode[] = ['llm_error', 'llm_bad_response', 'llm_unavailable', 'llm_timeout'];

export const ROUTE_ERRORS: Readonly<Record<string, RouteErrors>> = {
  'GET /': local(),
  'GET /health/': local(),
  'GET /health/live': local(),
  'GET /health/startup': local(),
  // Readiness bounds and catches each check itself; its 503 is a declared Ready response.
  'GET /health/ready': local(),
  'GET /metrics': local(),
  'GET /api/v1/agents/': runtime(['invalid_request']),
  'POST /api/v1/agents/': runtime(['invalid_request', 'agent_exists', 'idempotency_mismatch', 'idempotency_in_progress']),
  'GET /api/v1/agents/:name': runtime(['agent_not_found']),
  'PATCH /api/v1/agents/:name': runtime(['invalid_request', 'agent_not_found']),
  'POST /api/v1/agents/:name/threads': runtime(['agent_not_found']),
  'GET /api/v1/agents/:name/threads': runtime(['invalid_request', 'agent_not_found']),
  'GET /api/v1/threads/:id': runtime(['invalid_request', 'thread_not_found']),
  'DELETE /api/v1/threads/:id': runtime(['thread_not_found']),
  'DELETE /api/v1/agents/:name': runtime(['invalid_request', 'agent_not_found']),
  'POST /api/v1/agents/:name/restart': runtime(['agent_not_found', 'timeout']),
  'POST /api/v1/agents/:name/fault': runtime(['agent_not_found', 'fault_injection_disabled', 'agent_failed']),
  'GET /api/v1/supervision': runtime(),
  'GET /api/v1/models/': runtime(LLM_ERRORS),
  // With "pull": a pull that did not complete answers its own error (a model the registry lacks is
  // model_not_found, a node that stopped is interrupted).
  'POST /api/v1/models/load': runtime([
    'invalid_request',
    'model_not_found',
    'queue_full',
    'pull_cancelled',
    'interrupted',
    ...LLM_ERRORS,
  ]),
  // How the pull itself goes is in its record and on the stream, not in this answer.
  'POST /api/v1/models/pull': runtime(['invalid_request', 'queue_full', 'idempotency_mismatch', 'idempotency_in_progress']),
  'GET /api/v1/models/pulls/:id': runtime(['pull_not_found']),
  'DELETE /api/v1/models/pulls/:id': runtime(['pull_not_found', 'pull_finished']),
  'DELETE /api/v1/models/:name': runtime(['invalid_request', 'model_not_loaded', ...LLM_ERRORS]),
  'GET /api/v1/models/:name/status': runtime(['invalid_request', 'model_not_found', ...LLM_ERRORS]),
  'POST /api/v1/tasks/execute': runtime([
    'agent_not_found',
    'agent_failed',
    'agent_stopped',
    'task_cancelled',
    'queue_full',
    'model_not_found',
    'agent_crashed',
    'timeout',
    'interrupted',
    'thread_not_found',
    'max_turns_exceeded',
    'output_invalid',
    'context_overflow',
    'idempotency_mismatch',
    'idempotency_in_progress',
    'browser_action_failed',
    'browser_crashed',
    'navigation_refused',
    ...LLM_ERRORS,
  ]),
  'POST /api/v1/tasks/': runtime(['agent_not_found', 'agent_failed', 'agent_stopped', 'queue_full', 'thread_not_found', 'idempotency_mismatch', 'idempotency_in_progress']),
  // Each task's failure is an item of the 200 answer; only the batch as a whole can be refused.
  'POST /api/v1/tasks/execute/batch': runtime(['invalid_request', 'idempotency_mismatch', 'idempotency_in_progress']),
  'GET /api/v1/tasks/': runtime(['invalid_request']),
  'GET /api/v1/tasks/:id': runtime(['task_not_found']),
  'GET /api/v1/artifacts/:id': runtime(['artifact_not_found']),
  'GET /api/v1/tasks/:id/events': runtime(['task_not_found']),
  'POST /api/v1/tasks/:id/cancel': runtime(['task_not_found', 'task_finished']),
  'GET /api/v1/events': runtime(['invalid_request']),
  // How the run went is in the 200 answer (its status, error, steps); these refuse to start it.
  'POST /api/v1/workflows/:name/runs': runtime([
    'invalid_request',
    'workflow_not_found',
    'agent_exists',
    'agent_failed',
    'agent_stopped',
    'queue_full',
    'idempotency_mismatch',
    'idempotency_in_progress',
  ]),
  'GET /api/v1/runs': runtime(['invalid_request']),
  'GET /api/v1/runs/:id': runtime(['run_not_found']),
  'POST /api/v1/runs/:id/cancel': runtime(['run_not_found']),
  'POST /api/v1/workflows': runtime(['invalid_request', 'workflow_exists', 'idempotency_mismatch', 'idempotency_in_progress']),
  'GET /api/v1/workflows': runtime(['invalid_request']),
  'GET /api/v1/workflows/:name': runtime(['invalid_request', 'workflow_not_found']),
  'PUT /api/v1/workflows/:name': runtime(['invalid_request', 'workflow_not_found']),
  'DELETE /api/v1/workflows/:name': runtime(['workflow_not_found']),
  // Read from the KV bucket, not asked of a node.
  'GET /api/v1/cluster': local(['unavailable', 'internal']),
};

/** Routes whose 200 announces a next page in Link and X-Next-Cursor (gateway/routes/paging.ts). */
export const PAGED_ROUTES: ReadonlySet<string> = new Set([
  'GET /api/v1/agents/',
  'GET /api/v1/agents/:name/threads',
  'GET /api/v1/tasks/',
  'GET /api/v1/events',
  'GET /api/v1/runs',
  'GET /api/v1/workflows',
]);

// ---------------------------------------------------------------- derived pieces

/**
 * Path parameters by the collection they name a member of (`/agents/:name` → agents). Their examples
 * are the names the request examples create, so "Try it out" in order finds what it made; ids are
 * handed out by the server, so theirs say where the real one comes from.
 */
export const PATH_PARAMETERS: Readonly<Record<string, { readonly description: string; readonly example: string }>> = {
  agents: { description: 'Agent name (percent-encoded), as created with POST /api/v1/agents/', example: EXAMPLE.agent },
  models: { description: 'Model name (percent-encoded), as the provider names it', example: EXAMPLE.model },
  workflows: { description: 'Workflow name, as created with POST /api/v1/workflows', example: EXAMPLE.workflow },
  tasks: { description: 'Task id: task_id of the execute, submit or list answer', example: EXAMPLE.taskId },
  threads: { description: 'Thread id: thread_id of the answer that started the thread', example: EXAMPLE.threadId },
  pulls: { description: 'Pull id: pull_id of the pull answer', example: EXAMPLE.pullId },
  runs: { description: 'Run id: run_id of the run answer', example: EXAMPLE.runId },
  artifacts: { description: "Artifact id: artifact_id of a screenshot action's result or its browser.screenshot event", example: EXAMPLE.artifactId },
};

/** The collection segment before each `:param` of a template: '/api/v1/agents/:name/threads' → ['agents']. */
export function pathParamCollections(template: string): string[] {
  const segments = template.split('/');
  return segments.flatMap((s, i) => (s.startsWith(':') ? [segments[i - 1] ?? ''] : []));
}

/** The first meaningful segment names the group: '/api/v1/agents/...' → 'agents'. */
function tagOf(template: string): string {
  const segments = template.split('/').filter((s) => s !== '');
  const [first, second, third] = segments;
  if (first === 'api' && second !== undefined && /^v\d+$/.test(second) && third !== undefined) return third;
  if (first === undefined) return 'service';
  return first;
}

const TAG_DESCRIPTIONS: Readonly<Record<string, string>> = {
  service: 'Service identity',
  health: 'Kubernetes probes; never rate limited and never behind authentication',
  agents: 'Create, inspect, restart and delete agents',
  supervision: 'The live supervision tree: supervisors, children, restarts and crashes',
  models: 'Load, unload, pull and inspect LLM models',
  tasks: 'Run tasks on agents and read their history',
  events: 'The event log: supervisor, agent lifecycle and model events, kept up to EVENTS_MAX',
  metrics: 'Prometheus exposition',
  cluster: 'The nodes of this namespace and the ownership lease, read from NATS',
};

function operationId(method: string, template: string): string {
  const words = template
    .split('/')
    .filter((s) => s !== '' && s !== 'api' && !/^v\d+$/.test(s))
    .map((s) => (s.startsWith(':') ? `by_${s.slice(1)}` : s))
    .flatMap((s) => s.split(/[^A-Za-z0-9]+/))
    .filter((w) => w !== '');
  const camel = words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
  return method.toLowerCase() + (camel === '' ? 'Root' : camel);
}

function schemaRef(name: string): JsonSchema {
  return { $ref: `#/components/schemas/${name}` };
}

function reason(status: number): string {
  return STATUS_CODES[status] ?? `HTTP ${status}`;
}

/** Every status a route can answer with `{"detail"}`, each with the error codes behind it. */
export function errorStatuses(route: Route, options: Pick<OpenApiOptions, 'access' | 'rateLimited'>): Map<number, ErrorCode[]> {
  const codes = new Set<ErrorCode>();
  const known = ROUTE_ERRORS[routeKey(route)];
  if (known) {
    for (const c of known.codes) codes.add(c);
    if (known.runtime) for (const c of BUS_ERRORS) codes.add(c);
  } else {
    // Undocumented route (the unit test fails on it): claim only what the dispatcher itself does.
    codes.add('internal');
  }
  // A query parameter given twice is refused on every route, before its handler runs.
  codes.add('invalid_request');
  if (route.body !== undefined) {
    codes.add('payload_too_large');
    codes.add('unsupported_media_type'); // the body is not declared application/json (or +json)
    codes.add('request_timeout'); // the body did not arrive within BODY_READ_TIMEOUT_MS
  }
  // While draining for shutdown, the dispatcher refuses everything but reads.
  if (route.method !== 'GET') codes.add('unavailable');
  // With auth off, a write from a browser page of an origin not in CORS_ORIGINS (gateway/origin-guard.ts).
  if (route.method !== 'GET' && !options.access.authEnabled) codes.add('forbidden');
  const needs = requirement(route, options);
  if (needs.kind === 'token') {
    codes.add('unauthorized');
    if (needs.anyOf.length > 0) codes.add('forbidden');
    codes.add('unavailable'); // the key set (JWKS) could not be fetched in time
  }
  if (options.rateLimited(route)) codes.add('rate_limited');

  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) {
    const status = ERROR_CODES[code].status;
    // A status the route answers with its own schema (readiness's 503) is documented as that.
    if (route.responses[status] !== undefined) continue;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return new Map([...byStatus.entries()].sort(([a], [b]) => a - b));
}

const requestIdHeader = { $ref: '#/components/headers/RequestId' };

/** The detail this route answers `code` with, worded as the runtime words it (gateway/error-examples.ts). */
function errorDetail(route: Route, code: ErrorCode, options: Pick<OpenApiOptions, 'access'>): string {
  if (code === 'invalid_request') {
    if (route.body !== undefined) return INVALID_BODY_EXAMPLES[route.body];
    return QUERY_PARAMETERS[routeKey(route)] !== undefined ? INVALID_QUERY_EXAMPLE : DUPLICATE_QUERY_EXAMPLE;
  }
  if (code === 'forbidden') {
    const needs = requirement(route, options);
    if (needs.kind === 'token' && needs.anyOf.length > 0) return `Missing scope: ${needs.anyOf.join(' or ')}`;
    return CROSS_ORIGIN_EXAMPLE;
  }
  if (code === 'queue_full' && route.path.startsWith('/api/v1/models')) return PULL_QUEUE_FULL_EXAMPLE;
  return ERROR_EXAMPLES[code];
}

function errorResponse(route: Route, status: number, codes: readonly ErrorCode[], options: Pick<OpenApiOptions, 'access'>): ResponseObject {
  const headers: Record<string, JsonSchema> = { [REQUEST_ID_HEADER]: requestIdHeader };
  if (RETRY_AFTER_SECONDS[status] !== undefined) headers['retry-after'] = { $ref: '#/components/headers/RetryAfter' };
  if (status === ERROR_CODES.unauthorized.status) headers['www-authenticate'] = { $ref: '#/components/headers/WwwAuthenticate' };
  const examples = Object.fromEntries(codes.map((code) => [code, { summary: code, value: { detail: errorDetail(route, code, options) } }]));
  return {
    description: `${reason(status)} (error codes: ${codes.join(', ')})`,
    headers,
    content: { [JSON_TYPE]: { schema: schemaRef('Error'), examples } },
  };
}

function operation(route: Route, options: OpenApiOptions): Operation {
  const key = routeKey(route);
  const collections = pathParamCollections(route.path);
  const parameters: Parameter[] = [
    ...pathParamNames(route.path).map((name, i): Parameter => {
      const known = PATH_PARAMETERS[collections[i]!];
      return {
        name,
        in: 'path',
        required: true,
        description: known?.description ?? name,
        schema: { type: 'string', minLength: 1 },
        ...(known && { example: known.example }),
      };
    }),
    ...(QUERY_PARAMETERS[key] ?? []).map(
      (p): Parameter => ({
        ...p,
        in: 'query',
        ...(p.name === 'provider' && { schema: { ...p.schema, enum: providerNames(options.kinds) } }),
      }),
    ),
    ...(IDEMPOTENT_ROUTES.has(key) ? [idempotencyKeyParam] : []),
  ];

  const responses: Record<string, ResponseObject> = {};
  for (const [status, schema] of Object.entries(route.responses)) {
    if (schema === undefined) continue;
    const paged = status === '200' && PAGED_ROUTES.has(key);
    responses[status] = {
      description: reason(Number(status)),
      headers: {
        [REQUEST_ID_HEADER]: requestIdHeader,
        ...(paged && { link: { $ref: '#/components/headers/Link' }, [NEXT_CURSOR_HEADER]: { $ref: '#/components/headers/NextCursor' } }),
      },
      // A 204 has no body to describe.
      ...(status !== '204' && { content: contentOf(route, status, schema) }),
    };
  }
  for (const [status, codes] of errorStatuses(route, options)) responses[String(status)] = errorResponse(route, status, codes, options);

  const needs = requirement(route, options);
  return {
    operationId: operationId(route.method, route.path),
    summary: route.summary ?? key,
    tags: [tagOf(route.path)],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(route.body !== undefined
      ? { requestBody: { required: true as const, content: { [JSON_TYPE]: mediaType(route.body) } } }
      : {}),
    responses,
    // Explicitly empty on open routes: no token is looked at there.
    security: needs.kind === 'token' ? [{ [BEARER_SCHEME]: needs.anyOf }] : [],
  };
}

function describeStream(kinds: readonly AgentKindDescriptor[]): string {
  const closeCodes = Object.entries(CLOSE_CODES)
    .map(([name, code]) => `\`${code}\` ${name}`)
    .join(', ');
  return [
    `## Event stream (WebSocket)`,
    ``,
    `\`GET ${STREAM_PATH}\` upgrades to a WebSocket (OpenAPI cannot describe one, so it is described here); ` +
      'without the upgrade it answers 426 Upgrade Required. One task\'s events also come as Server-Sent Events: ' +
      '`GET /api/v1/tasks/{id}/events`, or `Accept: text/event-stream` on `POST /api/v1/tasks/execute`.',
    `The upgrade URL may carry the first subscription: \`?agents=a*,b&types=task.*&tasks=<id>&since=42\`;`,
    `an invalid value refuses the upgrade with \`400 {"detail"}\`.`,
    ``,
    `Client messages are JSON text frames:`,
    `- \`{"op":"subscribe","agents":[...],"types":[...],"tasks":[...],"since":N}\`: replace the filters; '*' globs in agents and types; with \`since\`, missed events still in the replay window come first.`,
    `- \`{"op":"unsubscribe"}\``,
    `- \`{"op":"execute","agent":"...","prompt":"...","parameters":{...},"thread_id":"...","request_id":"..."}\`: run a task (validated like \`TaskExecuteRequest\`; at most ${MAX_TASKS_PER_SOCKET} running per socket).`,
    `- \`{"op":"ping"}\``,
    ``,
    `Server messages: events \`{"seq","time","type","agent","task_id","payload"}\` with \`type\` one of ${eventTypes(kinds).map((t) => `\`${t}\``).join(', ')};`,
    `and control messages \`subscribed\`, \`unsubscribed\`, \`replay.gap\`, \`pong\`, \`task.submitted\`, \`task.result\`, \`task.error\`, \`error\`.`,
    ``,
    `Close codes: ${closeCodes}.`,
  ].join('\n');
}

/** Each kind with its `config` schema, which the registry validates an agent's config against. */
function describeKinds(kinds: readonly AgentKindDescriptor[]): string {
  const sections = kinds.map((k) =>
    [
      `### \`${k.name}\``,
      ``,
      `${k.description}. Providers: ${k.providers.map((p) => `\`${p}\``).join(', ')}.` +
        (k.events.length > 0 ? ` Events of its own: ${k.events.map((e) => `\`${e}\``).join(', ')}.` : ''),
      ``,
      '`config` schema:',
      '',
      '```json',
      JSON.stringify(k.configSchema, null, 2),
      '```',
    ].join('\n'),
  );
  return [
    `## Agent kinds`,
    ``,
    `An agent's \`agent_type\` selects its kind; its \`config\` is validated against that kind's schema.`,
    ``,
    ...sections,
  ].join('\n');
}

function describeScopes(): string {
  const rows = SCOPES.map((s) => `| \`${s}\` | ${SCOPE_DOCS[s]} |`);
  return ['| Scope | Allows |', '| --- | --- |', ...rows].join('\n');
}

function describeApi(options: OpenApiOptions): string {
  const auth = options.access.authEnabled
    ? `Authentication is on: an operation with a lock needs \`Authorization: Bearer <JWT>\` granting the scope it names (\`admin\` grants every scope). A missing or invalid token is answered 401 with \`WWW-Authenticate\`, a token without the scope 403. Health probes are always open.`
    : `Authentication is off on this server (AUTH_ENABLED=false): every operation is open. With it on, operations need a bearer JWT granting these scopes:`;
  return [
    `Aurora is an actor-based multi-agent runtime. Every error answer is \`{"detail": "..."}\`; every answer carries \`${REQUEST_ID_HEADER}\`.`,
    ``,
    `## Authentication`,
    ``,
    auth,
    ``,
    describeScopes(),
    ``,
    describeStream(options.kinds),
    ``,
    describeKinds(options.kinds),
  ].join('\n');
}

/** Builds the document. Pure; call once at startup and serve the result. */
export function buildOpenApiDocument(options: OpenApiOptions): OpenApiDocument {
  const paths: Record<string, PathItem> = {};
  const seenIds = new Set<string>();
  const tags = new Set<string>();
  for (const route of options.routes) {
    const op = operation(route, options);
    if (seenIds.has(op.operationId)) throw new Error(`Two routes share the operationId ${op.operationId}`);
    seenIds.add(op.operationId);
    for (const t of op.tags) tags.add(t);
    const path = openApiPath(route.path);
    const item: PathItem = (paths[path] ??= {});
    item[route.method.toLowerCase() as Method] = op;
  }

  const schemas: Record<string, JsonSchema> = {};
  for (const [name, schema] of [...Object.entries(REQUEST_SCHEMAS), ...Object.entries(RESPONSE_SCHEMAS)]) {
    if (Object.hasOwn(schemas, name)) throw new Error(`Schema name ${name} is both a request and a response schema`);
    // A copy: the document is handed out and must not be a way to change the running schemas.
    schemas[name] = structuredClone(schema) as JsonSchema;
  }

  return {
    openapi: OPENAPI_VERSION,
    info: { title: 'Aurora', version: options.version, description: describeApi(options) },
    servers: [{ url: '/', description: 'This server' }],
    tags: [...tags].map((name) => ({ name, description: TAG_DESCRIPTIONS[name] ?? name })),
    paths,
    components: {
      schemas,
      headers: {
        RequestId: {
          description: 'The request id: the one sent in the request when it was valid, else a new UUID',
          schema: { type: 'string' },
        },
        RetryAfter: { description: 'Seconds to wait before trying again', schema: { type: 'integer', minimum: 0 } },
        WwwAuthenticate: { description: 'The bearer challenge, with the reason the token was refused', schema: { type: 'string' } },
        Link: {
          description: 'The next page, when there is one: `<path?…&cursor=…>; rel="next"` (RFC 8288), relative to this server',
          schema: { type: 'string' },
        },
        NextCursor: { description: 'The cursor of the next page, when there is one', schema: { type: 'string' } },
      },
      securitySchemes: {
        [BEARER_SCHEME]: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: `A JWT signed with a key this server trusts, granting scopes in its \`scope\` (space-separated), \`scp\` or \`scopes\` claim: ${SCOPES.map((s) => `\`${s}\``).join(', ')}.`,
        },
      },
    },
  };
}
