// The WebSocket stream's wire protocol: parsing and validating what clients send, compiling their
// filters, and building what the server sends. Pure: no sockets, no bus; gateway/stream.ts does I/O.
//
// Endpoint: GET /api/v1/stream (WebSocket). The upgrade URL may carry the initial subscription:
//   ?agents=a*,b&types=task.*&tasks=<id>&runs=<run id>&since=42   (lists comma-separated or repeated; unknown
//   parameters ignored; an invalid one refuses the upgrade with 400 {"detail"}). Without filters a
//   new socket receives every event.
//
// Client → server: text frames, one JSON object each, at most MAX_BODY_BYTES (like a REST body).
//   {"op":"subscribe","agents":["a*"],"types":["task.*"],"tasks":["<id>"],"since":42}
//       Every field optional; replaces the previous filters for every event not yet sent. Within
//       a list any entry may match ('*' matches any run of characters, in agents and types; task
//       ids are exact); `runs` takes workflow run ids (exact) and matches every event of the run and
//       of everything below it: its steps' tasks, nested runs, their tokens); across lists all must match; an absent list matches everything, an empty
//       one nothing. A types entry that matches no event type is an error. With `since`, the
//       events with seq > since still in the replay window that pass the new filters are sent,
//       then live ones: no gap, no duplicate.
//   {"op":"unsubscribe"}     no more events, except those of tasks started on this socket
//   {"op":"execute","agent":"<name>","prompt":"...","parameters":{...}?,"thread_id":"..."?,"request_id":"..."?}
//       Runs a task (same validation as POST /agents/{name}/execute). The socket receives that
//       task's events whatever its filters, until the task's final message.
//   {"op":"ping"}
//
// Server → client:
//   {"seq","time","type","agent"?,"task_id"?,"payload"}      an event; seq is per gateway process
//   {"type":"subscribed","seq"}      reply to a connect or subscribe; seq = newest seq right now
//   {"type":"unsubscribed","seq"}    reply to unsubscribe
//   {"type":"replay.gap","oldest_seq"}   after "subscribed" when `since` is older than the window
//                                    (or ahead of this gateway: a cursor from another process)
//   {"type":"pong"}
//   {"type":"task.submitted","request_id"?,"task_id"}    execute accepted; the task's events follow
//   {"type":"task.result","request_id"?,"task_id","result":TaskResult}   final, after its events
//   {"type":"task.error","request_id"?,"task_id","detail","code"}        final; code from errors.ts
//   {"type":"error","detail","request_id"?}   a message that could not be handled; socket stays open
// Control messages carry a `type` that is never an event type.
//
// Close codes: see CLOSE_CODES below (1001 shutdown, 1003 binary frame, 1009 message too big,
// 4008 slow consumer).
import type { ErrorCode } from '../runtime/errors.js';
import {
  CORE_EVENT_TYPES,
  type AuroraEvent,
  type TaskExecuteBody,
  type TaskParameters,
  type TaskResult,
} from '../runtime/protocol/index.js';
import type { Requirement } from './scopes.js';

export const STREAM_PATH = '/api/v1/stream';

/** A token may open the stream if it can do something on it: read events, or run tasks. */
export const STREAM_REQUIREMENT: Requirement = { kind: 'token', anyOf: ['events:read', 'tasks:execute'] };

/** Entries per filter list. */
export const MAX_FILTER_ENTRIES = 256;
/** Length of one filter entry (agent pattern, type pattern or task id). */
export const MAX_FILTER_ENTRY_LENGTH = 256;
export const MAX_REQUEST_ID_LENGTH = 256;
/** Tasks one socket may have running at once; more are refused with an error message. */
export const MAX_TASKS_PER_SOCKET = 32;

/** WebSocket close codes the stream uses. */
export const CLOSE_CODES = {
  /** The gateway is shutting down. */
  goingAway: 1001,
  /** A binary frame: the stream speaks JSON text only. */
  unsupportedData: 1003,
  /** A message over MAX_BODY_BYTES. (Frames over twice that are dropped by uWS: the client sees 1006.) */
  tooBig: 1009,
  /**
   * Slow consumer: more than WS_MAX_QUEUE_BYTES waited unsent for this socket, or a replay fell
   * so far behind that the events it still had to send left the replay window.
   */
  slowConsumer: 4008,
} as const;

