// Hostile requests for the fuzz suite (test/integration/fuzz.test.ts), generated from a seeded
// PRNG so every run sends the same bytes. Each case says what the server must do with it.
//
// Every case is built to be invalid by construction, and the valid parts of each body point at real
// state (an existing agent, an installed model, a fresh agent name): a request the server wrongly
// accepts therefore changes what the suite snapshots, and the suite fails.
import type { Route } from '../../gateway/router.js';
import { MODEL_NAME_PATTERN } from '../../runtime/protocol/index.js';
import { REQUEST_SCHEMAS, type RequestSchemaName } from '../../gateway/schemas.js';
import { frame, requestHead, requestWithBody } from './raw-http.js';

// ---------------------------------------------------------------- PRNG

export interface Rng {
  next(): number;
  int(lo: number, hi: number): number;
  pick<T>(items: readonly T[]): T;
  bytes(n: number): Buffer;
}

/** mulberry32: tiny, fast, and the same sequence on every platform for a given seed. */
export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const int = (lo: number, hi: number): number => lo + Math.floor(next() * (hi - lo + 1));
  return {
    next,
    int,
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!,
    bytes: (n) => Buffer.from(Array.from({ length: n }, () => int(0, 255))),
  };
}

// ---------------------------------------------------------------- expectations

/**
 * What the server must do with a case.
 *  answer          exactly one final answer, a 4xx with a JSON {"detail": string} body
 *  headAnswer      a 4xx answer to a HEAD: no body
 *  answerThenOk    a 4xx {"detail"}, then a 200 for the GET /health/live pipelined behind it
 *  answerThenClose a 4xx {"detail"}, then the server closes the connection (body left unread)
 *  answerThenDrop  a 4xx {"detail"}, then bytes uWS cannot parse as a request: it answers nothing
 *                  more and drops the connection at its idle timeout
 *  uwsClose        uWS's HTTP parser refuses the request and closes at once, before Aurora sees it
 *  uwsDrop         uWS's parser never accepts the head: nothing is answered and uWS drops the
 *                  connection at its idle timeout (~10 s)
 *  clientAbort     the client goes away mid-body; there is nothing to read, only the server to keep
 */
export type Expectation =
  | { kind: 'answer'; statuses?: readonly number[] }
  | { kind: 'headAnswer' }
  | { kind: 'answerThenOk'; statuses?: readonly number[] }
  | { kind: 'answerThenClose'; statuses?: readonly number[] }
  | { kind: 'answerThenDrop'; statuses?: readonly number[] }
  | { kind: 'uwsClose' }
  | { kind: 'uwsDrop' }
  | { kind: 'clientAbort' };

export interface HttpCase {
  readonly group: string;
  readonly label: string;
  readonly parts: readonly (string | Buffer)[];
  readonly expect: Expectation;
  /** How many of the first answers are to a HEAD (they carry no body). */
  readonly headResponses?: number;
}

/** What the cases aim at: state that exists, so a wrongly accepted request shows in the snapshot. */
export interface FuzzTargets {
  /** Agents that exist. The first one is the target of task bodies. */
  readonly agents: readonly string[];
  /** A model Ollama has loaded. */
  readonly loadedModel: string;
  /** A model installed but not loaded: the target of model-load bodies. */
  readonly installedModel: string;
  /** A model not installed that the registry has: the target of pull bodies. */
  readonly missingModel: string;
  /** A task in the history. */
  readonly taskId: string;
  readonly maxBodyBytes: number;
  readonly batchMaxTasks: number;
  readonly routes: readonly Route[];
}

const answer = (statuses?: readonly number[]): Expectation => (statuses ? { kind: 'answer', statuses } : { kind: 'answer' });
const LIVE = requestHead('GET', '/health/live');

// ---------------------------------------------------------------- hostile strings

/** Names that must never pass as an agent name (AGENT_NAME_PATTERN) and name nothing that exists. */
export const HOSTILE_NAMES: readonly string[] = [
  '../../etc/passwd',
  '..\\..\\windows\\win.ini',
  '/etc/passwd',
  '....//....//etc/passwd',
  '%2e%2e%2f%2e%2e%2fetc%2fpasswd',
  '%252e%252e%252f',
  '..%c0%af..%c0%afetc',
  'a\u0000b',
  '\u0000',
  'name%00.json',
  '\u202eevil.exe',
  'zero\u200bwidth',
  '\u200d\u200c\u2060',
  '\ufeffbom',
  '😀',
  '🏴‍☠️agent',
  'e\u0301t\u0301e\u0301',
  'ｆｕｌｌｗｉｄｔｈ',
  'кириллица',
  'العربية',
  '\ud800lone',
  'x'.repeat(65),
  'Ω'.repeat(64),
  'a'.repeat(10_000),
  '',
  ' ',
  '-leading-dash',
  '.hidden',
  '_under',
  'has space',
  'tab\there',
  'new\nline',
  'cr\rlf\n',
  '<script>alert(1)</script>',
  "'; DROP TABLE agents; --",
  '${jndi:ldap://x/a}',
  '{{7*7}}',
  '\r\nSet-Cookie: a=1',
  'a/b',
  'a\\b',
  'a?b=c',
  'a#frag',
  'a;b',
  'a*',
];

/**
 * Hostile as agent names, fine as model names: model names may be longer and name a namespace
 * (`library/llama3.1`), so a pull's pattern accepts these on purpose.
 */
const FINE_MODEL_NAMES: ReadonlySet<string> = new Set(['a/b', 'x'.repeat(65)]);

/** Hostile names a field with this pattern must refuse. */
function hostileFor(pattern: string): readonly string[] {
  return pattern === MODEL_NAME_PATTERN ? HOSTILE_NAMES.filter((n) => !FINE_MODEL_NAMES.has(n)) : HOSTILE_NAMES;
}

/** Keys no closed request body knows. */
export const HOSTILE_KEYS: readonly string[] = [
  '__proto__',
  'constructor',
  'prototype',
  'model',
  'Name',
  'name ',
  '',
  '\u0000',
  '\u202ename',
  '😀',
  '../../etc/passwd',
  'k'.repeat(5000),
];

/** Path segments as they go on the wire (already percent-encoded, or raw where noted). */
function hostileSegments(targets: FuzzTargets): string[] {
  const agent = targets.agents[0]!;
  const model = targets.loadedModel;
  const encoded = HOSTILE_NAMES.filter((n) => n !== '' && n.length < 5000 && !n.includes('\ud800')).map((n) => encodeURIComponent(n));
  return [
    ...encoded,
    '..',
    '.',
    '..;',
    '%2e%2e',
    '%2e',
    '..%2f..%2fetc%2fpasswd',
    '%2e%2e%2f%2e%2e%2fetc%2fpasswd',
    '%252e%252e%252fetc',
    '..%5c..%5cwindows',
    // Overlong UTF-8 for '.' and '/': invalid UTF-8 once decoded.
    '%c0%ae%c0%ae%c0%af',
    '%e0%80%ae',
    '%f0%80%80%af',
    '%uff0e%uff0e',
    '%',
    '%z',
    '%zz',
    '%0',
    '%00',
    '%ff',
    '%ed%a0%80',
    'a%00.json',
    '%0d%0aSet-Cookie:%20a=1',
    'a'.repeat(5000),
    '%41'.repeat(3000),
    // Near misses of names that exist: none may reach the real agent or model.
    `${agent}%00`,
    `${agent}%E2%80%8B`,
    `%E2%80%AE${agent}`,
    `${agent}%20`,
    `%20${agent}`,
    `${agent}.`,
    `${agent}%2F`,
    `${agent}%2f..`,
    `.%2F${agent}`,
    `${agent}%3Fx%3D1`,
    `${agent}%23`,
    `${agent.replace('e', '%D0%B5')}`,
    `${model}%00`,
    `${model}%2F..`,
    `${model}%E2%80%8B`,
  ];
}

/** Raw UTF-8 segments (not percent-encoded): bytes uWS hands over as they are. */
const RAW_UTF8_SEGMENTS = ['\u202eevil', 'zero\u200bwidth', '😀', 'ｆｕｌｌ', 'ü', '\ufeff'];

