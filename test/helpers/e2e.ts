// End-to-end harness: Aurora runs as its own process (node dist/bin/aurora.js, compiled once by
// test/e2e/global-setup.ts) and is driven from outside over HTTP (fetch) and WebSocket (ws), the
// way a user would. Nothing here reaches into the server's memory.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { describe } from 'vitest';
import { CONFIG_FIELDS } from '../../runtime/config.js';
import type { TaskResultBody } from './http-bodies.js';
import { describeWithService, freePort, NATS_URL, reachable, REDIS_URL } from './services.js';
import { privateProcess } from './private-process.js';

export { freePort } from './services.js';

export const AURORA_BIN = fileURLToPath(new URL('../../dist/bin/aurora.js', import.meta.url));
export const STREAM_PATH = '/api/v1/stream';

/** Safety nets only: a broken server fails the test with a message instead of hanging it. */
const START_TIMEOUT_MS = 20_000;
const WAIT_TIMEOUT_MS = 15_000;
/** Log lines kept per process for failure messages. */
const MAX_LOG_LINES = 2_000;

// ---------------------------------------------------------------- modes

export interface Mode {
  readonly name: string;
  /** Extra environment of every server in this mode. */
  readonly env: Readonly<Record<string, string>>;
  readonly redisUrl: string | undefined;
}

export const EMBEDDED: Mode = { name: 'embedded defaults (in-process bus, memory cache)', env: {}, redisUrl: undefined };
export const NATS_REDIS: Mode = {
  name: 'NATS and Redis',
  env: { NATS_URL, REDIS_URL },
  redisUrl: REDIS_URL,
};

/**
 * Registers `body` once per mode: embedded always, NATS+Redis when both answer (under CI=true a
 * missing service fails loudly, elsewhere the block is skipped with a warning; see services.ts).
 */
export async function describeModes(title: string, body: (mode: Mode) => void): Promise<void> {
  describe(`${title} [${EMBEDDED.name}]`, () => body(EMBEDDED));
  const services = [
    { name: 'NATS', url: NATS_URL },
    { name: 'Redis', url: REDIS_URL },
  ];
  const titled = `${title} [${NATS_REDIS.name}]`;
  for (const s of services) {
    if (!(await reachable(s.url))) return describeWithService(s.name, s.url, titled, () => body(NATS_REDIS));
  }
  describe(titled, () => body(NATS_REDIS));
}

// ---------------------------------------------------------------- server processes

export interface LogLine {
  msg?: string;
  level?: string;
  [field: string]: unknown;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface AuroraProcess {
  readonly pid: number;
  readonly port: number;
  /** http://127.0.0.1:<port> */
  readonly url: string;
  /** ws://127.0.0.1:<port>/api/v1/stream */
  readonly wsUrl: string;
  /** Structured log lines from stderr (the last MAX_LOG_LINES). */
  readonly logs: LogLine[];
  readonly exited: Promise<Exit>;
  /** Sends the signal and waits for the process to end. */
  kill(signal: NodeJS.Signals): Promise<Exit>;
  /** SIGTERM unless already gone; never rejects. */
  stop(): Promise<Exit>;
  /** The last log lines, for failure messages. */
  tail(lines?: number): string;
  /** Resolves with the first log line (from `fromIndex` of `logs`) matching `pred`, now or later. */
  waitForLog(pred: (line: LogLine) => boolean, what?: string, fromIndex?: number): Promise<LogLine>;
}

/** startAurora's rejection when the process ends before it listens: how it ended and what it logged. */
export class AuroraExitedError extends Error {
  override readonly name = 'AuroraExitedError';
  constructor(
    readonly exit: Exit,
    readonly logs: readonly LogLine[],
    tail: string,
  ) {
    super(`aurora exited before listening (${JSON.stringify(exit)}):\n${tail}`);
  }
}

const live = new Set<ChildProcess>();
// If the test worker dies, its servers must not outlive it.
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** The environment a server inherits: the test's own, minus every Aurora variable. */
function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  const ours = new Set<string>(Object.values(CONFIG_FIELDS).map((f) => f.env));
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !ours.has(k)) env[k] = v;
  return env;
}

export interface StartAuroraOptions {
  /** Sees every log line as it arrives, from the first: for tests that act on what start-up says. */
  onLog?: (line: LogLine) => void;
}

/**
 * Starts `node dist/bin/aurora.js` with PORT=0 and resolves once it logs "gateway listening"
 * (the port is read from that line). Rejects, with the log tail, if it exits first.
 */