export const SLOW_CONSUMER_REASON = 'slow consumer';

/**
 * Close frame sent when the socket's token expires (4000-4999: application codes; 4401 echoes
 * HTTP 401). Not one of CLOSE_CODES: the OpenAPI document prints that list as it is.
 */
export const TOKEN_EXPIRED_CLOSE = { code: 4401, reason: 'token expired' } as const;

// ---------------------------------------------------------------- filters

export interface SubscriptionSpec {
  agents?: readonly string[];
  types?: readonly string[];
  tasks?: readonly string[];
  /** Workflow runs: an event matches when its lineage holds one of them (the run's whole subtree). */
  runs?: readonly string[];
}

/** A compiled filter. */
export interface EventFilter {
  matches(event: AuroraEvent): boolean;
}

export const MATCH_NOTHING: EventFilter = { matches: () => false };
export const MATCH_EVERYTHING: EventFilter = { matches: () => true };

/**
 * '*' matches any run of characters (dots included); everything else is literal. Greedy matching
 * with one backtrack point, O(pattern × text) at worst: no regular expressions, so a hostile
 * pattern cannot make matching explode.
 */
export function globMatch(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let starP = -1;
  let starT = 0;
  while (t < text.length) {
    if (p < pattern.length && pattern.charCodeAt(p) === 42 /* * */) {
      starP = p++;
      starT = t;
    } else if (p < pattern.length && pattern.charCodeAt(p) === text.charCodeAt(t)) {
      p++;
      t++;
    } else if (starP >= 0) {
      p = starP + 1;
      t = ++starT;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern.charCodeAt(p) === 42) p++;
  return p === pattern.length;
}

type StringTest = (value: string | undefined) => boolean;

function compileList(patterns: readonly string[] | undefined, globs: boolean): StringTest | undefined {
  if (patterns === undefined) return undefined;
  if (globs && patterns.includes('*')) return undefined;
  const exact = new Set<string>();
  const wild: string[] = [];
  for (const p of patterns) {
    if (globs && p.includes('*')) wild.push(p);
    else exact.add(p);
  }
  return (value) => {
    if (value === undefined) return false;
    if (exact.has(value)) return true;
    for (const w of wild) if (globMatch(w, value)) return true;
    return false;
  };
}

/**
 * Equal keys mean equal filters, so sockets with equal keys can share one fan-out (the converse
 * need not hold). Order and repeats within a list do not change a filter, so they do not change
 * the key; absent and empty lists differ ("everything" vs "nothing"), hence null for absent.
 */
export function filterKey(spec: SubscriptionSpec): string {
  const canonical = (list: readonly string[] | undefined): string[] | null =>
    list === undefined ? null : [...new Set(list)].sort();
  return JSON.stringify([canonical(spec.agents), canonical(spec.types), canonical(spec.tasks), canonical(spec.runs)]);
}

/** The key of MATCH_NOTHING (after unsubscribe); no spec has it. */
export const NOTHING_KEY = 'nothing';

export function compileFilter(spec: SubscriptionSpec): EventFilter {
  const agent = compileList(spec.agents, true);
  const type = compileList(spec.types, true);
  const task = compileList(spec.tasks, false);
  const runs = spec.runs === undefined ? undefined : new Set(spec.runs);
  if (agent === undefined && type === undefined && task === undefined && runs === undefined) return MATCH_EVERYTHING;
  return {
    matches: (e) =>
      (type === undefined || type(e.type)) &&
      (agent === undefined || agent(e.agent)) &&
      (task === undefined || task(e.task_id)) &&
      (runs === undefined || inRuns(runs, e)),
  };
}

/** The run's own task (task_id = run_id) or anything traced below it. */
function inRuns(runs: ReadonlySet<string>, e: AuroraEvent): boolean {
  if (e.task_id !== undefined && runs.has(e.task_id)) return true;
  if (e.lineage === undefined) return false;
  for (const id of e.lineage) if (runs.has(id)) return true;
  return false;
}

// ---------------------------------------------------------------- client messages

export interface SubscribeOp extends SubscriptionSpec {
  op: 'subscribe';
  since?: number;
}

export interface ExecuteOp {
  op: 'execute';
  agent: string;
  prompt: string;
  parameters: TaskParameters;
  /** Continue this thread of the agent. */
  thread_id?: string;
  request_id?: string;
}

export type ClientOp = SubscribeOp | ExecuteOp | { op: 'unsubscribe' } | { op: 'ping' };

export type Parsed<T> = { ok: true; value: T } | { ok: false; detail: string; request_id?: string };

const OPS = ['subscribe', 'unsubscribe', 'execute', 'ping'] as const;
const SUBSCRIBE_FIELDS = new Set(['op', 'agents', 'types', 'tasks', 'runs', 'since']);
const EXECUTE_FIELDS = new Set(['op', 'agent', 'prompt', 'parameters', 'thread_id', 'request_id']);
const BARE_FIELDS = new Set(['op']);

class Invalid extends Error {}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function onlyFields(msg: Record<string, unknown>, allowed: ReadonlySet<string>, op: string): void {
  for (const key of Object.keys(msg)) {
    if (!allowed.has(key)) throw new Invalid(`unknown field "${key}" in ${op}`);
  }
}

function stringList(value: unknown, field: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw new Invalid(`${field} must be an array of strings`);
  if (value.length > MAX_FILTER_ENTRIES) throw new Invalid(`${field} may hold at most ${MAX_FILTER_ENTRIES} entries`);
  for (const v of value) {
    if (typeof v !== 'string' || v.length === 0) throw new Invalid(`${field} must be an array of non-empty strings`);
    if (v.length > MAX_FILTER_ENTRY_LENGTH) throw new Invalid(`${field} entries may be at most ${MAX_FILTER_ENTRY_LENGTH} characters`);
  }
  return value as string[];
}

/** A types pattern that matches no event type is a typo; saying so beats a silent, empty stream. */
function checkTypes(types: readonly string[] | undefined, eventTypes: readonly string[]): void {
  if (types === undefined) return;
  for (const t of types) {
    if (!eventTypes.some((known) => globMatch(t, known))) {
      throw new Invalid(`types entry "${t}" matches no event type (known: ${eventTypes.join(', ')})`);
    }
  }
}

function sinceValue(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new Invalid('since must be a non-negative integer');
  }
  return value;
}