// ---------------------------------------------------------------- request bodies

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Valid bodies whose acceptance would change state: a fresh agent, a loaded model, a task run. */
function baseBody(name: RequestSchemaName, targets: FuzzTargets, fresh: () => string): { [key: string]: Json } {
  const task = (): { [key: string]: Json } => ({
    agent: targets.agents[0]!,
    prompt: 'fuzz prompt',
    parameters: { system: 'be brief', temperature: 0.5, max_tokens: 5, seed: 1, timeout_ms: 10_000, retries: 0 },
  });
  switch (name) {
    case 'AgentCreateRequest':
      return { name: fresh(), agent_type: 'llm', provider: 'ollama', model_name: 'llama2', description: 'fuzz', config: { system: 'fuzz' } };
    case 'AgentUpdateRequest':
      return { description: 'fuzzed', model_name: 'llama2', config: { system: 'fuzz' } };
    case 'ThreadCreateRequest':
      return { title: 'fuzz thread' };
    case 'ModelLoadRequest':
      return { name: targets.installedModel, provider: 'ollama', config: {} };
    case 'PullRequest':
      return { name: targets.missingModel, provider: 'ollama' };
    case 'TaskExecuteRequest':
      return task();
    case 'TaskBatchRequest':
      return { tasks: [task()] };
    case 'RunRequest':
      return { input: { text: 'fuzz' }, mode: 'background', timeout_ms: 10_000 };
    case 'WorkflowCreateRequest':
      return { name: fresh(), description: 'fuzz', graph: { type: 'agent', id: 'a', agent: targets.agents[0]!, input: '{{ input.x }}' } };
    case 'WorkflowUpdateRequest':
      return { description: 'fuzzed', graph: { type: 'agent', id: 'a', agent: targets.agents[0]!, input: '{{ input.x }}' } };
  }
}

/** Where each body is sent; the agent routes name the first target agent. */
const BODY_ROUTES: Readonly<Record<RequestSchemaName, { method: string; path: (targets: FuzzTargets) => string }>> = {
  AgentCreateRequest: { method: 'POST', path: () => '/api/v1/agents/' },
  AgentUpdateRequest: { method: 'PATCH', path: (t) => `/api/v1/agents/${t.agents[0]!}` },
  ThreadCreateRequest: { method: 'POST', path: (t) => `/api/v1/agents/${t.agents[0]!}/threads` },
  ModelLoadRequest: { method: 'POST', path: () => '/api/v1/models/load' },
  PullRequest: { method: 'POST', path: () => '/api/v1/models/pull' },
  TaskExecuteRequest: { method: 'POST', path: () => '/api/v1/tasks/execute' },
  TaskBatchRequest: { method: 'POST', path: () => '/api/v1/tasks/execute/batch' },
  // No such workflow: a valid body is answered 404, and no body may get a 5xx.
  RunRequest: { method: 'POST', path: () => '/api/v1/workflows/fuzz-missing/runs' },
  WorkflowCreateRequest: { method: 'POST', path: () => '/api/v1/workflows' },
  // No such workflow: a body that got through would be answered 404 and change nothing.
  WorkflowUpdateRequest: { method: 'PUT', path: () => '/api/v1/workflows/fuzz-no-such-workflow' },
};

type Path = readonly (string | number)[];

interface SchemaNode {
  readonly type?: string | readonly string[];
  readonly properties?: Readonly<Record<string, SchemaNode>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean;
  readonly items?: SchemaNode;
  readonly pattern?: string;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minItems?: number;
  readonly anyOf?: readonly SchemaNode[];
}

interface FieldInfo {
  readonly path: Path;
  readonly schema: SchemaNode;
  readonly required: boolean;
}

/** Every field of a request schema, nested ones included (array items as index 0). */
function fieldsOf(schema: SchemaNode, prefix: Path = []): FieldInfo[] {
  const out: FieldInfo[] = [];
  for (const [key, child] of Object.entries(schema.properties ?? {})) {
    const path = [...prefix, key];
    out.push({ path, schema: child, required: (schema.required ?? []).includes(key) });
    if (child.properties) out.push(...fieldsOf(child, path));
    if (child.items) {
      out.push({ path: [...path, 0], schema: child.items, required: true });
      if (child.items.properties) out.push(...fieldsOf(child.items, [...path, 0]));
    }
  }
  return out;
}

/** Closed objects of a schema (where an unknown key must be refused), by path. */
function closedObjects(schema: SchemaNode, prefix: Path = []): Path[] {
  const out: Path[] = schema.additionalProperties === false ? [prefix] : [];
  for (const [key, child] of Object.entries(schema.properties ?? {})) {
    out.push(...closedObjects(child, [...prefix, key]));
    if (child.items) out.push(...closedObjects(child.items, [...prefix, key, 0]));
  }
  return out;
}

const RAW = '\u0001fuzz-raw\u0001';

function clone<T extends Json>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/** The container holding `path`'s last key; containers the base body leaves out are created on the way. */
function parentOf(doc: Json, path: Path): { [key: string]: Json } | Json[] {
  let node = doc;
  for (const [i, key] of path.slice(0, -1).entries()) {
    const holder = node as Record<string, Json>;
    holder[key as string] ??= typeof path[i + 1] === 'number' ? [] : {};
    node = holder[key as string]!;
  }
  return node as { [key: string]: Json } | Json[];
}

function setAt(doc: Json, path: Path, value: Json): void {
  (parentOf(doc, path) as Record<string, Json>)[path[path.length - 1] as string] = value;
}

function deleteAt(doc: Json, path: Path): void {
  delete (parentOf(doc, path) as Record<string, Json>)[path[path.length - 1] as string];
}

/** The document as JSON text with the value at `path` replaced by raw JSON text (which may be 1e309). */
function withRaw(doc: Json, path: Path, raw: string): string {
  const copy = clone(doc);
  setAt(copy, path, RAW);
  return JSON.stringify(copy).replace(JSON.stringify(RAW), raw);
}

/** JSON values as text, with the JSON Schema types each satisfies ([] = none: not a finite number). */
const TYPED_VALUES: readonly (readonly [string, readonly string[]])[] = [
  ['"text"', ['string']],
  ['""', ['string']],
  ['"1"', ['string']],
  ['"\u202e😀"', ['string']],
  ['0', ['integer', 'number']],
  ['-1', ['integer', 'number']],
  ['9007199254740993', ['integer', 'number']],
  ['1.5', ['number']],
  ['-0.25', ['number']],
  ['1e309', []],
  ['-1e309', []],
  ['true', ['boolean']],
  ['false', ['boolean']],
  ['null', ['null']],
  ['[]', ['array']],
  ['[1,"a",null]', ['array']],
  ['{}', ['object']],
  ['{"a":[{"b":null}]}', ['object']],
];

function typesOf(schema: SchemaNode): string[] {
  // A union accepts what any of its branches does.
  if (schema.anyOf !== undefined) return schema.anyOf.flatMap(typesOf);
  if (schema.type === undefined) return [];
  return typeof schema.type === 'string' ? [schema.type] : [...schema.type];
}

/** Values of a JSON type the field does not accept. */
function wrongValuesFor(schema: SchemaNode): string[] {
  // A field that names no type at all (a run's `input`) accepts any JSON value: none is wrong.
  if (schema.type === undefined && schema.anyOf === undefined) return [];
  const accepted = typesOf(schema);
  return TYPED_VALUES.filter(([, types]) => !types.some((t) => accepted.includes(t))).map(([raw]) => raw);
}

function bodyCase(
  targets: FuzzTargets,
  group: string,
  label: string,
  schemaName: RequestSchemaName,
  body: string | Buffer,
  statuses?: readonly number[],
): HttpCase {
  const { method, path } = BODY_ROUTES[schemaName];
  return { group, label: `${schemaName} ${label}`, parts: [requestWithBody(method, path(targets), body)], expect: answer(statuses) };
}

