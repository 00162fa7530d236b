// The OpenAPI document against a real OpenAPI validator, and against what the gateway really
// serves: every route of the router is in it (or is one of the docs routes, which it leaves out on
// purpose), nothing else is, and its schemas are the very objects that validate and serialise.
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import {
  buildOpenApiDocument,
  openApiPath,
  pathParamNames,
  QUERY_PARAMETERS,
  ROUTE_ERRORS,
  routeKey,
  type JsonSchema,
  type Method,
  type OpenApiDocument,
  type OpenApiOptions,
  type Operation,
} from '../../gateway/openapi.js';
import type { Route } from '../../gateway/router.js';
import { docsRoutes as docsRoutesFor } from '../../gateway/routes/docs.js';
import { API_ROUTES, servedRoutes } from '../../gateway/routes/index.js';
import { streamRoutes } from '../../gateway/routes/stream.js';
import { compileCodecs, REQUEST_SCHEMAS, RESPONSE_SCHEMAS, type RequestSchemaName, type ResponseSchemaName } from '../../gateway/schemas.js';
import { requirementOf, SCOPES, type AccessSettings } from '../../gateway/scopes.js';
import { TEST_KINDS } from '../helpers/kinds.js';

const AUTH_OFF: AccessSettings = { authEnabled: false, authProtectMetrics: true, authProtectDocs: false };
const AUTH_ON: AccessSettings = { authEnabled: true, authProtectMetrics: true, authProtectDocs: false };
const AUTH_ON_METRICS_OPEN: AccessSettings = { authEnabled: true, authProtectMetrics: false, authProtectDocs: false };
const exemptFromLimits = (r: Route) => r.path.startsWith('/health');

// The table startGateway hands the router; no docs site is needed to list the docs routes.
const docsRoutes = docsRoutesFor(undefined);
const ROUTES = servedRoutes(docsRoutes);

const VARIANTS: Record<string, OpenApiOptions> = {
  'auth off, no rate limit': { version: '1.2.3', routes: API_ROUTES, access: AUTH_OFF, rateLimited: () => false, kinds: TEST_KINDS },
  'auth on, rate limited': { version: '1.2.3', routes: API_ROUTES, access: AUTH_ON, rateLimited: (r) => !exemptFromLimits(r), kinds: TEST_KINDS },
  'auth on, metrics open': { version: '1.2.3', routes: API_ROUTES, access: AUTH_ON_METRICS_OPEN, rateLimited: () => false, kinds: TEST_KINDS },
};

const METHODS: readonly Method[] = ['get', 'post', 'put', 'patch', 'delete'];

/** What is served: the document as the client receives it (through JSON), not the object. */
function served(options: OpenApiOptions): OpenApiDocument {
  return JSON.parse(JSON.stringify(buildOpenApiDocument(options))) as OpenApiDocument;
}

function resolve(doc: OpenApiDocument, schema: JsonSchema | undefined): { name: string; schema: JsonSchema } {
  const ref = schema?.$ref;
  expect(typeof ref, `a $ref, got ${JSON.stringify(schema)}`).toBe('string');
  const prefix = '#/components/schemas/';
  expect((ref as string).startsWith(prefix)).toBe(true);
  const name = (ref as string).slice(prefix.length);
  const target = doc.components.schemas[name];
  expect(target, `components.schemas.${name}`).toBeDefined();
  return { name, schema: target! };
}

function operationOf(doc: OpenApiDocument, route: Route): Operation {
  const op = doc.paths[openApiPath(route.path)]?.[route.method.toLowerCase() as Method];
  expect(op, `${routeKey(route)} is documented`).toBeDefined();
  return op!;
}

/** Every (method, path) pair the document describes. */
function documentedOperations(doc: OpenApiDocument): string[] {
  const out: string[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const key of Object.keys(item)) {
      expect(METHODS, `only operations under ${path}, found "${key}"`).toContain(key);
      out.push(`${key.toUpperCase()} ${path}`);
    }
  }
  return out.sort();
}

