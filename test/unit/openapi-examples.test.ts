// "Docs that work on the first Try it out": every field of /openapi.json says what it is, every body
// and answer has an example that is valid against its own schema, and every path parameter has a
// description and an example. The walk is over the generated document (what Swagger UI reads), and
// the last block breaks a copy of it in each way to show the walk notices.
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import {
  CROSS_ORIGIN_EXAMPLE,
  DUPLICATE_QUERY_EXAMPLE,
  ERROR_EXAMPLES,
  INVALID_BODY_EXAMPLES,
  PULL_QUEUE_FULL_EXAMPLE,
} from '../../gateway/error-examples.js';
import { buildOpenApiDocument, type OpenApiOptions } from '../../gateway/openapi.js';
import { API_ROUTES } from '../../gateway/routes/index.js';
import type { AccessSettings } from '../../gateway/scopes.js';
import { EXAMPLE } from '../../runtime/protocol/index.js';
import { messageFor } from '../helpers/code-messages.js';
import { TEST_KINDS } from '../helpers/kinds.js';

type Json = Record<string, unknown>;

const AUTH_OFF: AccessSettings = { authEnabled: false, authProtectMetrics: true, authProtectDocs: false };
const AUTH_ON: AccessSettings = { authEnabled: true, authProtectMetrics: true, authProtectDocs: false };
const VARIANTS: Record<string, OpenApiOptions> = {
  'auth off': { version: '1.2.3', routes: API_ROUTES, access: AUTH_OFF, rateLimited: () => false, kinds: TEST_KINDS },
  'auth on, rate limited': { version: '1.2.3', routes: API_ROUTES, access: AUTH_ON, rateLimited: () => true, kinds: TEST_KINDS },
};