const INVALID_UTF8: readonly (readonly [string, readonly number[]])[] = [
  ['0xff', [0xff]],
  ['0xfe', [0xfe]],
  ['lone continuation', [0x80]],
  ['overlong slash', [0xc0, 0xaf]],
  ['overlong dot', [0xe0, 0x80, 0xae]],
  ['surrogate', [0xed, 0xa0, 0x80]],
  ['above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
  ['truncated 2-byte', [0xc3]],
  ['truncated 3-byte', [0xe2, 0x82]],
  ['5-byte form', [0xf8, 0x88, 0x80, 0x80, 0x80]],
];

/** A string field of each body where bytes can be slipped in without breaking the JSON around them. */
const TEXT_FIELD: Readonly<Record<RequestSchemaName, Path>> = {
  AgentCreateRequest: ['description'],
  AgentUpdateRequest: ['description'],
  ThreadCreateRequest: ['title'],
  ModelLoadRequest: ['config', 'note'],
  PullRequest: ['name'],
  TaskExecuteRequest: ['prompt'],
  TaskBatchRequest: ['tasks', 0, 'prompt'],
  RunRequest: ['input', 'text'],
  WorkflowCreateRequest: ['description'],
  WorkflowUpdateRequest: ['description'],
};

function bodyCases(targets: FuzzTargets, rng: Rng, fresh: () => string, randomJsonCases: number): HttpCase[] {
  const cases: HttpCase[] = [];
  const names = Object.keys(REQUEST_SCHEMAS) as RequestSchemaName[];
  for (const name of names) {
    const schema = REQUEST_SCHEMAS[name] as SchemaNode;
    const fields = fieldsOf(schema);
    // Wrong JSON type for every field, nested ones included.
    for (const field of fields) {
      for (const raw of wrongValuesFor(field.schema)) {
        cases.push(bodyCase(targets, 'wrong-type', `${field.path.join('.')}=${raw}`, name, withRaw(baseBody(name, targets, fresh), field.path, raw), [400]));
      }
    }
    // Every required field missing, at every level.
    for (const field of fields.filter((f) => f.required && typeof f.path[f.path.length - 1] === 'string')) {
      const doc = baseBody(name, targets, fresh);
      deleteAt(doc, field.path);
      cases.push(bodyCase(targets, 'missing-field', `without ${field.path.join('.')}`, name, JSON.stringify(doc), [400]));
    }
    // An unknown key in every closed object.
    for (const at of closedObjects(schema)) {
      for (const key of HOSTILE_KEYS) {
        const doc = baseBody(name, targets, fresh);
        const target = at.length === 0 ? doc : (parentOf(doc, [...at, '']) as Record<string, Json>);
        // JSON.parse makes "__proto__" an own key; building it with JSON text does the same here.
        const text = JSON.stringify(doc);
        const inner = at.length === 0 ? text : JSON.stringify(target);
        const injected = `${inner.slice(0, -1)},${JSON.stringify(key)}:1}`;
        cases.push(bodyCase(targets, 'extra-field', `${[...at, JSON.stringify(key).slice(0, 24)].join('.')}`, name, text.replace(inner, injected), [400]));
      }
    }
    // Values of the right type outside their bounds.
    for (const field of fields) {
      const s = field.schema;
      const bad: [string, string][] = [];
      if (s.pattern !== undefined) {
        for (const hostile of hostileFor(s.pattern)) bad.push([`pattern ${JSON.stringify(hostile).slice(0, 30)}`, JSON.stringify(hostile)]);
      }
      if (s.minLength !== undefined && s.minLength > 0) bad.push(['empty', '""']);
      if (s.maxLength !== undefined) {
        bad.push(['maxLength+1', JSON.stringify('x'.repeat(s.maxLength + 1))]);
        // Lengths count characters: emoji are 2 UTF-16 units and 4 bytes each.
        if (s.maxLength * 4 < targets.maxBodyBytes / 2) bad.push(['maxLength+1 emoji', JSON.stringify('😀'.repeat(s.maxLength + 1))]);
      }
      if (s.minimum !== undefined) bad.push(['below minimum', String(typesOf(s).includes('integer') ? s.minimum - 1 : s.minimum - 0.001)]);
      if (s.maximum !== undefined) bad.push(['above maximum', String(typesOf(s).includes('integer') ? s.maximum + 1 : s.maximum + 0.001)]);
      if (s.minItems !== undefined) bad.push(['too few items', '[]']);
      for (const [what, raw] of bad) {
        const text = withRaw(baseBody(name, targets, fresh), field.path, raw);
        // Past the byte cap it is a 413 whatever the content: the 'huge' cases send those.
        if (Buffer.byteLength(text) > targets.maxBodyBytes) continue;
        cases.push(bodyCase(targets, 'out-of-range', `${field.path.join('.')} ${what}`, name, text, [400]));
      }
    }
    // Invalid UTF-8 inside a string value: the rest of the body is valid and would be accepted.
    for (const [what, bytes] of INVALID_UTF8) {
      const text = withRaw(baseBody(name, targets, fresh), TEXT_FIELD[name], `"ok${RAW}ok"`);
      const [before, after] = text.split(RAW) as [string, string];
      cases.push(bodyCase(targets, 'invalid-utf8', what, name, Buffer.concat([Buffer.from(before), Buffer.from(bytes), Buffer.from(after)]), [400]));
    }
    // Deep nesting, as the whole body and inside open and closed places.
    const depth = 100_000;
    const arrays = '['.repeat(depth) + ']'.repeat(depth);
    cases.push(bodyCase(targets, 'deep-nesting', '100k nested arrays as the body', name, arrays, [400]));
    cases.push(bodyCase(targets, 'deep-nesting', '30k nested objects as the body', name, '{"a":'.repeat(30_000) + '1' + '}'.repeat(30_000), [400]));
    const openPath: Path =
      name === 'AgentCreateRequest' || name === 'ModelLoadRequest'
        ? ['config', 'deep']
        : name === 'TaskExecuteRequest'
          ? ['parameters']
          : name === 'PullRequest'
            ? ['name']
            : ['tasks', 0, 'parameters'];
    cases.push(bodyCase(targets, 'deep-nesting', `100k nested arrays at ${openPath.join('.')}`, name, withRaw(baseBody(name, targets, fresh), openPath, arrays), [400]));
    cases.push(bodyCase(targets, 'deep-nesting', '65 nested objects as the first field', name, withRaw(baseBody(name, targets, fresh), [Object.keys(schema.properties ?? {})[0]!], '{"a":'.repeat(65) + '1' + '}'.repeat(65)), [400]));
    // Huge: one string past the byte cap, with and without multibyte characters.
    const hugeField = TEXT_FIELD[name];
    cases.push(bodyCase(targets, 'huge', 'string past the byte cap', name, withRaw(baseBody(name, targets, fresh), hugeField, JSON.stringify('x'.repeat(targets.maxBodyBytes))), [413]));
    cases.push(bodyCase(targets, 'huge', 'emoji string past the byte cap', name, withRaw(baseBody(name, targets, fresh), hugeField, JSON.stringify('😀'.repeat(targets.maxBodyBytes / 4))), [413]));
    cases.push(bodyCase(targets, 'huge', '15k unknown keys', name, JSON.stringify(Object.fromEntries(Array.from({ length: 15_000 }, (_, i) => [`k${i}`, i]))), [400]));
    // Top-level values that are not objects.
    for (const top of ['null', 'true', '0', '1e309', '"string"', '[]', '[{}]', `[${JSON.stringify(baseBody(name, targets, fresh))}]`]) {
      cases.push(bodyCase(targets, 'not-an-object', top.slice(0, 30), name, top, [400]));
    }
  }
  // Batches: one invalid task among valid ones, and more tasks than allowed (all valid).
  const batchTask = (): Json => clone(baseBody('TaskExecuteRequest', targets, fresh));
  const tooMany = Array.from({ length: targets.batchMaxTasks + 1 }, batchTask);
  cases.push(bodyCase(targets, 'out-of-range', 'batchMaxTasks+1 valid tasks', 'TaskBatchRequest', JSON.stringify({ tasks: tooMany }), [400]));
  for (let i = 0; i < 10; i++) {
    const tasks = Array.from({ length: rng.int(2, 8) }, batchTask);
    const bad = rng.int(0, tasks.length - 1);
    const field = rng.pick(['agent', 'prompt', 'parameters'] as const);
    // Invalid for each of the three fields ('' is too short for agent and prompt, not an object for parameters).
    (tasks[bad] as Record<string, Json>)[field] = rng.pick([null, 7, [], '', true]);
    cases.push(bodyCase(targets, 'wrong-type', `batch with task ${bad} ${field} broken`, 'TaskBatchRequest', JSON.stringify({ tasks }), [400]));
  }
  // Malformed JSON, from seeded mutations of valid bodies; each mutation cannot yield valid JSON.
  const mutations: readonly ((text: string) => string)[] = [
    (t) => t.slice(0, rng.int(1, t.length - 1)), // a strict prefix of an object is never complete
    (t) => t + rng.pick(['x', '}', ',', ' {}', '\u0000', ']', '"']),
    (t) => {
      const quotes = [...t.matchAll(/"/g)].map((m) => m.index);
      const at = rng.pick(quotes);
      return `${t.slice(0, at)}'${t.slice(at + 1)}`; // an odd number of double quotes is never valid
    },
    (t) => t.replace(':', rng.pick([',', ';', '=', ' '])),
    (t) => t.replace(/}$/, ',}'),
    (t) => `/* comment */${t}`,
    (t) => t.replace(/"([a-z_]+)":/, '$1:'),
    (t) => t.replace(/:(\s*)"/, ':$1"\n'), // a raw newline inside a string
    (t) => t.replace(/:(\s*)"/, ':$1"\\x41'),
    (t) => t.replace(/:(\s*)"/, ':$1"\\u12'),
    (t) => t.replace(/:(\s*)"/, ':$1"\\q'), // an escape JSON does not have
    (t) => t.replace(/}$/, ',"n":NaN}'),
    (t) => t.replace(/}$/, ',"n":Infinity}'),
    (t) => t.replace(/}$/, ',"n":0x10}'),
    (t) => t.replace(/}$/, ',"n":01}'),
    (t) => t.replace(/}$/, ',"n":+1}'),
    (t) => t.replace(/}$/, ',"n":.5}'),
    (t) => t.replace(/}$/, ',"n":undefined}'),
    (t) => `\ufeff${t.slice(0, -1)}`,
    (t) => rng.bytes(rng.int(1, 64)).toString('latin1') + t,
  ];
  for (let i = 0; i < randomJsonCases; i++) {
    const name = rng.pick(names);
    const mutate = rng.pick(mutations);
    cases.push(bodyCase(targets, 'invalid-json', `mutation ${mutations.indexOf(mutate)} #${i}`, name, mutate(JSON.stringify(baseBody(name, targets, fresh))), [400]));
  }
  for (let i = 0; i < 20; i++) {
    cases.push(bodyCase(targets, 'invalid-json', `random bytes #${i}`, rng.pick(names), rng.bytes(rng.int(1, 512)), [400]));
  }
  for (const junk of [' ', '\t\r\n', '{', '}', '{"', '{"name"', '{"name":', '{"name":"x"', '[', '"', "{'name':'x'}", 'nul', 'tru', '\u0000']) {
    cases.push(bodyCase(targets, 'invalid-json', JSON.stringify(junk), rng.pick(names), junk, [400]));
  }
  cases.push(bodyCase(targets, 'invalid-json', 'UTF-16LE body', 'AgentCreateRequest', Buffer.from(JSON.stringify({ name: fresh() }), 'utf16le'), [400]));
  cases.push(bodyCase(targets, 'invalid-json', 'UTF-16 BOM body', 'AgentCreateRequest', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(JSON.stringify({ name: fresh() }), 'utf16le')]), [400]));
  // The last of duplicate keys wins in JSON.parse: a hostile last value must still be refused.
  cases.push(bodyCase(targets, 'invalid-json', 'duplicate name key, hostile last', 'AgentCreateRequest', `{"name":"${fresh()}","name":"../../etc/passwd"}`, [400]));
  return cases;
}