function parseSubscribe(msg: Record<string, unknown>, eventTypes: readonly string[]): SubscribeOp {
  onlyFields(msg, SUBSCRIBE_FIELDS, 'subscribe');
  const op: SubscribeOp = { op: 'subscribe' };
  const agents = stringList(msg.agents, 'agents');
  const types = stringList(msg.types, 'types');
  const tasks = stringList(msg.tasks, 'tasks');
  const runs = stringList(msg.runs, 'runs');
  checkTypes(types, eventTypes);
  const since = sinceValue(msg.since);
  if (agents !== undefined) op.agents = agents;
  if (types !== undefined) op.types = types;
  if (tasks !== undefined) op.tasks = tasks;
  if (runs !== undefined) op.runs = runs;
  if (since !== undefined) op.since = since;
  return op;
}

/**
 * Validates the task part of an execute ({agent, prompt, parameters}) and fills defaults: the same
 * schema as POST /agents/{name}/execute, so both ways in accept exactly the same tasks.
 */
export type TaskValidator = (body: unknown) => { ok: true; value: TaskExecuteBody } | { ok: false; message: string };

function parseExecute(msg: Record<string, unknown>, validateTask: TaskValidator): ExecuteOp {
  onlyFields(msg, EXECUTE_FIELDS, 'execute');
  const body: Record<string, unknown> = { agent: msg.agent, prompt: msg.prompt };
  if (msg.parameters !== undefined) body.parameters = msg.parameters;
  if (msg.thread_id !== undefined) body.thread_id = msg.thread_id;
  const checked = validateTask(body);
  if (!checked.ok) throw new Invalid(checked.message);
  const { agent, prompt, parameters, thread_id } = checked.value;
  const op: ExecuteOp = { op: 'execute', agent, prompt, parameters };
  if (thread_id !== undefined) op.thread_id = thread_id;
  if (msg.request_id !== undefined) op.request_id = msg.request_id as string;
  return op;
}