/** The document as a client receives it. */
function served(options: OpenApiOptions): Json {
  return JSON.parse(JSON.stringify(buildOpenApiDocument(options))) as Json;
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const DOC_ID = 'https://aurora.invalid/openapi.json';
// JSON Pointer escaping of one reference token (RFC 6901).
const token = (key: string) => key.replaceAll('~', '~0').replaceAll('/', '~1');

/** Sub-schemas of a schema, with the pointer suffix of each. */
function children(schema: Json): [string, Json][] {
  const out: [string, Json][] = [];
  for (const key of ['items', 'additionalProperties', 'not', 'if', 'then', 'else', 'contains']) {
    if (isObject(schema[key])) out.push([`/${key}`, schema[key]]);
  }
  for (const key of ['anyOf', 'oneOf', 'allOf', 'prefixItems']) {
    const list = schema[key];
    if (Array.isArray(list)) list.forEach((s, i) => isObject(s) && out.push([`/${key}/${i}`, s]));
  }
  for (const key of ['properties', 'patternProperties', '$defs']) {
    const map = schema[key];
    if (isObject(map)) for (const [k, s] of Object.entries(map)) if (isObject(s)) out.push([`/${key}/${token(k)}`, s]);
  }
  return out;
}

/** Every sub-schema of the document's components, with its JSON Pointer. */
function schemasOf(doc: Json): [string, Json][] {
  const out: [string, Json][] = [];
  const walk = (pointer: string, schema: Json) => {
    out.push([pointer, schema]);
    for (const [suffix, child] of children(schema)) walk(pointer + suffix, child);
  };
  const schemas = (doc.components as Json).schemas as Json;
  for (const [name, schema] of Object.entries(schemas)) walk(`/components/schemas/${token(name)}`, schema as Json);
  return out;
}

function compilerFor(doc: Json) {
  // Not strict: the document is added whole, so that examples are checked against the very
  // components their $refs name (strictness of the schemas themselves is openapi.test.ts's job).
  const ajv = new Ajv2020({
    strict: false,
    allErrors: true,
    discriminator: true,
    formats: { 'date-time': /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/ },
  });
  ajv.addSchema(doc, DOC_ID);
  return (schema: Json) => {
    const ref = schema.$ref;
    return ajv.compile(typeof ref === 'string' && ref.startsWith('#') ? { $ref: DOC_ID + ref } : schema);
  };
}

type Operation = { parameters?: Json[]; requestBody?: { content: Record<string, Json> }; responses: Record<string, { content?: Record<string, Json> }> };

function operationsOf(doc: Json): [string, Operation][] {
  const out: [string, Operation][] = [];
  for (const [path, item] of Object.entries(doc.paths as Json)) {
    for (const [method, op] of Object.entries(item as Json)) out.push([`${method.toUpperCase()} ${path}`, op as Operation]);
  }
  return out;
}

/** The examples a media type shows: `example`, each of `examples`. */
function mediaExamples(media: Json): [string, unknown][] {
  const out: [string, unknown][] = [];
  if ('example' in media) out.push(['example', media.example]);
  if (isObject(media.examples)) for (const [name, ex] of Object.entries(media.examples)) out.push([`examples.${name}`, (ex as Json).value]);
  return out;
}

/** Everything the walk finds wrong, one line each; empty when the document is as it must be. */
function problemsOf(doc: Json): string[] {
  const problems: string[] = [];
  const compile = compilerFor(doc);
  const check = (where: string, schema: Json, value: unknown) => {
    const validate = compile(schema);
    if (!validate(value)) problems.push(`${where}: example is invalid: ${JSON.stringify(validate.errors?.slice(0, 3))}`);
  };

  for (const [pointer, schema] of schemasOf(doc)) {
    if (isObject(schema.properties)) {
      for (const [name, property] of Object.entries(schema.properties)) {
        const description = (property as Json).description;
        if (typeof description !== 'string' || description.trim() === '') problems.push(`${pointer}/properties/${name}: no description`);
      }
    }
    if (Array.isArray(schema.examples)) {
      schema.examples.forEach((ex, i) => check(`${pointer}/examples/${i}`, { $ref: `#${pointer}` }, ex));
    }
  }

  for (const [key, op] of operationsOf(doc)) {
    for (const p of op.parameters ?? []) {
      const where = `${key} parameter ${String(p.in)}:${String(p.name)}`;
      if (typeof p.description !== 'string' || p.description.trim() === '') problems.push(`${where}: no description`);
      if (p.in === 'path' && !('example' in p)) problems.push(`${where}: no example`);
      if ('example' in p) check(where, p.schema as Json, p.example);
    }
    const bodies: [string, Json][] = [
      ...Object.entries(op.requestBody?.content ?? {}).map(([type, media]): [string, Json] => [`${key} request ${type}`, media]),
      ...Object.entries(op.responses).flatMap(([status, response]) =>
        Object.entries(response.content ?? {}).map(([type, media]): [string, Json] => [`${key} ${status} ${type}`, media]),
      ),
    ];
    for (const [where, media] of bodies) {
      const examples = mediaExamples(media);
      if (examples.length === 0 && where.endsWith('application/json')) problems.push(`${where}: no example`);
      for (const [name, value] of examples) check(`${where} ${name}`, media.schema as Json, value);
    }
  }
  return problems;
}

describe.each(Object.entries(VARIANTS))('/openapi.json examples and descriptions (%s)', (_name, options) => {
  const doc = served(options);

  it('describes every property, has a valid example for every body and answer, and for every path parameter', () => {
    expect(problemsOf(doc)).toEqual([]);
  });

  it('walks enough of the document to mean something', () => {
    const schemas = schemasOf(doc);
    const properties = schemas.flatMap(([, s]) => Object.keys(isObject(s.properties) ? s.properties : {}));
    expect(properties.length).toBeGreaterThan(300);
    // Inside the recursive workflow graph, oneOf branch by branch.
    expect(schemas.some(([p]) => p.includes('/WorkflowCreateRequest/properties/graph/oneOf/4/properties/routes'))).toBe(true);
    const bodies = operationsOf(doc).flatMap(([, op]) => Object.values(op.responses)).filter((r) => r.content?.['application/json']);
    expect(bodies.length).toBeGreaterThan(200);
  });
});

describe('the examples tell one story', () => {
  const doc = served(VARIANTS['auth off']!);
  const op = (method: string, path: string) => (doc.paths as Record<string, Record<string, Operation>>)[path]![method]!;
  const bodyExample = (method: string, path: string) => op(method, path).requestBody!.content['application/json']!.example as Json;
  const pathExample = (method: string, path: string, name: string) => op(method, path).parameters!.find((p) => p.name === name)!.example;

  it('creates writer on the model the README pulls, and every later example uses them', () => {
    const created = bodyExample('post', '/api/v1/agents/');
    expect(created).toMatchObject({ name: 'writer', agent_type: 'llm', model_name: 'llama2', provider: 'ollama' });
    expect(bodyExample('post', '/api/v1/models/load')).toMatchObject({ name: created.model_name, provider: created.provider });
    expect(bodyExample('post', '/api/v1/models/pull')).toMatchObject({ name: created.model_name });
    expect(bodyExample('post', '/api/v1/tasks/execute')).toMatchObject({ agent: created.name });
    expect(String(bodyExample('post', '/api/v1/tasks/execute').prompt).length).toBeGreaterThan(20);
    for (const path of ['/api/v1/agents/{name}', '/api/v1/agents/{name}/threads', '/api/v1/agents/{name}/restart']) {
      const item = (doc.paths as Record<string, Record<string, Operation>>)[path]!;
      for (const method of Object.keys(item)) expect(pathExample(method, path, 'name'), `${method} ${path}`).toBe(created.name);
    }
    expect(pathExample('delete', '/api/v1/models/{name}', 'name')).toBe(created.model_name);
  });

  it("gives writer a config its kind accepts, so the create example is not refused", () => {
    const created = bodyExample('post', '/api/v1/agents/');
    const kind = TEST_KINDS.find((k) => k.name === created.agent_type)!;
    expect(kind.providers).toContain(created.provider);
    const validate = new Ajv2020({ strict: false }).compile(JSON.parse(JSON.stringify(kind.configSchema)) as Json);
    expect(validate(created.config), JSON.stringify(validate.errors)).toBe(true);
    const patched = bodyExample('patch', '/api/v1/agents/{name}');
    expect(validate(patched.config), JSON.stringify(validate.errors)).toBe(true);
  });

  it('defines a workflow whose agent steps all call writer, and runs it with the input its schema asks for', () => {
    const workflow = bodyExample('post', '/api/v1/workflows');
    const agents: string[] = [];
    const walk = (node: Json) => {
      if (typeof node.agent === 'string') agents.push(node.agent);
      for (const v of Object.values(node)) {
        if (Array.isArray(v)) v.forEach((n) => isObject(n) && walk(n));
        else if (isObject(v)) walk(v);
      }
    };
    walk(workflow.graph as Json);
    expect(agents.length).toBeGreaterThan(0);
    expect(new Set(agents)).toEqual(new Set(['writer']));
    expect(pathExample('post', '/api/v1/workflows/{name}/runs', 'name')).toBe(workflow.name);
    expect(pathExample('get', '/api/v1/workflows/{name}', 'name')).toBe(workflow.name);
    const run = bodyExample('post', '/api/v1/workflows/{name}/runs');
    expect(Object.keys(run.input as Json)).toEqual((workflow.input_schema as { required: string[] }).required);
  });

  it('quotes error details as the code words them', () => {
    const details = [...Object.values(ERROR_EXAMPLES), ...Object.values(INVALID_BODY_EXAMPLES), CROSS_ORIGIN_EXAMPLE, DUPLICATE_QUERY_EXAMPLE, PULL_QUEUE_FULL_EXAMPLE];
    for (const detail of details) expect(messageFor(detail), detail).toBeDefined();
    expect(ERROR_EXAMPLES.agent_not_found).toBe(`Agent ${EXAMPLE.agent} not found`);
  });
});

describe('the walk fails when the document is missing what it checks', () => {
  const fresh = () => served(VARIANTS['auth off']!);
  const schemas = (doc: Json) => (doc.components as Json).schemas as Record<string, Json>;
  const paths = (doc: Json) => doc.paths as Record<string, Record<string, Operation>>;

  it('a property without a description, deep in a component', () => {
    const doc = fresh();
    const timings = (schemas(doc).TaskResult!.properties as Record<string, Json>).timings!;
    delete (timings.properties as Record<string, Json>).queued_ms!.description;
    expect(problemsOf(doc)).toEqual(['/components/schemas/TaskResult/properties/timings/properties/queued_ms: no description']);
  });

  it('a property without a description inside the recursive workflow graph', () => {
    const doc = fresh();
    const graph = (schemas(doc).WorkflowUpdateRequest!.properties as Record<string, Json>).graph!;
    const loop = (graph.oneOf as Json[])[5]!;
    delete (loop.properties as Record<string, Json>).max_iterations!.description;
    expect(problemsOf(doc)).toEqual(['/components/schemas/WorkflowUpdateRequest/properties/graph/oneOf/5/properties/max_iterations: no description']);
  });

  it('a request body or an error answer without an example', () => {
    const doc = fresh();
    delete paths(doc)['/api/v1/tasks/execute']!.post!.requestBody!.content['application/json']!.example;
    delete paths(doc)['/api/v1/agents/{name}']!.get!.responses['404']!.content!['application/json']!.examples;
    expect(problemsOf(doc).sort()).toEqual([
      'GET /api/v1/agents/{name} 404 application/json: no example',
      'POST /api/v1/tasks/execute request application/json: no example',
    ]);
  });

  it('an example that does not match its schema, in a component or on an operation', () => {
    const doc = fresh();
    ((schemas(doc).AgentRecord!.examples as Json[])[0]!).status = 'sleeping';
    paths(doc)['/api/v1/agents/']!.post!.requestBody!.content['application/json']!.example = { name: 'writer', model: 'llama2' };
    const problems = problemsOf(doc);
    expect(problems.some((p) => p.startsWith('/components/schemas/AgentRecord/examples/0: example is invalid'))).toBe(true);
    expect(problems.some((p) => p.startsWith('POST /api/v1/agents/ request application/json example: example is invalid'))).toBe(true);
  });

  it('a path parameter without a description or an example', () => {
    const doc = fresh();
    const name = paths(doc)['/api/v1/agents/{name}']!.get!.parameters!.find((p) => p.name === 'name')!;
    delete name.example;
    name.description = '';
    expect(problemsOf(doc)).toEqual(['GET /api/v1/agents/{name} parameter path:name: no description', 'GET /api/v1/agents/{name} parameter path:name: no example']);
  });
});
