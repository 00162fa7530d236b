// The one place that reads process.env. Everything else receives a frozen Config.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { DEFAULT_MAX_EVENTS } from './store/events.js';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** `json`: one object per line for log shippers; `pretty`: coloured lines for a developer's terminal. */
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/**
 * What this process runs: `all` the gateway and an actor node together (the default), `gateway`
 * only the HTTP/WS front, `node` only the supervisor tree, agents and store (serving just the
 * probes and /metrics over HTTP). Split roles meet over NATS, so they need NATS_URL.
 */
export const ROLES = ['all', 'gateway', 'node'] as const;
export type Role = (typeof ROLES)[number];

export interface SupervisionConfig {
  /** Restart intensity: at most this many restarts ... */
  readonly maxRestarts: number;
  /** ... within this sliding window, else the supervisor escalates. */
  readonly periodMs: number;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
}

export interface Config {
  readonly role: Role;
  readonly port: number;
  readonly host: string;
  /** Unset: the in-process bus. */
  readonly natsUrl: string | undefined;
  /** Unset: the in-memory cache. */
  readonly redisUrl: string | undefined;
  readonly ollamaHost: string;
  /** Longest Ollama may stay silent on a request (no headers, no bytes) before it is closed. */
  readonly ollamaIdleTimeoutMs: number;
  /** Model calls (chat, load, unload) in flight to Ollama at once; more wait in Aurora in arrival order. */
  readonly ollamaMaxConcurrency: number;
  readonly databasePath: string;
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
  /** Attempts at the first NATS and Redis connection before start-up gives up (1: no retry). */
  readonly connectAttempts: number;
  /** Wait before the second attempt; doubles per attempt up to connectRetryMaxMs. */
  readonly connectRetryBaseMs: number;
  readonly connectRetryMaxMs: number;
  /** Prefix of every bus subject; lets several Aurora deployments (or test files) share one NATS. */
  readonly namespace: string;
  readonly supervision: SupervisionConfig;
  readonly mailboxSize: number;
  /** Tasks an agent runs at once unless its definition says (an llm agent's max_concurrency). */
  readonly agentMaxConcurrency: number;
  /** How deep agents may call each other as tools (A → B → C is depth 2). */
  readonly agentCallMaxDepth: number;
  /** How long an Idempotency-Key and its answer are remembered. */
  readonly idempotencyTtlMs: number;
  /** Idempotency keys SQLite keeps at most (without Redis); the oldest go first. */
  readonly idempotencyMaxKeys: number;
  readonly taskTimeoutMs: number;
  readonly busRequestTimeoutMs: number;
  readonly busBlipGraceMs: number;
  readonly modelCacheTtlMs: number;
  /** Model pulls running at once on a node; one more is refused (429 queue_full). */
  readonly modelPullMaxConcurrent: number;
  readonly faultInjection: boolean;
  readonly maxBodyBytes: number;
  /** Longest a client may take to send a request body once its head has arrived (408 beyond). */
  readonly bodyReadTimeoutMs: number;
  /** Deepest nesting of arrays and objects accepted in a JSON request body (400 beyond). */
  readonly maxJsonDepth: number;
  readonly batchMaxTasks: number;
  /** Most agents GET /api/v1/agents/ answers as a plain array (no query parameters); beyond, a Link to the next page. */
  readonly agentsListMax: number;
  /** Events the node's event log keeps (GET /api/v1/events); older ones are pruned. */
  readonly eventsMax: number;
  readonly eventReplaySize: number;
  /** How long the gateway keeps listening to events (for replay) after its last WebSocket client left. */
  readonly streamLingerMs: number;
  readonly wsMaxQueueBytes: number;
  readonly shutdownGraceMs: number;
  /** Bearer JWTs required on every route that names a scope (gateway/scopes.ts). */
  readonly authEnabled: boolean;
  /** HS256 key. */
  readonly jwtSecret: string | undefined;
  /** PEM public key (RS256, ES256/384/512 or EdDSA by its type); exclusive with jwtJwksUrl. */
  readonly jwtPublicKey: string | undefined;
  readonly jwtJwksUrl: string | undefined;
  readonly jwtJwksTimeoutMs: number;
  readonly jwtIssuer: string | undefined;
  readonly jwtAudience: string | undefined;
  /** Seconds of clock difference tolerated on exp and nbf. */
  readonly jwtClockSkewS: number;
  readonly authProtectMetrics: boolean;
  readonly authProtectDocs: boolean;
  readonly rateLimitEnabled: boolean;
  /** Requests each client may make in any sliding minute (429 beyond). */
  readonly rateLimitPerMinute: number;
  /** Clients the in-memory limiter tracks (no Redis); beyond it the least recently seen is forgotten. */
  readonly rateLimitMaxKeys: number;
  /** Longest a request waits on Redis for its rate-limit decision before it is let through. */
  readonly rateLimitTimeoutMs: number;
  /** Proxies in front of the gateway whose X-Forwarded-For entries are believed; 0 ignores the header. */
  readonly trustProxyHops: number;
  /** Origins allowed to call the API from a browser; '*' allows any; empty sends no CORS headers. */
  readonly corsOrigins: readonly string[];
  /** Serve /openapi.json, /docs and /redoc; off, they answer 404 and nothing of them is loaded. */
  readonly docsEnabled: boolean;
  /** The Chromium binary browser agents drive (puppeteer-core brings none). */
  readonly browserExecutable: string;
  /** Chromium processes a node runs at once (one supervised worker each). */
  readonly browserMax: number;
  /** Browser contexts (one per task) open at once in one Chromium. */
  readonly browserPagesMax: number;
  /** A Chromium is closed and replaced after serving this many contexts (leaks and fragmentation stay bounded). */
  readonly browserRetireAfterPages: number;
  /** A Chromium with nothing open is closed after this long. */
  readonly browserIdleMs: number;
  /** Screenshots kept at most; the oldest go first. */
  readonly artifactsMax: number;
  /** Bytes of screenshots kept at most; the oldest go first. */
  readonly artifactsMaxBytes: number;
  /** How often a node renews its membership and its lease in NATS. */
  readonly nodeHeartbeatMs: number;
  /** A node (and its lease) not renewed for longer than this counts as dead. */
  readonly nodeDeadAfterMs: number;
}