/**
 * Parses one text frame. Never throws: a bad message becomes a detail for an error message.
 * `eventTypes`: every type a subscription may name (the core ones and those of the kinds served).
 */
export function parseClientMessage(
  text: string,
  validateTask: TaskValidator,
  eventTypes: readonly string[] = CORE_EVENT_TYPES,
): Parsed<ClientOp> {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return { ok: false, detail: 'message is not valid JSON' };
  }
  if (!isPlainObject(msg)) return { ok: false, detail: 'message must be a JSON object' };
  // request_id is checked first so every later complaint about an execute can carry it.
  const rid = msg.request_id;
  if (rid !== undefined && (typeof rid !== 'string' || rid.length > MAX_REQUEST_ID_LENGTH)) {
    return { ok: false, detail: `request_id must be a string of at most ${MAX_REQUEST_ID_LENGTH} characters` };
  }
  const fail = (detail: string): Parsed<ClientOp> =>
    rid === undefined ? { ok: false, detail } : { ok: false, detail, request_id: rid as string };
  const op = msg.op;
  if (typeof op !== 'string') return fail('op must be a string');
  if (!(OPS as readonly string[]).includes(op)) return fail(`unknown op "${op.slice(0, 64)}" (known: ${OPS.join(', ')})`);
  try {
    switch (op as (typeof OPS)[number]) {
      case 'subscribe':
        return { ok: true, value: parseSubscribe(msg, eventTypes) };
      case 'execute':
        return { ok: true, value: parseExecute(msg, validateTask) };
      case 'unsubscribe':
        onlyFields(msg, BARE_FIELDS, op);
        return { ok: true, value: { op: 'unsubscribe' } };
      case 'ping':
        onlyFields(msg, BARE_FIELDS, op);
        return { ok: true, value: { op: 'ping' } };
    }
  } catch (err) {
    if (err instanceof Invalid) return fail(err.message);
    throw err;
  }
}

/** The initial subscription from the upgrade URL's query string (without the leading '?'). */
export function parseStreamQuery(query: string, eventTypes: readonly string[] = CORE_EVENT_TYPES): Parsed<SubscribeOp> {
  const params = new URLSearchParams(query);
  const list = (name: string): string[] | undefined => {
    const raw = params.getAll(name);
    if (raw.length === 0) return undefined;
    return raw.flatMap((v) => v.split(',')).filter((v) => v !== '');
  };
  const msg: Record<string, unknown> = { op: 'subscribe' };
  for (const name of ['agents', 'types', 'tasks', 'runs'] as const) {
    const v = list(name);
    if (v !== undefined) msg[name] = v;
  }
  const since = params.get('since');
  if (since !== null) {
    if (!/^\d{1,15}$/.test(since)) return { ok: false, detail: 'since must be a non-negative integer' };
    msg.since = Number(since);
  }
  try {
    return { ok: true, value: parseSubscribe(msg, eventTypes) };
  } catch (err) {
    if (err instanceof Invalid) return { ok: false, detail: err.message };
    throw err;
  }
}

// ---------------------------------------------------------------- server messages

export const serverMessage = {
  subscribed: (seq: number) => JSON.stringify({ type: 'subscribed', seq }),
  unsubscribed: (seq: number) => JSON.stringify({ type: 'unsubscribed', seq }),
  pong: () => '{"type":"pong"}',
  error: (detail: string, requestId?: string) => JSON.stringify({ type: 'error', detail, request_id: requestId }),
  gap: (oldestSeq: number) => JSON.stringify({ type: 'replay.gap', oldest_seq: oldestSeq }),
  taskSubmitted: (requestId: string | undefined, taskId: string) =>
    JSON.stringify({ type: 'task.submitted', request_id: requestId, task_id: taskId }),
  taskResult: (requestId: string | undefined, taskId: string, result: TaskResult) =>
    JSON.stringify({ type: 'task.result', request_id: requestId, task_id: taskId, result }),
  taskError: (requestId: string | undefined, taskId: string, detail: string, code: ErrorCode) =>
    JSON.stringify({ type: 'task.error', request_id: requestId, task_id: taskId, detail, code }),
} as const;