// ---------------------------------------------------------------- paths, methods, queries

/** Fills a route template with names that exist. */
function concretePath(template: string, targets: FuzzTargets): string {
  return template
    .replace(':name', template.startsWith('/api/v1/models') ? targets.loadedModel : targets.agents[0]!)
    .replace(':id', targets.taskId);
}

function pathCases(targets: FuzzTargets): HttpCase[] {
  const cases: HttpCase[] = [];
  const paramRoutes = targets.routes.filter((r) => r.path.includes('/:'));
  for (const route of paramRoutes) {
    const param = route.path.includes(':name') ? ':name' : ':id';
    for (const segment of hostileSegments(targets)) {
      const target = route.path.replace(param, segment);
      const method = route.method === 'GET' ? 'GET' : route.method;
      cases.push({ group: 'hostile-path', label: `${method} ${target.slice(0, 80)}`, parts: [requestHead(method, target, [['Content-Length', '0']])], expect: answer() });
    }
    for (const segment of RAW_UTF8_SEGMENTS) {
      const target = route.path.replace(param, segment);
      cases.push({ group: 'hostile-path', label: `${route.method} raw ${JSON.stringify(segment)}`, parts: [Buffer.from(requestHead(route.method, target, [['Content-Length', '0']]), 'utf8')], expect: answer() });
    }
  }
  // Traversal outside any template, and oversized but parseable targets.
  for (const target of [
    '/api/v1/agents/../../etc/passwd',
    '/api/v1/../../../etc/passwd',
    '/../../../../etc/passwd',
    '/api/v1/agents/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
    '/%2e%2e/%2e%2e/etc/passwd',
    '/api/v1/agents/..%252f..%252fetc%252fpasswd',
    '/api/v1/agents/x/../../../metrics/../etc',
    '/static/..%c0%af..%c0%afetc/passwd',
    '/api/v2/agents/',
    '/API/V1/AGENTS/',
    '/api/v1/agents//',
    '//api//v1//agents',
    '/api/v1/agents/%2F',
    '/health\\..\\..\\etc',
    '/.env',
    '/.git/config',
    '/favicon.ico%00.json',
    `/api/v1/agents/${'a/'.repeat(2000)}`,
    `/${'x'.repeat(60_000)}`,
    `/api/v1/agents/${'%41'.repeat(20_000)}`,
  ]) {
    cases.push({ group: 'hostile-path', label: `GET ${target.slice(0, 60)}`, parts: [requestHead('GET', target)], expect: answer() });
  }
  return cases;
}

/** Methods uWS parses (others it refuses itself; see uwsCases). */
const UWS_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT'] as const;

function methodCases(targets: FuzzTargets, fresh: () => string): HttpCase[] {
  const cases: HttpCase[] = [];
  const paths = [...new Set(targets.routes.map((r) => concretePath(r.path, targets)))];
  for (const path of paths) {
    const served = new Set(targets.routes.filter((r) => concretePath(r.path, targets) === path).map((r) => r.method as string));
    for (const method of UWS_METHODS) {
      if (served.has(method)) continue;
      // A valid body rides along: a wrong method must never act on it.
      const body = JSON.stringify({ name: fresh(), agent: targets.agents[0], prompt: 'fuzz' });
      // 404 when a template with a parameter catches the literal path under that method
      // (GET /api/v1/tasks/execute reads as the task "execute").
      cases.push({ group: 'wrong-method', label: `${method} ${path}`, parts: [requestWithBody(method, path, body)], expect: answer([404, 405]) });
    }
    if (!served.has('GET')) {
      cases.push({ group: 'wrong-method', label: `HEAD ${path}`, parts: [requestHead('HEAD', path)], expect: { kind: 'headAnswer' }, headResponses: 1 });
    }
  }
  return cases;
}