export type Env = Readonly<Record<string, string | undefined>>;

interface Field<T> {
  env: string;
  parse: (raw: string) => T;
  fallback: T;
  doc: string;
}

class ConfigFieldError extends Error {}

const int =
  (min: number, max = Number.MAX_SAFE_INTEGER) =>
  (raw: string): number => {
    if (!/^-?\d+$/.test(raw.trim())) throw new ConfigFieldError(`must be an integer, got "${raw}"`);
    const n = Number(raw);
    if (n < min || n > max) throw new ConfigFieldError(`must be between ${min} and ${max}, got ${n}`);
    return n;
  };

const str = (raw: string): string => {
  if (raw.trim() === '') throw new ConfigFieldError('must not be empty');
  return raw.trim();
};

const url =
  (protocols: readonly string[]) =>
  (raw: string): string => {
    let u: URL;
    try {
      u = new URL(raw.trim());
    } catch {
      throw new ConfigFieldError(`must be a URL, got "${raw}"`);
    }
    if (!protocols.includes(u.protocol)) {
      throw new ConfigFieldError(`must use ${protocols.join(' or ')}, got "${u.protocol}"`);
    }
    return raw.trim();
  };

const bool = (raw: string): boolean => {
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new ConfigFieldError(`must be true or false, got "${raw}"`);
};

const oneOf =
  <T extends string>(values: readonly T[]) =>
  (raw: string): T => {
    const v = raw.trim().toLowerCase();
    if (!(values as readonly string[]).includes(v)) {
      throw new ConfigFieldError(`must be one of ${values.join(', ')}, got "${raw}"`);
    }
    return v as T;
  };

/** false/true or a hop count: how many proxies in front of the gateway append to X-Forwarded-For. */
const proxyHops = (raw: string): number => {
  const v = raw.trim().toLowerCase();
  if (['0', 'false', 'no', 'off'].includes(v)) return 0;
  if (['true', 'yes', 'on'].includes(v)) return 1;
  return int(0, 10)(raw);
};

