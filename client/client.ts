// The typed client of Aurora's API: one method per operation, request and answer types from
// runtime/protocol (the shapes the gateway validates and serialises), fetch for REST and a
// socket factory for the event stream. No Node-only code: a page can use it with the browser's
// fetch and WebSocket; client/node.ts binds the `ws` package for Node.
import type { Static } from '@sinclair/typebox';
import type {
  AgentCreateRequest,
  AgentDeleted,
  AgentListQuery,
  AgentPage,
  AgentRecord,
  AgentUpdateRequest,
  EventListQuery,
  EventPage,
  Message,
  ModelLoaded,
  ModelLoadRequest,
  ModelMap,
  ModelStatus,
  PullRecord,
  PullRequest,
  Ready,
  RunListQuery,
  RunPage,
  RunRecord,
  SupervisionTree,
  TaskCancelled,
  TaskExecuteRequest,
  TaskListQuery,
  TaskPage,
  TaskRecord,
  TaskResult,
  TaskSubmitted,
  ThreadPage,
  WorkflowPage,
  WorkflowRecord,
} from '../runtime/protocol/index.js';
import { AuroraApiError, AuroraConnectionError } from './errors.js';
import {
  connectStream,
  executeOverStream,
  isStreamEvent,
  type ExecuteHandlers,
  type ServerMessage,
  type SocketFactory,
  type StreamConnection,
  type StreamFilters,
} from './stream.js';

export const DEFAULT_URL = 'http://127.0.0.1:8000';

export interface ClientOptions {
  /** Where Aurora listens, e.g. http://127.0.0.1:8000. */
  url?: string;
  /** Bearer JWT, sent on every request (and on the stream) when set. */
  token?: string;
  /** The stream's socket (client/node.ts gives the `ws` one); the stream methods need it. */
  socket?: SocketFactory;
  /** Defaults to the global fetch. */
  fetch?: typeof fetch;
}

type Query = Readonly<Record<string, string | number | boolean | undefined>>;

export interface RawReply<T> {
  status: number;
  headers: Headers;
  body: T;
}

/** A pull's progress as the stream reports it (model.pull.progress), and its end. */
export type PullProgress = (pull: PullRecord) => void;

const FINAL_PULL_STATUSES = new Set(['completed', 'failed', 'cancelled']);

export type AuroraClient = ReturnType<typeof createAuroraClient>;