function queryCases(targets: FuzzTargets, rng: Rng): HttpCase[] {
  const cases: HttpCase[] = [];
  const get = (target: string, group = 'absurd-query'): HttpCase => ({ group, label: `GET ${target.slice(0, 80)}`, parts: [requestHead('GET', target)], expect: answer([400]) });
  const absurdLimits = ['-1', '0', '1001', '1e309', '1e3', 'NaN', 'Infinity', '-Infinity', '1.5', '0x10', '0b1', '', '%201', '1%20', '+1', '%2B1', '9'.repeat(400), '%D9%A1', '%EF%BC%91', '%00', '1%00', 'null', 'true', '[1]', '%5B%5D', '10000000000000000000000'];
  for (const v of absurdLimits) cases.push(get(`/api/v1/tasks/?limit=${v}`));
  for (const v of ['%3Cscript%3Ealert(1)%3C%2Fscript%3E', 'COMPLETED', '', '%00', 'completed%00', 'running,failed', '*', '..%2F..%2F', '%F0%9F%98%80']) cases.push(get(`/api/v1/tasks/?status=${v}`));
  for (const v of ['..%2F..%2Fetc%2Fpasswd', '%00', 'x'.repeat(65), '%F0%9F%98%80', '%E2%80%AEevil', '%2E%2E', '', '-x', '%c0%ae']) cases.push(get(`/api/v1/tasks/?agent=${v}`));
  // Every list pages: absurd limits and cursors on each, and filters that are not what they name.
  const lists = ['/api/v1/agents/', '/api/v1/events', `/api/v1/agents/${targets.agents[0]!}/threads`, '/api/v1/workflows'];
  for (const list of lists) for (const v of absurdLimits.filter((_, i) => i % 3 === 0)) cases.push(get(`${list}?limit=${v}`));
  const absurdCursors = ['%00', 'x', '%FF%FE', 'W10', 'WyJ0YXNrcyIsMSwyXQ', 'eyJ9', '..%2F..%2F', 'A'.repeat(513), '%F0%9F%98%80', 'null', '%5B%5D'];
  for (const list of ['/api/v1/tasks/', ...lists]) for (const v of absurdCursors) cases.push(get(`${list}?cursor=${v}`));
  for (const v of ['IDLE', 'asleep', '', '%00', 'idle,failed']) cases.push(get(`/api/v1/agents/?status=${v}`));
  for (const v of ['', 'x'.repeat(65)]) cases.push(get(`/api/v1/agents/?kind=${v}`));
  for (const v of ['supervisor', '*', 'supervisor.', 'Supervisor.crash', '%00', 'a.*.b', '..%2F']) cases.push(get(`/api/v1/events?type=${v}`));
  for (const v of ['yesterday', '2025-01-01', '2025-13-01T00:00:00Z', '1e9', '', '%00']) cases.push(get(`/api/v1/events?since=${v}`));
  // A flag that deletes history, given as anything but true or false: refused before anything goes.
  for (const v of ['1', 'yes', 'TRUE', '', '%00', 'true%00']) {
    cases.push({ group: 'absurd-query', label: `DELETE agent purge=${v}`, parts: [requestHead('DELETE', `/api/v1/agents/${targets.agents[0]!}?purge=${v}`, [['Content-Length', '0']])], expect: answer([400]) });
  }
  // The same parameter twice: refused, whichever copy would have been valid.
  for (const q of ['limit=1&limit=2', 'limit=5&limit=5', 'status=completed&status=failed', 'agent=a&agent=b', 'limit=1&limit=-1', 'limit[]=1&limit[]=2']) {
    cases.push(get(`/api/v1/tasks/?${q}`));
  }
  // Duplicates on requests that would otherwise act on real state.
  const agent = targets.agents[0]!;
  const model = targets.loadedModel;
  const dup: [string, string, string | undefined][] = [
    ['DELETE', `/api/v1/agents/${agent}?force=1&force=1`, undefined],
    ['DELETE', `/api/v1/models/${model}?provider=ollama&provider=ollama`, undefined],
    ['POST', `/api/v1/agents/${agent}/restart?a=1&a=2`, undefined],
    ['POST', `/api/v1/tasks/execute?x=1&x=1`, JSON.stringify({ agent, prompt: 'must not run' })],
    ['POST', `/api/v1/tasks/execute/batch?x=1&x=1`, JSON.stringify({ tasks: [{ agent, prompt: 'must not run' }] })],
    ['POST', `/api/v1/models/load?p=1&p=1`, JSON.stringify({ name: targets.installedModel })],
  ];
  for (const [method, target, body] of dup) {
    cases.push({ group: 'absurd-query', label: `${method} ${target}`, parts: [body === undefined ? requestHead(method, target, [['Content-Length', '0']]) : requestWithBody(method, target, body)], expect: answer([400]) });
  }
  for (const v of ['%3Cscript%3E', 'OLLAMA', '', '%00', 'ollama%00', '..%2Fx']) {
    cases.push({ group: 'absurd-query', label: `DELETE model provider=${v}`, parts: [requestHead('DELETE', `/api/v1/models/${model}?provider=${v}`)], expect: answer([400]) });
    cases.push(get(`/api/v1/models/${model}/status?provider=${v}`));
  }
  // Seeded junk: random keys and values, always with one invalid limit so the answer is a 400.
  const junk = ['%00', '%zz', '%', '&&', '==', '%E2%80%8B', '..%2F', 'x'.repeat(300), '%5B%5D', '%7B%7D', ';', '+', '%2B'];
  for (let i = 0; i < 30; i++) {
    const extra = Array.from({ length: rng.int(0, 6) }, () => `${rng.pick(junk)}=${rng.pick(junk)}`);
    extra.splice(rng.int(0, extra.length), 0, `limit=${rng.pick(absurdLimits.filter((v) => v !== ''))}`);
    cases.push(get(`/api/v1/tasks/?${extra.join('&')}`));
  }
  cases.push(get(`/api/v1/tasks/?${'a=1&'.repeat(5000)}limit=0`));
  return cases;
}

// ---------------------------------------------------------------- headers