export async function startAurora(env: Readonly<Record<string, string>>, options: StartAuroraOptions = {}): Promise<AuroraProcess> {
  const child = spawn(process.execPath, [AURORA_BIN], {
    env: { ...baseEnv(), HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  live.add(child);
  const logs: LogLine[] = [];
  const raw: string[] = [];
  const logWaiters = new Set<(line: LogLine) => void>();
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    });
  });
  const tail = (lines = 40) => raw.slice(-lines).join('\n');

  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`aurora did not start within ${START_TIMEOUT_MS} ms:\n${tail()}`));
    }, START_TIMEOUT_MS);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    // 'close' comes after the last of stderr has been read, so the error carries the final lines.
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      reject(new AuroraExitedError({ code, signal }, logs, tail()));
    });
    createInterface({ input: child.stderr! }).on('line', (line) => {
      raw.push(line);
      if (raw.length > MAX_LOG_LINES) raw.shift();
      let parsed: LogLine;
      try {
        parsed = JSON.parse(line) as LogLine;
      } catch {
        return;
      }
      logs.push(parsed);
      if (logs.length > MAX_LOG_LINES) logs.shift();
      options.onLog?.(parsed);
      for (const w of [...logWaiters]) w(parsed);
      if (parsed.msg === 'gateway listening' && typeof parsed.port === 'number') {
        clearTimeout(timer);
        resolve(parsed.port);
      }
    });
  });

  const kill = async (signal: NodeJS.Signals): Promise<Exit> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return exited;
  };
  return {
    pid: child.pid!,
    port,
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}${STREAM_PATH}`,
    logs,
    exited,
    kill,
    stop: () => kill('SIGTERM'),
    tail,
    waitForLog: (pred, what = 'a matching log line', fromIndex = 0) =>
      new Promise<LogLine>((resolve, reject) => {
        const seen = logs.slice(fromIndex).find(pred);
        if (seen) return resolve(seen);
        const timer = setTimeout(() => {
          logWaiters.delete(check);
          reject(new Error(`${what} was never logged:\n${tail()}`));
        }, WAIT_TIMEOUT_MS);
        const check = (line: LogLine) => {
          if (!pred(line)) return;
          clearTimeout(timer);
          logWaiters.delete(check);
          resolve(line);
        };
        logWaiters.add(check);
      }),
  };
}

export interface TempDir {
  readonly path: string;
  file(name: string): string;
  remove(): void;
}

export function tempDir(prefix = 'aurora-e2e-'): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, file: (name) => join(path, name), remove: () => rmSync(path, { recursive: true, force: true }) };
}

// ---------------------------------------------------------------- HTTP

/** `T` names the body the test expects (test/helpers/http-bodies.ts); only the test's assertions check it. */
export interface HttpReply<T = unknown> {
  status: number;
  headers: Headers;
  /** Parsed JSON, or the text when the body is not JSON. */
  body: T;
  text: string;
}

export interface RequestOptions {
  /** Sent as it is (not JSON-encoded): for invalid JSON and oversized bodies. */
  raw?: string;
  headers?: Record<string, string>;
}

export async function request<T = unknown>(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  options: RequestOptions = {},
): Promise<HttpReply<T>> {
  const payload = options.raw ?? (body === undefined ? undefined : JSON.stringify(body));
  const res = await fetch(base + path, {
    method,
    headers: { ...(payload !== undefined && { 'content-type': 'application/json' }), ...options.headers },
    ...(payload !== undefined && { body: payload }),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON (e.g. /metrics): the text is the body
  }
  return { status: res.status, headers: res.headers, body: parsed as T, text };
}

/** Short-hands bound to one server. */
export function client(base: string | (() => string)) {
  const url = () => (typeof base === 'string' ? base : base());
  return {
    get: <T = unknown>(path: string) => request<T>(url(), 'GET', path),
    post: <T = unknown>(path: string, body?: unknown, options?: RequestOptions) => request<T>(url(), 'POST', path, body, options),
    del: <T = unknown>(path: string) => request<T>(url(), 'DELETE', path),
    send: <T = unknown>(method: string, path: string, body?: unknown, options?: RequestOptions) =>
      request<T>(url(), method, path, body, options),
  };
}

export type Api = ReturnType<typeof client>;

// ---------------------------------------------------------------- metrics

/** Sum of every sample of `name` whose labels include `labels`, from Prometheus text. */
export function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const found: Record<string, string> = {};
    for (const l of (m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) found[l[1]!] = l[2]!;
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) sum += Number(m[4]);
  }
  return sum;
}

// ---------------------------------------------------------------- WebSocket

/**
 * A message from the stream (gateway/stream-protocol.ts lists them): an event, or a reply to what
 * the client sent. Every field any of them carries, typed as on the wire; which are there depends
 * on the type.
 */
export interface StreamMessage {
  type: string;
  /** Events, "subscribed" and "unsubscribed". */
  seq?: number;
  time?: string;
  agent?: string;
  task_id?: string;
  payload?: Record<string, unknown>;
  request_id?: string;
  /** task.result */
  result?: TaskResultBody;
  /** error, task.error */
  detail?: string;
  code?: string;
  /** replay.gap */
  oldest_seq?: number;
}

/** An event: what the bus published, numbered by the gateway. */
export interface StreamEvent extends StreamMessage {
  seq: number;
  time: string;
  payload: Record<string, unknown>;
}

/** An event about one task (task.*). */
export interface TaskEvent extends StreamEvent {
  task_id: string;
}

/** The final message of a task run over the socket. */
export interface TaskResultMessage extends StreamMessage {
  type: 'task.result';
  task_id: string;
  result: TaskResultBody;
}

function isEvent(m: StreamMessage): m is StreamEvent {
  return typeof m.seq === 'number' && m.type !== 'subscribed' && m.type !== 'unsubscribed';
}

/** A stream client that records every message and lets a test wait for one. */
export class StreamClient {
  readonly messages: StreamMessage[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly waiters = new Set<() => void>();

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      this.messages.push(isBinary ? { type: '<binary>' } : (JSON.parse(String(data)) as StreamMessage));
      for (const w of [...this.waiters]) w();
    });
    this.closed = new Promise((resolve) => {
      ws.once('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
        for (const w of [...this.waiters]) w();
      });
    });
  }

  /** Connects and waits for the server's "subscribed" reply. */
  static async connect(url: string): Promise<StreamClient> {
    const ws = new WebSocket(url);
    const c = new StreamClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: HTTP ${res.statusCode}`)));
    });
    await c.next((m) => m.type === 'subscribed');
    return c;
  }

  /** Events only (messages with a seq), in arrival order. */
  get events(): StreamEvent[] {
    return this.messages.filter(isEvent);
  }

  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** Resolves once `check` over every message so far returns something other than undefined. */
  until<T>(what: string, check: (messages: StreamMessage[]) => T | undefined, timeoutMs = WAIT_TIMEOUT_MS): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const attempt = () => {
        const value = check(this.messages);
        if (value === undefined) {
          if (this.ws.readyState === WebSocket.CLOSED) finish(new Error(`socket closed while waiting for ${what}`));
          return;
        }
        finish(undefined, value);
      };
      const finish = (err: Error | undefined, value?: T) => {
        clearTimeout(timer);
        this.waiters.delete(attempt);
        if (err) reject(err);
        else resolve(value as T);
      };
      const timer = setTimeout(
        () => finish(new Error(`${what} never arrived; got: ${this.messages.map((m) => m.type).join(', ')}`)),
        timeoutMs,
      );
      this.waiters.add(attempt);
      attempt();
    });
  }

  /**
   * The first message (from index `from`) matching `pred`. `M` names the kind of message the test
   * waits for, as a request names the body it expects; `pred` is what makes sure of it.
   */
  next<M extends StreamMessage = StreamMessage>(pred: (m: M) => boolean, what = 'a matching message', from = 0): Promise<M> {
    return this.until(what, (ms) => (ms.slice(from) as M[]).find(pred));
  }

  close(): Promise<{ code: number; reason: string }> {
    if (this.ws.readyState !== WebSocket.CLOSED) this.ws.close();
    return this.closed;
  }
}

/** Events of one task, in arrival order. */
export function taskEvents(messages: StreamMessage[], taskId: string): TaskEvent[] {
  return messages.filter((m): m is TaskEvent => typeof m.seq === 'number' && m.task_id === taskId);
}

// ---------------------------------------------------------------- a private Redis

export interface RedisProcess {
  readonly port: number;
  readonly url: string;
  start(): Promise<void>;
  /** SIGKILL: the server disappears without a goodbye, like a crashed host. */
  kill(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A redis-server of its own on a free port (no persistence), for tests that take Redis away; the
 * shared server stays untouched. start() after kill() listens on the same port again; `startNow:
 * false` leaves the port closed until start().
 */
export async function privateRedis(binary = 'redis-server', { startNow = true } = {}): Promise<RedisProcess> {
  const port = await freePort();
  const { start, kill } = privateProcess({
    binary,
    args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    readyOn: 'stdout',
    readyLine: 'Ready to accept connections',
  });
  if (startNow) await start();
  return { port, url: `redis://127.0.0.1:${port}`, start, kill, close: kill };
}