/** Comma-separated origins (scheme://host[:port]) or '*'; normalised to what browsers send in Origin. */
const originList = (raw: string): readonly string[] => {
  const out: string[] = [];
  for (const part of raw.split(',')) {
    const entry = part.trim();
    if (entry === '') continue;
    if (entry === '*') {
      out.push('*');
      continue;
    }
    let u: URL;
    try {
      u = new URL(entry);
    } catch {
      throw new ConfigFieldError(`must list origins like https://app.example.com or *, got "${entry}"`);
    }
    const bare = u.pathname === '/' && u.search === '' && u.hash === '' && u.username === '' && u.password === '';
    if (!['http:', 'https:'].includes(u.protocol) || !bare || entry.endsWith('?') || entry.endsWith('#')) {
      throw new ConfigFieldError(`must list origins (scheme://host[:port], no path), got "${entry}"`);
    }
    out.push(u.origin);
  }
  if (out.length === 0) throw new ConfigFieldError('must list at least one origin');
  return Object.freeze([...new Set(out)]);
};

/** True for addresses only this machine can reach: 127.0.0.0/8, ::1 and localhost. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return h === 'localhost' || h === '::1' || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** HS256 needs a key at least as long as its hash (RFC 7518 3.2). Kept as given: no trimming. */
const MIN_HMAC_SECRET_BYTES = 32;

const hmacSecret = (raw: string): string => {
  const bytes = Buffer.byteLength(raw, 'utf8');
  if (bytes < MIN_HMAC_SECRET_BYTES) {
    throw new ConfigFieldError(`must be at least ${MIN_HMAC_SECRET_BYTES} bytes for HS256, got ${bytes}`);
  }
  return raw;
};

/** EC curves accepted in JWT_PUBLIC_KEY (node's names), each pinned to one algorithm by gateway/auth.ts. */
const JWT_EC_CURVES = ['prime256v1', 'secp384r1', 'secp521r1'];

/**
 * A PEM public key; literal "\n" sequences (how a PEM usually fits in one env line) become
 * newlines. Private keys are refused so a leaked config never holds signing material by mistake.
 */
const publicKeyPem = (raw: string): string => {
  const pem = raw.replace(/\\n/g, '\n').trim();
  if (/PRIVATE KEY-----/.test(pem)) throw new ConfigFieldError('holds a private key; give the public key only');
  if (!/^-----BEGIN (RSA )?PUBLIC KEY-----\n[\s\S]+\n-----END (RSA )?PUBLIC KEY-----$/.test(pem)) {
    throw new ConfigFieldError('must be a PEM public key (-----BEGIN PUBLIC KEY----- ... -----END PUBLIC KEY-----)');
  }
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    throw new ConfigFieldError('is not a readable PEM public key');
  }
  const type = key.asymmetricKeyType;
  if (type === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < 2048) throw new ConfigFieldError(`RSA key must have at least 2048 bits, got ${bits}`);
  } else if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve ?? 'unknown';
    if (!JWT_EC_CURVES.includes(curve)) throw new ConfigFieldError(`EC key must use P-256, P-384 or P-521, got ${curve}`);
  } else if (type !== 'ed25519') {
    throw new ConfigFieldError(`must be an RSA, EC or Ed25519 key, got ${type ?? 'unknown'}`);
  }
  return pem;
};

/** Keys must not travel in clear text across a network: https, or http to this machine only. */
const jwksUrl = (raw: string): string => {
  const value = url(['https:', 'http:'])(raw);
  const u = new URL(value);
  if (u.protocol === 'http:' && !isLoopbackHost(u.hostname)) {
    throw new ConfigFieldError(`must use https (http only for a loopback host), got "${value}"`);
  }
  return value;
};

const subjectToken = (raw: string): string => {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(raw.trim())) {
    throw new ConfigFieldError(`must be 1-64 characters of A-Z a-z 0-9 _ -, got "${raw}"`);
  }
  return raw.trim();
};