function headerCases(targets: FuzzTargets, rng: Rng): HttpCase[] {
  const cases: HttpCase[] = [];
  const garbage: (readonly [string, string])[] = [
    ['X-Request-Id', 'a'.repeat(1000)],
    ['X-Request-Id', '../../etc/passwd'],
    ['X-Request-Id', '<script>alert(1)</script>'],
    ['X-Request-Id', ''],
    ['X-Request-Id', 'ok\tbut-tab'],
    ['Content-Type', 'text/plain'],
    ['Content-Type', 'application/json; charset=utf-16'],
    ['Content-Type', 'multipart/form-data; boundary=' + 'x'.repeat(2000)],
    ['Content-Type', '\u00ff\u00fe'],
    ['Content-Encoding', 'gzip'],
    ['Content-Encoding', 'br, gzip, zstd'],
    ['Authorization', 'Bearer ' + 'a.b.c'],
    ['Authorization', 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.'],
    ['Authorization', 'Basic %%%'],
    ['Authorization', 'x'.repeat(20_000)],
    ['Origin', 'null'],
    ['Origin', 'http://evil.example'],
    ['Origin', 'javascript:alert(1)'],
    ['X-Forwarded-For', '1.1.1.1, <script>, ::ffff:999.1.1.1'],
    ['X-Forwarded-For', 'not-an-ip'],
    ['X-Forwarded-Host', 'evil.example'],
    ['Host', 'evil.example:99999'],
    ['Accept', '*/*;q=garbage'],
    ['Accept-Encoding', 'gzip;q=2, *;q=-1'],
    ['Cookie', 'a=' + 'b'.repeat(30_000)],
    ['Connection', 'close, upgrade, garbage'],
    ['Upgrade', 'websocket'],
    ['Upgrade', 'h2c'],
    ['Range', 'bytes=garbage'],
    ['If-None-Match', '"' + 'x'.repeat(5000)],
    ['Expect', 'garbage'],
    ['TE', 'trailers, deflate;q=0.5'],
    ['X-Http-Method-Override', 'DELETE'],
    ['X-Original-Url', '/api/v1/agents/' + targets.agents[0]],
    ['X-Rewrite-Url', '/metrics'],
  ];
  // The POST's answer: a second Content-Type makes it not plainly JSON (415) and, with auth off, a
  // foreign Origin refuses the write (403) before its body is read; anything else reaches the
  // truncated JSON (400).
  const postStatus = ([name]: readonly [string, string]): number =>
    name === 'Content-Type' ? 415 : name === 'Origin' ? 403 : 400;
  const requests = (extra: readonly (readonly [string, string])[]): [Buffer, number][] => [
    [requestWithBody('POST', '/api/v1/agents/', '{"name":', extra), extra.length === 1 ? postStatus(extra[0]!) : 400],
    [Buffer.from(requestHead('GET', '/api/v1/agents/no-such-agent-fz', extra), 'latin1'), 404],
  ];
  for (const header of garbage) {
    for (const [parts, status] of requests([header])) {
      cases.push({ group: 'header-garbage', label: `${header[0]}: ${header[1].slice(0, 40)} (${status})`, parts: [parts], expect: answer([status]) });
    }
  }
  // Bytes outside ASCII in header values, which uWS hands over as they are.
  for (let i = 0; i < 10; i++) {
    const value = Buffer.from(Array.from({ length: rng.int(1, 40) }, () => rng.int(0x80, 0xff)));
    const head = Buffer.concat([Buffer.from('POST /api/v1/agents/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Junk: '), value, Buffer.from('\r\nContent-Type: application/json\r\nContent-Length: 1\r\n\r\n{')]);
    cases.push({ group: 'header-garbage', label: `8-bit header value #${i}`, parts: [head], expect: answer([400]) });
  }
  // Just under uWS's header count limit, all junk.
  const many = Array.from({ length: 45 }, (_, i) => [`X-Junk-${i}`, rng.bytes(8).toString('hex')] as const);
  cases.push({ group: 'header-garbage', label: '45 junk headers', parts: [requestWithBody('POST', '/api/v1/agents/', '[', many)], expect: answer([400]) });
  cases.push({ group: 'header-garbage', label: '100 kB header value', parts: [requestWithBody('POST', '/api/v1/agents/', '[', [['X-Big', 'v'.repeat(100_000)]])], expect: answer([400]) });
  return cases;
}

// ---------------------------------------------------------------- framing: lengths, truncation, slowness

function framingCases(targets: FuzzTargets, fresh: () => string): HttpCase[] {
  const cases: HttpCase[] = [];
  const validAgent = (): string => JSON.stringify({ name: fresh(), description: 'would be created' });
  const head = (headers: readonly (readonly [string, string])[], target = '/api/v1/agents/'): string =>
    requestHead('POST', target, [['Content-Type', 'application/json'], ...headers]);
  const cap = targets.maxBodyBytes;

  // Content-Length shorter than the body: the body is cut, the rest is read as the next request.
  for (const short of [1, 5, 9]) {
    const body = validAgent();
    cases.push({ group: 'lying-length', label: `Content-Length ${short} < body, then a GET`, parts: [head([['Content-Length', String(short)]]), body.slice(0, short), LIVE], expect: { kind: 'answerThenOk', statuses: [400] } });
    cases.push({ group: 'lying-length', label: `Content-Length ${short} < body, then garbage`, parts: [head([['Content-Length', String(short)]]), body], expect: { kind: 'answerThenDrop', statuses: [400] } });
  }
  cases.push({ group: 'lying-length', label: 'Content-Length 0 with a body, then a GET', parts: [head([['Content-Length', '0']]), LIVE], expect: { kind: 'answerThenOk', statuses: [400] } });
  cases.push({ group: 'lying-length', label: 'no Content-Length with a body', parts: [head([]), validAgent()], expect: { kind: 'answerThenDrop', statuses: [400] } });
  // Content-Length longer than the body: the server waits for bytes that never come, then 408.
  for (const extra of [1, 100, 10_000]) {
    const body = validAgent();
    cases.push({ group: 'lying-length', label: `Content-Length body+${extra}`, parts: [head([['Content-Length', String(Buffer.byteLength(body) + extra)]]), body], expect: { kind: 'answerThenClose', statuses: [408] } });
  }
  // Slow partial bodies: a few bytes, then silence.
  for (const sent of ['{', '{"name"', '{"name":"slow']) {
    cases.push({ group: 'slow-body', label: `sends ${JSON.stringify(sent)} then stalls`, parts: [head([['Content-Length', '64']]), sent], expect: { kind: 'answerThenClose', statuses: [408] } });
  }
  cases.push({ group: 'slow-body', label: 'chunked: one chunk then stalls', parts: [head([['Transfer-Encoding', 'chunked']]), '5\r\n{"nam\r\n'], expect: { kind: 'answerThenClose', statuses: [408] } });
  cases.push({ group: 'slow-body', label: 'chunked: half a chunk then stalls', parts: [head([['Transfer-Encoding', 'chunked']]), '40\r\n{"na'], expect: { kind: 'answerThenClose', statuses: [408] } });
  cases.push({ group: 'slow-body', label: 'head only, Content-Length 10, no body', parts: [head([['Content-Length', '10']])], expect: { kind: 'answerThenClose', statuses: [408] } });
  cases.push({ group: 'slow-body', label: 'Expect: 100-continue, then no body', parts: [head([['Content-Length', '20'], ['Expect', '100-continue']])], expect: { kind: 'answerThenClose', statuses: [408] } });
  // Truncated: the client goes away mid-body.
  for (const cut of [1, 10, 30]) {
    const body = validAgent();
    cases.push({ group: 'truncated', label: `closes after ${cut} body bytes`, parts: [head([['Content-Length', String(Buffer.byteLength(body))]]), body.slice(0, cut)], expect: { kind: 'clientAbort' } });
  }
  cases.push({ group: 'truncated', label: 'closes mid-chunk', parts: [head([['Transfer-Encoding', 'chunked']]), '100\r\n{"name":'], expect: { kind: 'clientAbort' } });
  cases.push({ group: 'truncated', label: 'closes mid-head', parts: ['POST /api/v1/agents/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le'], expect: { kind: 'clientAbort' } });
  cases.push({ group: 'truncated', label: 'closes after a huge declared length', parts: [head([['Content-Length', String(cap)]]), 'x'.repeat(1000)], expect: { kind: 'clientAbort' } });
  // Over the byte cap, with and without Content-Length.
  cases.push({ group: 'oversized', label: 'declared 10 MB, no body sent', parts: [head([['Content-Length', String(10 * 1024 * 1024)]])], expect: { kind: 'answerThenClose', statuses: [413] } });
  cases.push({ group: 'oversized', label: 'declared cap+1, body sent', parts: [head([['Content-Length', String(cap + 1)]]), 'x'.repeat(cap + 1)], expect: { kind: 'answer', statuses: [413] } });
  cases.push({ group: 'oversized', label: 'declared 9 digits', parts: [head([['Content-Length', '999999999']])], expect: { kind: 'answerThenClose', statuses: [413] } });
  cases.push({ group: 'oversized', label: 'chunked past the cap in one chunk', parts: [head([['Transfer-Encoding', 'chunked']]), `${(cap + 10).toString(16)}\r\n${'x'.repeat(cap + 10)}\r\n0\r\n\r\n`], expect: { kind: 'answer', statuses: [413] } });
  cases.push({ group: 'oversized', label: 'chunked past the cap in small chunks', parts: [head([['Transfer-Encoding', 'chunked']]), ...Array.from({ length: Math.ceil(cap / 4096) + 2 }, () => `1000\r\n${'y'.repeat(4096)}\r\n`)], expect: { kind: 'answer', statuses: [413] } });
  // Chunked oddities uWS lets through: they still end in a 4xx.
  cases.push({ group: 'lying-length', label: 'Transfer-Encoding: gzip, chunked', parts: [head([['Transfer-Encoding', 'gzip, chunked']]), '2\r\n{}\r\n0\r\n\r\n'], expect: answer([400]) });
  cases.push({ group: 'lying-length', label: 'Transfer-Encoding: chunked twice', parts: [head([['Transfer-Encoding', 'chunked'], ['Transfer-Encoding', 'chunked']]), '2\r\n{}\r\n0\r\n\r\n'], expect: answer([400]) });
  cases.push({ group: 'lying-length', label: 'two Content-Lengths (uWS reads the first)', parts: [head([['Content-Length', '2'], ['Content-Length', '40']]), '{}'], expect: answer([400]) });
  // Pipelining: a bad request must not disturb the one behind it.
  cases.push({ group: 'pipelined', label: 'invalid JSON then a GET', parts: [requestWithBody('POST', '/api/v1/agents/', '{"name":'), LIVE], expect: { kind: 'answerThenOk', statuses: [400] } });
  cases.push({ group: 'pipelined', label: 'HEAD 404 then a GET', parts: [requestHead('HEAD', '/no/such/path'), LIVE], expect: { kind: 'answerThenOk', statuses: [404] }, headResponses: 1 });
  cases.push({ group: 'pipelined', label: 'wrong method then a GET', parts: [requestHead('PUT', '/health/live'), LIVE], expect: { kind: 'answerThenOk', statuses: [405] } });
  return cases;
}

// ---------------------------------------------------------------- what uWS refuses itself

function uwsCases(): HttpCase[] {
  const close = (label: string, parts: (string | Buffer)[]): HttpCase => ({ group: 'uws-refused', label, parts, expect: { kind: 'uwsClose' } });
  const drop = (label: string, parts: (string | Buffer)[]): HttpCase => ({ group: 'uws-unparsed', label, parts, expect: { kind: 'uwsDrop' } });
  const post = (headers: readonly (readonly [string, string])[]): string => requestHead('POST', '/api/v1/agents/', headers);
  return [
    ...['PROPFIND', 'MKCOL', 'SEARCH', 'QUERY', 'PURGE', 'FOO', 'get', 'Get'].map((m) => close(`method ${m}`, [requestHead(m, '/health/live')])),
    ...['abc', '-1', '+2', '0x10', '2, 2', '1e3', '1000000000', '4294967296', '18446744073709551616', '9999999999999999'].map((v) => close(`Content-Length: ${v}`, [post([['Content-Length', v]]), '{}'])),
    close('chunk extension', [post([['Transfer-Encoding', 'chunked']]), '2;ext=1\r\n{}\r\n0\r\n\r\n']),
    close('Content-Length with Transfer-Encoding', [post([['Content-Length', '2'], ['Transfer-Encoding', 'chunked']]), '2\r\n{}\r\n0\r\n\r\n']),
    close('Transfer-Encoding: gzip', [post([['Transfer-Encoding', 'gzip']]), '{}']),
    close('Transfer-Encoding: chunked with Content-Length 0', [post([['Transfer-Encoding', 'chunked'], ['Content-Length', '0']]), '0\r\n\r\n']),
    close('chunk size zz', [post([['Transfer-Encoding', 'chunked']]), 'zz\r\n{}\r\n0\r\n\r\n']),
    close('chunk size -2', [post([['Transfer-Encoding', 'chunked']]), '-2\r\n{}\r\n0\r\n\r\n']),
    close('chunk size past 64 bits', [post([['Transfer-Encoding', 'chunked']]), 'ffffffffffffffffff\r\n{}']),
    close('1 MB target', [requestHead('GET', `/api/v1/agents/${'a'.repeat(1 << 20)}`)]),
    drop('request line GARBAGE', ['GARBAGE\r\n\r\n']),
    drop('non-ASCII method', [Buffer.from(requestHead('G\u00e9T', '/health/live'), 'utf8')]),
    drop('HTTP/2.0', ['GET /health/live HTTP/2.0\r\nHost: x\r\n\r\n']),
    drop('HTTP/0.9', ['GET /health/live\r\n\r\n']),
    drop('HTTP/1.0 without Host', ['GET /health/live HTTP/1.0\r\n\r\n']),
    drop('HTTP/1.1 without Host', ['GET /health/live HTTP/1.1\r\n\r\n']),
    drop('absolute-form target', [requestHead('GET', 'http://evil.example/health/live')]),
    drop('asterisk target', [requestHead('GET', '*')]),
    drop('target without a slash', [requestHead('GET', 'health/live')]),
    drop('space in target', ['GET /health/ live HTTP/1.1\r\nHost: x\r\n\r\n']),
    drop('control character in target', ['GET /health/\u0001live HTTP/1.1\r\nHost: x\r\n\r\n']),
    drop('two spaces after the method', ['GET  /health/live HTTP/1.1\r\nHost: x\r\n\r\n']),
    drop('header without a colon', ['GET /health/live HTTP/1.1\r\nHost: x\r\nGarbage\r\n\r\n']),
    drop('NUL in a header value', ['GET /health/live HTTP/1.1\r\nHost: x\r\nX-A: a\u0000b\r\n\r\n']),
    drop('bare CR in a header value', ['GET /health/live HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n']),
    drop('space in a header name', ['GET /health/live HTTP/1.1\r\nHost: x\r\nX A: b\r\n\r\n']),
    drop('obsolete line folding', ['GET /health/live HTTP/1.1\r\nHost: x\r\nX-A: a\r\n  b\r\n\r\n']),
    drop('header line starting with a space', ['GET /health/live HTTP/1.1\r\nHost: x\r\n X-A: b\r\n\r\n']),
    drop('LF-only line ends', ['GET /health/live HTTP/1.1\nHost: x\n\n']),
    drop('more than 50 headers', [requestHead('GET', '/health/live', Array.from({ length: 60 }, (_, i) => [`X-H${i}`, 'v'] as const))]),
    drop('TLS ClientHello on the plain port', [Buffer.from('16030100a5010000a10303', 'hex')]),
    // Issue 18: what this uWS build (20.30) cuts before Aurora sees it, as the README says.
    close('160 KB of headers', [requestHead('GET', '/health/live', [['X-Big', 'a'.repeat(160 * 1024)]])]),
    drop('120 headers', [requestHead('GET', '/health/live', Array.from({ length: 119 }, (_, i) => [`X-H${i}`, 'v'] as const))]),
    drop('exactly 50 headers', [requestHead('GET', '/health/live', Array.from({ length: 49 }, (_, i) => [`X-H${i}`, 'v'] as const))]),
    drop('NUL in the target', ['GET /health/\u0000live HTTP/1.1\r\nHost: x\r\n\r\n']),
    drop('HTTP/1.0 with Host', ['GET /health/live HTTP/1.0\r\nHost: x\r\n\r\n']),
  ];
}

// ---------------------------------------------------------------- WebSocket

/** Upgrade requests the stream refuses with a 4xx {"detail"} before any socket exists. */
export function upgradeCases(): HttpCase[] {
  const upgrade = (query: string): string =>
    requestHead('GET', `/api/v1/stream?${query}`, [
      ['Upgrade', 'websocket'],
      ['Connection', 'Upgrade'],
      ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='],
      ['Sec-WebSocket-Version', '13'],
    ]);
  const queries = [
    'since=-1',
    'since=1.5',
    'since=1e309',
    'since=NaN',
    'since=',
    'since=0x10',
    `since=${'9'.repeat(30)}`,
    'types=%3Cscript%3E',
    'types=task.nope',
    'types=agent.created,nothing.matches',
    `agents=${Array.from({ length: 300 }, (_, i) => `a${i}`).join(',')}`,
    `agents=${'a'.repeat(300)}`,
    `tasks=${'t'.repeat(300)}`,
  ];
  return queries.map((q) => ({ group: 'ws-upgrade', label: `upgrade ?${q.slice(0, 50)}`, parts: [upgrade(q)], expect: answer([400]) }));
}

export type WsFrameOutcome = 'close' | 'errorOrClose';

export interface WsFrameCase {
  readonly label: string;
  readonly frames: readonly Buffer[];
  /** close: the server ends the connection. errorOrClose: an error message, or the end of it. */
  readonly expect: WsFrameOutcome;
}

/** Broken frames, sent after a valid upgrade. */
export function wsFrameCases(maxPayloadBytes: number, rng: Rng): WsFrameCase[] {
  const text = (payload: string | Buffer, spec: Partial<Parameters<typeof frame>[0]> = {}): Buffer =>
    frame({ opcode: 0x1, payload: Buffer.isBuffer(payload) ? payload : Buffer.from(payload), ...spec });
  const cases: WsFrameCase[] = [
    ...[0x3, 0x4, 0x5, 0x6, 0x7, 0xb, 0xc, 0xd, 0xe, 0xf].map((opcode) => ({ label: `reserved opcode 0x${opcode.toString(16)}`, frames: [frame({ opcode, payload: Buffer.from('{}') })], expect: 'close' as const })),
    ...[1, 2, 3, 4, 5, 6, 7].map((rsv) => ({ label: `reserved bits ${rsv}`, frames: [text('{"op":"ping"}', { rsv })], expect: 'close' as const })),
    { label: 'fragmented ping', frames: [frame({ opcode: 0x9, fin: false, payload: Buffer.from('x') })], expect: 'close' },
    { label: 'fragmented close', frames: [frame({ opcode: 0x8, fin: false, payload: Buffer.from([0x03, 0xe8]) })], expect: 'close' },
    { label: 'ping over 125 bytes', frames: [frame({ opcode: 0x9, payload: Buffer.alloc(126) })], expect: 'close' },
    { label: 'close over 125 bytes', frames: [frame({ opcode: 0x8, payload: Buffer.alloc(200) })], expect: 'close' },
    { label: 'declared length 2^62', frames: [frame({ opcode: 0x1, declaredLength: 1n << 62n, payload: Buffer.alloc(16) })], expect: 'close' },
    { label: 'declared length 2^63 (top bit set)', frames: [frame({ opcode: 0x1, declaredLength: 1n << 63n, payload: Buffer.alloc(16) })], expect: 'close' },
    { label: 'declared length past the cap', frames: [frame({ opcode: 0x1, declaredLength: BigInt(maxPayloadBytes * 4), payload: Buffer.alloc(16) })], expect: 'close' },
    { label: 'continuation without a start', frames: [frame({ opcode: 0x0, payload: Buffer.from('{}') })], expect: 'close' },
    { label: 'new message inside a fragmented one', frames: [text('{"op"', { fin: false }), text(':"ping"}')], expect: 'close' },
    { label: 'invalid UTF-8 text', frames: [text(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]))], expect: 'close' },
    { label: 'overlong UTF-8 text', frames: [text(Buffer.from([0x22, 0xc0, 0xaf, 0x22]))], expect: 'close' },
    { label: 'surrogate in UTF-8 text', frames: [text(Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22]))], expect: 'close' },
    { label: 'invalid UTF-8 across fragments', frames: [text(Buffer.from([0x22, 0xe2]), { fin: false }), frame({ opcode: 0x0, payload: Buffer.from([0x28, 0x22]) })], expect: 'close' },
    { label: 'binary frame', frames: [frame({ opcode: 0x2, payload: Buffer.from('{"op":"ping"}') })], expect: 'close' },
    { label: 'close with code 999', frames: [frame({ opcode: 0x8, payload: Buffer.from([0x03, 0xe7]) })], expect: 'close' },
    { label: 'close with a 1-byte payload', frames: [frame({ opcode: 0x8, payload: Buffer.from([0x03]) })], expect: 'close' },
    { label: 'close with invalid UTF-8 reason', frames: [frame({ opcode: 0x8, payload: Buffer.from([0x03, 0xe8, 0xff]) })], expect: 'close' },
    { label: 'HTTP request instead of a frame', frames: [Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')], expect: 'close' },
    // Unmasked: uWS reads the first 4 payload bytes as the mask, so 4 more complete the frame.
    { label: 'unmasked client frame', frames: [text('{"op":"ping"}', { masked: false }), Buffer.alloc(4)], expect: 'errorOrClose' },
  ];
  // Seeded random frames, each complete, then a ping op: the socket either answers it or is closed.
  for (let i = 0; i < 20; i++) {
    const frames = Array.from({ length: rng.int(1, 3) }, () =>
      frame({ opcode: rng.int(0, 15), fin: rng.next() < 0.7, rsv: rng.next() < 0.2 ? rng.int(1, 7) : 0, payload: rng.bytes(rng.int(0, 200)) }),
    );
    cases.push({ label: `random frames #${i}`, frames: [...frames, text('{"op":"ping"}')], expect: 'errorOrClose' });
  }
  return cases;
}