export function createAuroraClient(options: ClientOptions = {}) {
  const base = (options.url ?? DEFAULT_URL).replace(/\/+$/, '');
  const token = options.token === undefined || options.token === '' ? undefined : options.token;
  const doFetch = options.fetch ?? fetch;

  /** One REST call: JSON in, JSON out; any status but 2xx is an AuroraApiError with its `detail`. */
  async function request<T>(
    method: string,
    path: string,
    init: { query?: Query; body?: unknown; /** Statuses besides 2xx whose body is an answer, not an error. */ answers?: readonly number[] } = {},
  ): Promise<RawReply<T>> {
    const url = new URL(base + path);
    for (const [k, v] of Object.entries(init.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await doFetch(url, { method, headers, ...(init.body !== undefined && { body: JSON.stringify(init.body) }) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (err as Error).message;
      throw new AuroraConnectionError(base, `cannot reach Aurora at ${base} (${why})`, { cause: err });
    }
    const text = await res.text();
    let body: unknown = text;
    if (text !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
    }
    if (!res.ok && !(init.answers ?? []).includes(res.status)) {
      const detail =
        typeof body === 'object' && body !== null && typeof (body as { detail?: unknown }).detail === 'string'
          ? (body as { detail: string }).detail
          : res.statusText || `HTTP ${res.status}`;
      throw new AuroraApiError(res.status, detail);
    }
    return { status: res.status, headers: res.headers, body: body as T };
  }
  const call = async <T>(method: string, path: string, init?: Parameters<typeof request>[2]): Promise<T> =>
    (await request<T>(method, path, init)).body;
  const seg = encodeURIComponent;

  const socket = (): SocketFactory => {
    if (options.socket === undefined) throw new Error('this client has no socket factory: pass options.socket (client/node.ts does)');
    return options.socket;
  };

  const stream = {
    /**
     * Subscribes with `filters`; resolves once the server confirmed it. Messages go to `onMessage`.
     * `eventsRequired: false` resolves for a token without events:read too (it may still run tasks).
     */
    connect: (filters: StreamFilters, onMessage: (message: ServerMessage) => void, options?: { eventsRequired?: boolean }): Promise<StreamConnection> =>
      connectStream(socket(), base, token, filters, onMessage, options),
    /** Runs a task over the stream: its events as they happen (tokens included), then its result. */
    execute: (task: Static<typeof TaskExecuteRequest>, handlers?: ExecuteHandlers) =>
      executeOverStream(socket(), base, token, task, handlers),
  };

  const models = {
    list: () => call<Static<typeof ModelMap>>('GET', '/api/v1/models/'),
    status: (name: string, provider?: string) =>
      call<ModelStatus>('GET', `/api/v1/models/${seg(name)}/status`, { query: { provider } }),
    /** 201 loaded; with `pull: true` a 202 answers the pull still running (a PullRecord). */
    load: (body: Static<typeof ModelLoadRequest>) =>
      call<Static<typeof ModelLoaded> | PullRecord>('POST', '/api/v1/models/load', { body }),
    unload: (name: string, provider?: string) =>
      call<Static<typeof Message>>('DELETE', `/api/v1/models/${seg(name)}`, { query: { provider } }),
    pull: (body: Static<typeof PullRequest>) => call<PullRecord>('POST', '/api/v1/models/pull', { body }),
    getPull: (id: string) => call<PullRecord>('GET', `/api/v1/models/pulls/${seg(id)}`),
    cancelPull: (id: string) => call<PullRecord>('DELETE', `/api/v1/models/pulls/${seg(id)}`),
    /**
     * Pulls a model and follows it on the stream to its end: `onProgress` sees the record as it
     * grows. Resolves with the completed pull; a failed or cancelled pull rejects with an
     * AuroraApiError of its error code.
     */
    async pullAndFollow(body: Static<typeof PullRequest>, onProgress: PullProgress = () => {}): Promise<PullRecord> {
      let pullId: string | undefined;
      const early: PullRecord[] = [];
      let finish!: (pull: PullRecord) => void;
      const ended = new Promise<PullRecord>((resolve) => (finish = resolve));
      const seen = (pull: PullRecord) => {
        onProgress(pull);
        if (FINAL_PULL_STATUSES.has(pull.status)) finish(pull);
      };
      // Subscribed before the pull starts, so no progress event is missed.
      const connection = await stream.connect({ types: ['model.pull.*'] }, (m) => {
        if (!isStreamEvent(m)) return;
        const pull = m.payload as unknown as PullRecord;
        if (pullId === undefined) early.push(pull);
        else if (pull.pull_id === pullId) seen(pull);
      });
      try {
        const started = await models.pull(body);
        pullId = started.pull_id;
        seen(started);
        for (const p of early.splice(0)) if (p.pull_id === pullId) seen(p);
        // The socket closing early (a server going away) leaves the pull's record to ask for.
        const last = await Promise.race([ended, connection.closed.then(() => models.getPull(started.pull_id))]);
        if (last.status === 'completed') return last;
        throw AuroraApiError.fromCode(last.error_code ?? 'internal', last.error ?? `pull ${last.status}`);
      } finally {
        connection.close();
      }
    },
  };

  return {
    url: base,
    /** Any call the methods below do not cover. */
    request,
    ready: () => request<Static<typeof Ready>>('GET', '/health/ready').then((r) => r.body),
    /** Readiness as an answer either way: 200 ready, or 503 with the checks that failed. */
    readiness: () => call<Static<typeof Ready>>('GET', '/health/ready', { answers: [503] }),
    /** The node's supervision tree; the stream's supervisor.* events say what changes after it. */
    supervision: () => call<SupervisionTree>('GET', '/api/v1/supervision'),
    agents: {
      /** One page of agents (the first `AGENTS_LIST_MAX` without a query); follow `next_cursor`. */
      async list(query: Partial<AgentListQuery> = {}): Promise<AgentPage> {
        const paged = Object.values(query).some((v) => v !== undefined);
        const res = await request<AgentRecord[] | AgentPage>('GET', '/api/v1/agents/', { query });
        if (!paged && Array.isArray(res.body)) return { agents: res.body, next_cursor: res.headers.get('x-next-cursor') };
        return res.body as AgentPage;
      },
      get: (name: string) => call<AgentRecord>('GET', `/api/v1/agents/${seg(name)}`),
      create: (body: Static<typeof AgentCreateRequest>) => call<AgentRecord>('POST', '/api/v1/agents/', { body }),
      update: (name: string, body: Static<typeof AgentUpdateRequest>) =>
        call<AgentRecord>('PATCH', `/api/v1/agents/${seg(name)}`, { body }),
      delete: (name: string, options: { purge?: boolean } = {}) =>
        call<Static<typeof AgentDeleted>>('DELETE', `/api/v1/agents/${seg(name)}`, { query: { purge: options.purge || undefined } }),
      restart: (name: string) => call<AgentRecord>('POST', `/api/v1/agents/${seg(name)}/restart`),
      /** The agent's threads, newest first; follow `next_cursor`. */
      threads: (name: string, query: { limit?: number; cursor?: string } = {}) =>
        call<ThreadPage>('GET', `/api/v1/agents/${seg(name)}/threads`, { query }),
    },
    tasks: {
      /** Newest first; the next page's cursor comes from the answer's X-Next-Cursor header. */
      async list(query: Partial<TaskListQuery> = {}): Promise<TaskPage> {
        const res = await request<TaskRecord[]>('GET', '/api/v1/tasks/', { query });
        return { tasks: res.body, next_cursor: res.headers.get('x-next-cursor') };
      },
      get: (id: string) => call<TaskRecord>('GET', `/api/v1/tasks/${seg(id)}`),
      /** Runs a task and waits for its result (REST; `stream.execute` streams its tokens). */
      execute: (body: Static<typeof TaskExecuteRequest>) => call<TaskResult>('POST', '/api/v1/tasks/execute', { body }),
      submit: (body: Static<typeof TaskExecuteRequest>) => call<TaskSubmitted>('POST', '/api/v1/tasks/', { body }),
      cancel: (id: string) => call<TaskCancelled>('POST', `/api/v1/tasks/${seg(id)}/cancel`),
    },
    models,
    workflows: {
      list: (query: { limit?: number; cursor?: string } = {}) => call<WorkflowPage>('GET', '/api/v1/workflows', { query }),
      get: (name: string, version?: number) => call<WorkflowRecord>('GET', `/api/v1/workflows/${seg(name)}`, { query: { version } }),
    },
    runs: {
      list: (query: Partial<RunListQuery> = {}) => call<RunPage>('GET', '/api/v1/runs', { query }),
      get: (id: string) => call<RunRecord>('GET', `/api/v1/runs/${seg(id)}`),
      cancel: (id: string) => call<RunRecord>('POST', `/api/v1/runs/${seg(id)}/cancel`),
    },
    events: {
      list: (query: Partial<Omit<EventListQuery, 'type_prefix'>> = {}) => call<EventPage>('GET', '/api/v1/events', { query }),
    },
    stream,
  };
}