describe.each(Object.entries(VARIANTS))('OpenAPI document (%s)', (_name, options) => {
  const doc = served(options);

  it('is valid OpenAPI 3.1 according to @seriousme/openapi-schema-validator, with zero errors', async () => {
    const validator = new Validator({ allErrors: true });
    const result = await validator.validate(doc as unknown as Record<string, unknown>);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('describes exactly the routes the router serves, docs routes left out', () => {
    const served = new Set(ROUTES);
    // The router serves the API, the stream's plain-GET answer (426, described in the document's
    // text with the WebSocket) and the docs routes, and nothing else.
    expect(ROUTES.length).toBe(API_ROUTES.length + streamRoutes.length + docsRoutes.length);
    for (const r of [...API_ROUTES, ...streamRoutes, ...docsRoutes]) expect(served.has(r), routeKey(r)).toBe(true);

    const expected: string[] = [];
    for (const route of ROUTES) {
      if (docsRoutes.includes(route) || streamRoutes.includes(route)) continue;
      expected.push(`${route.method} ${openApiPath(route.path)}`);
    }
    expect(documentedOperations(doc)).toEqual(expected.sort());
    for (const route of docsRoutes) expect(doc.paths[openApiPath(route.path)], route.path).toBeUndefined();
  });

  it('uses the validating schema as each request body, and asks for no body where none is read', () => {
    for (const route of API_ROUTES) {
      const op = operationOf(doc, route);
      if (route.body === undefined) {
        expect(op.requestBody, routeKey(route)).toBeUndefined();
        continue;
      }
      expect(op.requestBody?.required).toBe(true);
      expect(Object.keys(op.requestBody!.content)).toEqual(['application/json']);
      const { name, schema } = resolve(doc, op.requestBody!.content['application/json']!.schema);
      expect(name).toBe(route.body);
      expect(schema, routeKey(route)).toEqual(REQUEST_SCHEMAS[route.body as RequestSchemaName]);
    }
  });

  it('uses the serialising schema for every declared response, 2xx and others', () => {
    for (const route of API_ROUTES) {
      const op = operationOf(doc, route);
      const declared = Object.entries(route.responses);
      expect(declared.some(([s]) => Number(s) >= 200 && Number(s) < 300), `${routeKey(route)} declares a success`).toBe(true);
      for (const [status, schemaName] of declared) {
        const response = op.responses[status];
        expect(response, `${routeKey(route)} ${status}`).toBeDefined();
        const content = Object.entries(response!.content ?? {});
        // A 204 has no body to describe.
        if (status === '204') {
          expect(content, `${routeKey(route)} 204`).toHaveLength(0);
          continue;
        }
        // A route that also streams its answer (Accept: text/event-stream) documents both.
        if (route.eventStream === true && status === '200') {
          expect(content).toHaveLength(2);
          const stream = response!.content!['text/event-stream'];
          expect(resolve(doc, stream!.schema).name).toBe('EventStream');
        } else {
          expect(content).toHaveLength(1);
        }
        const [mediaType, media] = content[0]!;
        expect(mediaType).toBe(
          schemaName === 'Text' ? 'text/plain' : schemaName === 'Binary' ? 'image/png' : schemaName === 'EventStream' ? 'text/event-stream' : 'application/json',
        );
        const { name, schema } = resolve(doc, media.schema);
        expect(name).toBe(schemaName);
        expect(schema, `${routeKey(route)} ${status}`).toEqual(RESPONSE_SCHEMAS[schemaName as ResponseSchemaName]);
      }
      // The only 2xx answers are the declared ones.
      for (const status of Object.keys(op.responses)) {
        if (Number(status) < 300) expect(route.responses[Number(status)], `${routeKey(route)} ${status}`).toBeDefined();
      }
    }
  });

  it('documents every other status with the {"detail"} schema, as the dispatcher can answer it', () => {
    const errorSchema = doc.components.schemas.Error;
    expect(errorSchema).toEqual(RESPONSE_SCHEMAS.Error);
    for (const route of API_ROUTES) {
      const op = operationOf(doc, route);
      const key = routeKey(route);
      const statuses = Object.keys(op.responses).map(Number);
      for (const status of statuses) {
        if (route.responses[status] !== undefined) continue;
        expect(status, key).toBeGreaterThanOrEqual(400);
        expect(resolve(doc, op.responses[String(status)]!.content?.['application/json']?.schema).name, `${key} ${status}`).toBe('Error');
      }
      if (route.body !== undefined) {
        expect(statuses, `${key}: invalid bodies`).toContain(400);
        expect(statuses, `${key}: oversized bodies`).toContain(413);
        expect(statuses, `${key}: bodies not sent as JSON`).toContain(415);
      }
      if (QUERY_PARAMETERS[key]) expect(statuses, `${key}: bad query values`).toContain(400);
      if (ROUTE_ERRORS[key]!.runtime) {
        expect(statuses, `${key}: no responders`).toContain(503);
        expect(statuses, `${key}: bus timeout`).toContain(504);
      }
      if (route.method !== 'GET' && route.responses[503] === undefined) expect(statuses, `${key}: draining`).toContain(503);
      expect(statuses.includes(429), `${key}: 429`).toBe(
        options.rateLimited(route) || ROUTE_ERRORS[key]!.codes.some((c) => c === 'queue_full' || c === 'rate_limited'),
      );
      const needs = requirementOf(route, options.access);
      expect(statuses.includes(401), `${key}: 401`).toBe(needs.kind === 'token');
      expect(statuses.includes(403), `${key}: 403`).toBe(
        (needs.kind === 'token' && needs.anyOf.length > 0) ||
          ROUTE_ERRORS[key]!.codes.includes('fault_injection_disabled') ||
          // With auth off, writes from browser pages of unlisted origins (gateway/origin-guard.ts).
          (route.method !== 'GET' && !options.access.authEnabled),
      );
      if (statuses.includes(401)) expect(Object.keys(op.responses['401']!.headers ?? {})).toContain('www-authenticate');
      if (statuses.includes(429)) expect(Object.keys(op.responses['429']!.headers ?? {})).toContain('retry-after');
    }
  });

  it('requires exactly the scope the dispatcher enforces, per operation', () => {
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    for (const scope of SCOPES) expect(doc.info.description).toContain(`\`${scope}\``);
    for (const route of API_ROUTES) {
      const needs = requirementOf(route, options.access);
      expect(operationOf(doc, route).security, routeKey(route)).toEqual(
        needs.kind === 'token' ? [{ bearerAuth: [...needs.anyOf] }] : [],
      );
    }
  });

  it('declares each path parameter of the template and the query parameters the handler reads', () => {
    for (const route of API_ROUTES) {
      const params = operationOf(doc, route).parameters ?? [];
      const inPath = params.filter((p) => p.in === 'path');
      expect(inPath.map((p) => p.name), routeKey(route)).toEqual(pathParamNames(route.path));
      for (const p of inPath) expect(p.required).toBe(true);
      const inQuery = params.filter((p) => p.in === 'query').map((p) => p.name);
      expect(inQuery, routeKey(route)).toEqual((QUERY_PARAMETERS[routeKey(route)] ?? []).map((p) => p.name));
    }
    const tasks = operationOf(doc, API_ROUTES.find((r) => routeKey(r) === 'GET /api/v1/tasks/')!);
    expect(tasks.parameters!.map((p) => p.name)).toEqual(['agent', 'agent_id', 'status', 'limit', 'cursor']);
    const unload = operationOf(doc, API_ROUTES.find((r) => routeKey(r) === 'DELETE /api/v1/models/:name')!);
    expect(unload.parameters!.map((p) => `${p.in}:${p.name}`)).toEqual(['path:name', 'query:provider']);
  });

  it('carries the version it was given and describes the WebSocket stream', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toMatchObject({ title: 'Aurora', version: '1.2.3' });
    expect(doc.info.description).toContain('/api/v1/stream');
    expect(doc.info.description).toMatch(/4008/);
    expect(doc.info.description).toContain(options.access.authEnabled ? 'Authentication is on' : 'Authentication is off');
  });
});

describe('OpenAPI inputs', () => {
  it('keeps its per-route tables exactly in step with the route table', () => {
    const keys = API_ROUTES.map(routeKey).sort();
    expect(Object.keys(ROUTE_ERRORS).sort()).toEqual(keys);
    for (const key of Object.keys(QUERY_PARAMETERS)) expect(keys, key).toContain(key);
  });

  it('puts schemas in that JSON Schema 2020-12 (the OpenAPI 3.1 dialect) accepts as they are', () => {
    // The OpenAPI validator does not look inside Schema Objects; ajv's 2020-12 mode does.
    // `discriminator` is a keyword of the OpenAPI 3.1 dialect (workflow nodes use it).
    const ajv = new Ajv2020({ strict: true, allErrors: true, discriminator: true });
    const doc = served(VARIANTS['auth off, no rate limit']!);
    for (const [name, schema] of Object.entries(doc.components.schemas)) {
      expect(ajv.validateSchema(schema), `${name}: ${ajv.errorsText(ajv.errors)}`).toBe(true);
      expect(() => ajv.compile(schema), name).not.toThrow();
    }
    expect(Object.keys(doc.components.schemas).sort()).toEqual([...Object.keys(REQUEST_SCHEMAS), ...Object.keys(RESPONSE_SCHEMAS)].sort());
  });

  it('would be caught by the validator if it were malformed', async () => {
    const doc = served(VARIANTS['auth off, no rate limit']!) as unknown as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    // A response object must have a description; an operation's responses must not be empty.
    const firstOp = Object.values(Object.values(doc.paths)[0]!)[0]!;
    firstOp.responses = { 200: { content: {} } };
    const result = await new Validator().validate(doc);
    expect(result.valid).toBe(false);
  });

  it('describes schemas that compiling the codecs leaves as they are', () => {
    // The document is built from the exported schemas; a compiler that rewrote them in place
    // (fast-json-stringify sorts `type` arrays) would make it depend on start-up order.
    const before = JSON.stringify([REQUEST_SCHEMAS, RESPONSE_SCHEMAS]);
    compileCodecs();
    expect(JSON.stringify([REQUEST_SCHEMAS, RESPONSE_SCHEMAS])).toBe(before);
  });

  it('hands out copies: changing the document cannot change the running schemas', () => {
    const doc = buildOpenApiDocument(VARIANTS['auth off, no rate limit']!);
    const before = JSON.stringify(REQUEST_SCHEMAS.AgentCreateRequest);
    (doc.components.schemas.AgentCreateRequest as { required: string[] }).required.push('sneaky');
    expect(JSON.stringify(REQUEST_SCHEMAS.AgentCreateRequest)).toBe(before);
  });
});