/** Text messages the stream must answer with exactly one {"type":"error"} each, the socket staying open. */
export function wsMessageCases(targets: FuzzTargets, rng: Rng): string[] {
  const agent = targets.agents[0]!;
  const out: string[] = [];
  const typed = TYPED_VALUES.map(([raw]) => raw);
  // subscribe: lists and since of the wrong type or shape ([] is a valid list: it matches nothing).
  for (const field of ['agents', 'types', 'tasks']) {
    for (const raw of [...typed.filter((v) => v !== '[]'), '[""]', '[1]', '[null]', '[["a"]]', `[${Array.from({ length: 257 }, () => '"a"').join(',')}]`, `["${'a'.repeat(257)}"]`]) {
      out.push(`{"op":"subscribe","${field}":${raw}}`);
    }
  }
  // 0 is a valid since (replay everything); 2^53+1 parses to an unsafe integer and is refused.
  for (const raw of typed.filter((v) => v !== '0')) out.push(`{"op":"subscribe","since":${raw}}`);
  out.push('{"op":"subscribe","types":["<script>"]}', '{"op":"subscribe","types":["task.nope"]}');
  // execute: every field of the wrong type, missing, or invalid.
  for (const raw of wrongValuesFor({ type: 'string' })) {
    out.push(`{"op":"execute","agent":${raw},"prompt":"p"}`, `{"op":"execute","agent":"${agent}","prompt":${raw}}`);
    out.push(`{"op":"execute","agent":"${agent}","prompt":"p","request_id":${raw}}`);
  }
  for (const raw of wrongValuesFor({ type: 'object' })) out.push(`{"op":"execute","agent":"${agent}","prompt":"p","parameters":${raw}}`);
  for (const hostile of HOSTILE_NAMES) out.push(JSON.stringify({ op: 'execute', agent: hostile, prompt: 'p' }));
  out.push(
    `{"op":"execute","prompt":"p"}`,
    `{"op":"execute","agent":"${agent}"}`,
    `{"op":"execute","agent":"${agent}","prompt":""}`,
    `{"op":"execute","agent":"${agent}","prompt":"p","parameters":{"temperature":3}}`,
    `{"op":"execute","agent":"${agent}","prompt":"p","parameters":{"retries":11}}`,
    `{"op":"execute","agent":"${agent}","prompt":"p","parameters":{"nope":1}}`,
    `{"op":"execute","agent":"${agent}","prompt":"p","request_id":"${'r'.repeat(257)}"}`,
    `{"op":"execute","agent":"${agent}","prompt":"p","parameters":${'['.repeat(50_000)}${']'.repeat(50_000)}}`,
  );
  // Unknown fields on every op, unknown ops, and non-objects.
  for (const key of HOSTILE_KEYS) {
    for (const op of ['subscribe', 'unsubscribe', 'ping', 'execute']) {
      const base = op === 'execute' ? `"agent":"${agent}","prompt":"p",` : '';
      out.push(`{"op":"${op}",${base}${JSON.stringify(key)}:1}`);
    }
  }
  for (const raw of [...typed.filter((v) => !v.startsWith('"')), '"SUBSCRIBE"', '"ping "', '"__proto__"', `"${'x'.repeat(10_000)}"`]) out.push(`{"op":${raw}}`);
  out.push('{}', 'null', '[]', '1', '"ping"', 'true', '[{"op":"ping"}]');
  // Malformed JSON.
  for (const junk of ['', ' ', '{', '{"op":', '{"op":"ping"', "{'op':'ping'}", '{"op":"ping",}', '{op:"ping"}', '\u0000', `${'['.repeat(100_000)}${']'.repeat(100_000)}`]) out.push(junk);
  for (let i = 0; i < 20; i++) {
    const base = JSON.stringify({ op: 'execute', agent, prompt: 'p' });
    out.push(base.slice(0, rng.int(1, base.length - 1)));
  }
  return out;
}

// ---------------------------------------------------------------- all HTTP cases

/** Every HTTP case, in a fixed order for a given seed. `randomJsonCases`: seeded malformed-JSON bodies. */
export function httpCases(targets: FuzzTargets, rng: Rng, randomJsonCases: number): HttpCase[] {
  let created = 0;
  // Valid, unused agent names: a body carrying one that the server wrongly accepts creates an agent.
  const fresh = (): string => `fz-${(created++).toString(36)}`;
  return [
    ...bodyCases(targets, rng, fresh, randomJsonCases),
    ...pathCases(targets),
    ...methodCases(targets, fresh),
    ...queryCases(targets, rng),
    ...headerCases(targets, rng),
    ...framingCases(targets, fresh),
    ...uwsCases(),
    ...upgradeCases(),
  ];
}