/** Every environment variable Aurora reads, with its default. The README's table mirrors this list. */
export const CONFIG_FIELDS = {
  role: {
    env: 'AURORA_ROLE',
    parse: oneOf(ROLES),
    fallback: 'all',
    doc: '`all` (gateway and actor node in one process), `gateway` or `node`; the split roles meet over NATS and need NATS_URL',
  },
  port: { env: 'PORT', parse: int(0, 65535), fallback: 8000, doc: 'HTTP and WebSocket port (0 picks a free one)' },
  host: { env: 'HOST', parse: str, fallback: '127.0.0.1', doc: 'Address the gateway binds' },
  natsUrl: {
    env: 'NATS_URL',
    parse: url(['nats:', 'tls:', 'ws:', 'wss:']),
    fallback: undefined,
    doc: 'NATS server; unset uses the in-process bus',
  },
  redisUrl: {
    env: 'REDIS_URL',
    parse: url(['redis:', 'rediss:']),
    fallback: undefined,
    doc: 'Redis server; unset uses the in-memory cache',
  },
  ollamaHost: {
    env: 'OLLAMA_HOST',
    parse: url(['http:', 'https:']),
    fallback: 'http://127.0.0.1:11434',
    doc: 'Ollama HTTP API',
  },
  ollamaIdleTimeoutMs: {
    env: 'OLLAMA_IDLE_TIMEOUT_MS',
    parse: int(1, 86_400_000),
    fallback: 300_000,
    doc: 'Longest Ollama may send nothing (no headers, no stream line) before the request is closed and fails with `llm_timeout` (504); loading a large model counts, so keep it generous',
  },
  ollamaMaxConcurrency: {
    env: 'OLLAMA_MAX_CONCURRENCY',
    parse: int(1, 4096),
    fallback: 32,
    doc: 'Model calls (chat, load, unload) in flight to Ollama at once, each on a kept-alive connection; more wait in Aurora in arrival order (a cancelled task leaves the queue). Listings, show and health pings do not wait',
  },
  databasePath: {
    env: 'DATABASE_PATH',
    parse: str,
    fallback: './data/aurora.db',
    doc: 'SQLite file (its folder is created)',
  },
  logLevel: { env: 'LOG_LEVEL', parse: oneOf(LOG_LEVELS), fallback: 'info', doc: 'debug, info, warn, error or silent' },
  logFormat: {
    env: 'LOG_FORMAT',
    parse: oneOf(LOG_FORMATS),
    fallback: 'json',
    doc: 'json (one object per line on stderr) or pretty (human-readable; needs the pino-pretty dev dependency, `npm run dev` sets it)',
  },
  connectAttempts: {
    env: 'CONNECT_ATTEMPTS',
    parse: int(1, 1_000),
    fallback: 10,
    doc: 'Attempts at the first connection to NATS and Redis before start-up fails (services started alongside Aurora may not be up yet)',
  },
  connectRetryBaseMs: {
    env: 'CONNECT_RETRY_BASE_MS',
    parse: int(1, 600_000),
    fallback: 500,
    doc: 'Wait before the second connection attempt; doubles per attempt',
  },
  connectRetryMaxMs: {
    env: 'CONNECT_RETRY_MAX_MS',
    parse: int(1, 600_000),
    fallback: 5_000,
    doc: 'Longest wait between two connection attempts',
  },
  namespace: {
    env: 'AURORA_NAMESPACE',
    parse: subjectToken,
    fallback: 'aurora',
    doc: 'Prefix of every bus subject',
  },
  maxRestarts: {
    env: 'SUPERVISOR_MAX_RESTARTS',
    parse: int(0, 10_000),
    fallback: 5,
    doc: 'Restarts allowed per child within the period before escalation',
  },
  periodMs: {
    env: 'SUPERVISOR_PERIOD_MS',
    parse: int(1),
    fallback: 60_000,
    doc: 'Restart intensity window',
  },
  backoffBaseMs: {
    env: 'SUPERVISOR_BACKOFF_BASE_MS',
    parse: int(0),
    fallback: 100,
    doc: 'First restart delay; doubles per recent restart, with jitter',
  },
  backoffMaxMs: {
    env: 'SUPERVISOR_BACKOFF_MAX_MS',
    parse: int(0),
    fallback: 10_000,
    doc: 'Upper bound of the restart delay',
  },
  mailboxSize: {
    env: 'AGENT_MAILBOX_SIZE',
    parse: int(1, 1_000_000),
    fallback: 100,
    doc: 'Tasks queued per agent before new ones are refused (429)',
  },
  agentMaxConcurrency: {
    env: 'AGENT_MAX_CONCURRENCY',
    parse: int(1, 64),
    fallback: 4,
    doc: "Tasks an agent runs at once when its definition does not say (1: strictly one at a time)",
  },
  agentCallMaxDepth: {
    env: 'AGENT_CALL_MAX_DEPTH',
    parse: int(1, 16),
    fallback: 4,
    doc: 'How deep agents may call other agents as tools',
  },
  idempotencyTtlMs: {
    env: 'IDEMPOTENCY_TTL_MS',
    parse: int(1_000),
    fallback: 86_400_000,
    doc: 'How long an Idempotency-Key and its answer are remembered (Redis when REDIS_URL is set, else SQLite)',
  },
  idempotencyMaxKeys: {
    env: 'IDEMPOTENCY_MAX_KEYS',
    parse: int(1, 100_000_000),
    fallback: 100_000,
    doc: 'Idempotency keys kept in SQLite at most (without Redis); the oldest are dropped first',
  },
  taskTimeoutMs: {
    env: 'TASK_TIMEOUT_MS',
    parse: int(1),
    fallback: 120_000,
    doc: 'Default time a task may run (a task may ask for less or more)',
  },
  busRequestTimeoutMs: {
    env: 'BUS_REQUEST_TIMEOUT_MS',
    parse: int(1),
    fallback: 5_000,
    doc: 'Timeout of control requests on the bus (not tasks)',
  },
  busBlipGraceMs: {
    env: 'BUS_BLIP_GRACE_MS',
    parse: int(0, 600_000),
    fallback: 5_000,
    doc: 'How long a task request caught by a bus disconnect waits for the bus to come back and read the task\'s outcome; after that it is answered 503 bus_disconnected',
  },
  modelCacheTtlMs: {
    env: 'MODEL_CACHE_TTL_MS',
    parse: int(0),
    fallback: 10_000,
    doc: 'How long Ollama model listings are cached',
  },
  modelPullMaxConcurrent: {
    env: 'MODEL_PULL_MAX_CONCURRENT',
    parse: int(1, 64),
    fallback: 2,
    doc: 'Model pulls a node runs at once; a pull of another model beyond it is refused (429 `queue_full`); joining a running pull always works',
  },
  faultInjection: {
    env: 'FAULT_INJECTION_ENABLED',
    parse: bool,
    fallback: false,
    doc: 'Allow the fault-injection command that crashes an agent',
  },
  maxBodyBytes: {
    env: 'MAX_BODY_BYTES',
    parse: int(1),
    fallback: 1_048_576,
    doc: 'Largest request body accepted (413 beyond)',
  },
  bodyReadTimeoutMs: {
    env: 'BODY_READ_TIMEOUT_MS',
    parse: int(1, 3_600_000),
    fallback: 30_000,
    doc: 'Longest a client may take to send a request body (408 and the connection closed beyond)',
  },
  maxJsonDepth: {
    env: 'MAX_JSON_DEPTH',
    parse: int(1, 10_000),
    fallback: 64,
    doc: 'Deepest nesting of arrays and objects accepted in a JSON request body (400 beyond)',
  },
  batchMaxTasks: {
    env: 'BATCH_MAX_TASKS',
    parse: int(1, 100_000),
    fallback: 100,
    doc: 'Largest batch of tasks accepted (400 beyond)',
  },
  agentsListMax: {
    env: 'AGENTS_LIST_MAX',
    // One bus message carries the whole array; 1000 agents stay well inside NATS's 1 MB.
    parse: int(1, 1000),
    fallback: 1000,
    doc: 'Most agents `GET /api/v1/agents/` answers as a plain array; when there are more it adds a `Link` (rel="next") to the page form',
  },
  eventsMax: {
    env: 'EVENTS_MAX',
    parse: int(1, 10_000_000),
    fallback: DEFAULT_MAX_EVENTS,
    doc: 'Events the event log keeps (`GET /api/v1/events`: supervisor, agent lifecycle and model events); older ones are pruned',
  },
  eventReplaySize: {
    env: 'EVENT_REPLAY_SIZE',
    parse: int(0, 1_000_000),
    fallback: 10_000,
    doc: 'Events kept per gateway for WebSocket clients that reconnect, and per followed task for Server-Sent Events clients that resume',
  },
  streamLingerMs: {
    env: 'STREAM_LINGER_MS',
    parse: int(0, 86_400_000),
    fallback: 300_000,
    doc: "How long a gateway keeps recording events for replay after its last WebSocket client disconnects (and a task's events after its last Server-Sent Events client leaves); with no client it does not listen to events at all",
  },
  wsMaxQueueBytes: {
    env: 'WS_MAX_QUEUE_BYTES',
    parse: int(1024),
    fallback: 1_048_576,
    doc: 'Unsent bytes a WebSocket (or a Server-Sent Events response) may hold before it is closed as too slow',
  },
  shutdownGraceMs: {
    env: 'SHUTDOWN_GRACE_MS',
    parse: int(0),
    fallback: 10_000,
    doc: 'Time in-flight tasks get to finish on SIGTERM',
  },
  authEnabled: {
    env: 'AUTH_ENABLED',
    parse: bool,
    fallback: false,
    doc: 'Require a bearer JWT on every route that names a scope (401 without a valid token, 403 without the scope); needs a key below',
  },
  jwtSecret: {
    env: 'JWT_SECRET',
    parse: hmacSecret,
    fallback: undefined,
    doc: 'HS256 key (at least 32 bytes); also what `npm run token` signs with',
  },
  jwtPublicKey: {
    env: 'JWT_PUBLIC_KEY',
    parse: publicKeyPem,
    fallback: undefined,
    doc: 'PEM public key: RSA (2048+ bits) → RS256, EC P-256/384/521 → ES256/384/512, Ed25519 → EdDSA; "\\n" escapes allowed',
  },
  jwtJwksUrl: {
    env: 'JWT_JWKS_URL',
    parse: jwksUrl,
    fallback: undefined,
    doc: 'JWKS endpoint for RS256/ES256/ES384/ES512/EdDSA tokens (https; http only to loopback); exclusive with JWT_PUBLIC_KEY',
  },
  jwtJwksTimeoutMs: {
    env: 'JWT_JWKS_TIMEOUT_MS',
    parse: int(1, 60_000),
    fallback: 5_000,
    doc: 'Longest a JWKS fetch may take; requests that need it get 503 with Retry-After beyond',
  },
  jwtIssuer: { env: 'JWT_ISSUER', parse: str, fallback: undefined, doc: 'When set, tokens must carry this `iss`' },
  jwtAudience: { env: 'JWT_AUDIENCE', parse: str, fallback: undefined, doc: 'When set, tokens must carry this `aud`' },
  jwtClockSkewS: {
    env: 'JWT_CLOCK_SKEW_S',
    parse: int(0, 300),
    fallback: 30,
    doc: 'Seconds of clock difference tolerated on a token\'s exp and nbf',
  },
  authProtectMetrics: {
    env: 'AUTH_PROTECT_METRICS',
    parse: bool,
    fallback: true,
    doc: 'With auth on, /metrics needs the metrics:read scope; false leaves it open to scrapers',
  },
  authProtectDocs: {
    env: 'AUTH_PROTECT_DOCS',
    parse: bool,
    fallback: false,
    doc: 'With auth on, the API docs (/openapi.json, /docs, /redoc) need a valid token',
  },
  rateLimitEnabled: {
    env: 'RATE_LIMIT_ENABLED',
    parse: bool,
    fallback: false,
    doc: 'Limit requests per client (token subject, else IP); shared through Redis when REDIS_URL is set',
  },
  rateLimitPerMinute: {
    env: 'RATE_LIMIT_PER_MINUTE',
    parse: int(1, 100_000),
    fallback: 60,
    doc: 'Requests a client may make in any sliding minute (429 with Retry-After beyond); health probes are exempt',
  },
  rateLimitMaxKeys: {
    env: 'RATE_LIMIT_MAX_KEYS',
    parse: int(1, 10_000_000),
    fallback: DEFAULT_MAX_EVENTS,
    doc: 'Clients the in-memory limiter tracks (no Redis); beyond it the least recently seen client is forgotten',
  },
  rateLimitTimeoutMs: {
    env: 'RATE_LIMIT_TIMEOUT_MS',
    parse: int(1, 60_000),
    fallback: 500,
    doc: 'Longest a request waits on Redis for its rate-limit decision; then it is let through (fail open)',
  },
  trustProxyHops: {
    env: 'TRUST_PROXY',
    parse: proxyHops,
    fallback: 0,
    doc: 'false (0): key clients by socket address; true (1) or N: trust that many proxies in X-Forwarded-For',
  },
  corsOrigins: {
    env: 'CORS_ORIGINS',
    parse: originList,
    fallback: undefined,
    doc: "Comma-separated origins allowed by CORS, or '*'; unset sends no CORS headers",
  },
  docsEnabled: {
    env: 'DOCS_ENABLED',
    parse: bool,
    fallback: true,
    doc: 'Serve the API docs from local files: /openapi.json, Swagger UI at /docs, ReDoc at /redoc (404 when false)',
  },
  browserExecutable: {
    env: 'BROWSER_EXECUTABLE',
    parse: str,
    fallback: '/usr/bin/chromium',
    doc: 'The Chromium binary `browser` agents drive through puppeteer-core (Debian\'s `chromium` package)',
  },
  browserMax: {
    env: 'BROWSER_MAX',
    parse: int(1, 64),
    fallback: 2,
    doc: 'Chromium processes a node runs at once, one supervised worker each; launched on demand',
  },
  browserPagesMax: {
    env: 'BROWSER_PAGES_MAX',
    parse: int(1, 256),
    fallback: 4,
    doc: 'Browser contexts (one per task) open at once in one Chromium; more tasks wait for a free one',
  },
  browserRetireAfterPages: {
    env: 'BROWSER_RETIRE_AFTER_PAGES',
    parse: int(1, 1_000_000),
    fallback: 100,
    doc: 'A Chromium is closed and a fresh one launched after it served this many contexts',
  },
  browserIdleMs: {
    env: 'BROWSER_IDLE_MS',
    parse: int(0, 86_400_000),
    fallback: 60_000,
    doc: 'A Chromium with no open context is closed after this long (0: at once)',
  },
  artifactsMax: {
    env: 'ARTIFACTS_MAX',
    parse: int(1, 10_000_000),
    fallback: 1000,
    doc: 'Artifacts (screenshots) kept; the oldest are deleted first',
  },
  artifactsMaxBytes: {
    env: 'ARTIFACTS_MAX_BYTES',
    parse: int(1024, Number.MAX_SAFE_INTEGER),
    fallback: 256 * 1024 * 1024,
    doc: 'Bytes of artifacts kept; the oldest are deleted first',
  },
  nodeHeartbeatMs: {
    env: 'NODE_HEARTBEAT_MS',
    parse: int(50, 600_000),
    fallback: 2_000,
    doc: 'How often a node (role `node` or `all`, with NATS_URL) renews its entry and its ownership lease in the namespace\'s KV bucket',
  },
  nodeDeadAfterMs: {
    env: 'NODE_DEAD_AFTER_MS',
    parse: int(100, 3_600_000),
    fallback: 10_000,
    doc: 'A node whose last heartbeat is older than this counts as dead, and its lease may be taken over by the next node to start; at least twice NODE_HEARTBEAT_MS',
  },
} as const satisfies Record<string, Field<unknown>>;

type Fields = typeof CONFIG_FIELDS;
type Flat = { -readonly [K in keyof Fields]: Fields[K]['fallback'] extends undefined ? ReturnType<Fields[K]['parse']> | undefined : ReturnType<Fields[K]['parse']> };

export interface LoadConfigOptions {
  env?: Env;
  /** Explicit values that win over the environment; tests use these. */
  overrides?: Partial<Omit<Config, 'supervision'>> & { supervision?: Partial<SupervisionConfig> };
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const problems: string[] = [];
  const flat = {} as Record<string, unknown>;
  for (const [key, field] of Object.entries(CONFIG_FIELDS) as [string, Field<unknown>][]) {
    const raw = env[field.env];
    if (raw === undefined || raw === '') {
      flat[key] = field.fallback;
      continue;
    }
    try {
      flat[key] = field.parse(raw);
    } catch (err) {
      if (!(err instanceof ConfigFieldError)) throw err;
      problems.push(`${field.env} ${err.message}`);
    }
  }
  const f = flat as Flat;
  const { supervision: supOverrides, ...rest } = options.overrides ?? {};
  const config: Config = {
    role: f.role,
    port: f.port,
    host: f.host,
    natsUrl: f.natsUrl,
    redisUrl: f.redisUrl,
    ollamaHost: f.ollamaHost,
    ollamaIdleTimeoutMs: f.ollamaIdleTimeoutMs,
    ollamaMaxConcurrency: f.ollamaMaxConcurrency,
    databasePath: f.databasePath,
    logLevel: f.logLevel,
    logFormat: f.logFormat,
    connectAttempts: f.connectAttempts,
    connectRetryBaseMs: f.connectRetryBaseMs,
    connectRetryMaxMs: f.connectRetryMaxMs,
    namespace: f.namespace,
    mailboxSize: f.mailboxSize,
    agentMaxConcurrency: f.agentMaxConcurrency,
    agentCallMaxDepth: f.agentCallMaxDepth,
    idempotencyTtlMs: f.idempotencyTtlMs,
    idempotencyMaxKeys: f.idempotencyMaxKeys,
    taskTimeoutMs: f.taskTimeoutMs,
    busRequestTimeoutMs: f.busRequestTimeoutMs,
    busBlipGraceMs: f.busBlipGraceMs,
    modelCacheTtlMs: f.modelCacheTtlMs,
    modelPullMaxConcurrent: f.modelPullMaxConcurrent,
    faultInjection: f.faultInjection,
    maxBodyBytes: f.maxBodyBytes,
    bodyReadTimeoutMs: f.bodyReadTimeoutMs,
    maxJsonDepth: f.maxJsonDepth,
    batchMaxTasks: f.batchMaxTasks,
    agentsListMax: f.agentsListMax,
    eventsMax: f.eventsMax,
    eventReplaySize: f.eventReplaySize,
    streamLingerMs: f.streamLingerMs,
    wsMaxQueueBytes: f.wsMaxQueueBytes,
    shutdownGraceMs: f.shutdownGraceMs,
    authEnabled: f.authEnabled,
    jwtSecret: f.jwtSecret,
    jwtPublicKey: f.jwtPublicKey,
    jwtJwksUrl: f.jwtJwksUrl,
    jwtJwksTimeoutMs: f.jwtJwksTimeoutMs,
    jwtIssuer: f.jwtIssuer,
    jwtAudience: f.jwtAudience,
    jwtClockSkewS: f.jwtClockSkewS,
    authProtectMetrics: f.authProtectMetrics,
    authProtectDocs: f.authProtectDocs,
    rateLimitEnabled: f.rateLimitEnabled,
    rateLimitPerMinute: f.rateLimitPerMinute,
    rateLimitMaxKeys: f.rateLimitMaxKeys,
    rateLimitTimeoutMs: f.rateLimitTimeoutMs,
    trustProxyHops: f.trustProxyHops,
    corsOrigins: f.corsOrigins ?? [],
    docsEnabled: f.docsEnabled,
    browserExecutable: f.browserExecutable,
    browserMax: f.browserMax,
    browserPagesMax: f.browserPagesMax,
    browserRetireAfterPages: f.browserRetireAfterPages,
    browserIdleMs: f.browserIdleMs,
    artifactsMax: f.artifactsMax,
    artifactsMaxBytes: f.artifactsMaxBytes,
    nodeHeartbeatMs: f.nodeHeartbeatMs,
    nodeDeadAfterMs: f.nodeDeadAfterMs,
    ...rest,
    supervision: Object.freeze({
      maxRestarts: f.maxRestarts,
      periodMs: f.periodMs,
      backoffBaseMs: f.backoffBaseMs,
      backoffMaxMs: f.backoffMaxMs,
      ...supOverrides,
    }),
  };
  if (config.supervision.backoffMaxMs < config.supervision.backoffBaseMs) {
    problems.push(
      `SUPERVISOR_BACKOFF_MAX_MS (${config.supervision.backoffMaxMs}) must be at least SUPERVISOR_BACKOFF_BASE_MS (${config.supervision.backoffBaseMs})`,
    );
  }
  if (config.connectRetryMaxMs < config.connectRetryBaseMs) {
    problems.push(`CONNECT_RETRY_MAX_MS (${config.connectRetryMaxMs}) must be at least CONNECT_RETRY_BASE_MS (${config.connectRetryBaseMs})`);
  }
  // A key that was given but failed to parse is already listed; naming it again as missing would mislead.
  const keyGiven = ['JWT_SECRET', 'JWT_PUBLIC_KEY', 'JWT_JWKS_URL'].some((name) => (env[name] ?? '') !== '');
  if (config.authEnabled && !keyGiven && [config.jwtSecret, config.jwtPublicKey, config.jwtJwksUrl].every((k) => k === undefined)) {
    problems.push('AUTH_ENABLED is true but no key is set: set JWT_SECRET (HS256), JWT_PUBLIC_KEY (PEM) or JWT_JWKS_URL');
  }
  if (config.jwtPublicKey !== undefined && config.jwtJwksUrl !== undefined) {
    problems.push('JWT_PUBLIC_KEY and JWT_JWKS_URL are exclusive: set one of them');
  }
  if (config.role !== 'all' && config.natsUrl === undefined && (env.NATS_URL ?? '') === '') {
    problems.push(`AURORA_ROLE=${config.role} needs NATS_URL: the in-process bus cannot reach the other role's process`);
  }
  // One missed heartbeat must not make a live node dead.
  if (config.nodeDeadAfterMs < 2 * config.nodeHeartbeatMs) {
    problems.push(`NODE_DEAD_AFTER_MS (${config.nodeDeadAfterMs}) must be at least twice NODE_HEARTBEAT_MS (${config.nodeHeartbeatMs})`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config);
}
