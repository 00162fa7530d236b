// The request pipeline, free of sockets: route → parse and validate the body → handler → map
// errors → serialise from the response schema → headers → metrics. The uWS adapter only copies
// the request out of the socket, reads the body under the byte cap, and writes what comes back.
import { AuroraError, isAuroraError } from '../runtime/errors.js';
import { createAuthenticator, type Authenticator } from './auth.js';
import type { LogFields, Logger } from '../runtime/logger.js';
import { createCors } from './cors.js';
import type { GatewayDeps } from './deps.js';
import { isServerError, RETRY_AFTER_SECONDS, statusOf, type ErrorStatus } from './error-response.js';
import { parseJsonBody } from './json-body.js';
import { jsonMediaTypeRefusal } from './media-type.js';
import { createOriginGuard } from './origin-guard.js';
import { METRIC_METHODS, type HandlerResponse, type Headers, type IncomingRequest, type OutgoingResponse } from './http.js';
import { createRouter, type Route, type RouteMatch, type Router } from './router.js';
import { ROUTES } from './routes/index.js';
import { createRateLimitGate, isRateLimitExempt } from './rate-limit.js';
import { acceptRequestId, REQUEST_ID_HEADER } from './request-id.js';
import { compileCodecs, type Codecs, type ResponseSchemaName } from './schemas.js';
import { requirementOf } from './scopes.js';
import { SECURITY_HEADERS } from './security-headers.js';

/** Route label for requests no template matched, so stray paths cannot explode label cardinality. */
export const UNMATCHED_ROUTE = 'unmatched';
const JSON_TYPE = 'application/json';

export interface Exchange {
  readonly requestId: string;
  /** The metrics label: the route template, or UNMATCHED_ROUTE. */
  readonly routeLabel: string;
  /** Bytes of body the adapter may read for this request; null when no body is read at all. */
  readonly bodyLimit: number | null;
  /** Runs the request to its response. Never rejects. */
  run(body: Uint8Array | null): Promise<OutgoingResponse>;
  /** The 413 answer, for an adapter that stopped reading a body past `bodyLimit`. */
  tooLarge(): OutgoingResponse;
  /** The 408 answer, for an adapter whose client did not finish its body within `bodyReadTimeoutMs`. */
  bodyTimedOut(): OutgoingResponse;
}

/**
 * A route whose answer never varies (Route.constant), answered synchronously without the request
 * pipeline: no body, no auth, no rate limit, nothing to await. Same headers and metrics as the
 * pipeline would give it.
 */
export interface ConstantAnswer {
  /** The route's path; a constant route has no parameters. */
  readonly path: string;
  /**
   * The response to a GET of `path` with these request details (uWS hands '' for an absent header
   * and an empty query), or null when the request needs the pipeline after all: a query string
   * (which the pipeline validates) or an Origin while CORS is configured.
   */
  answer(requestIdHeader: string, origin: string, query: string): OutgoingResponse | null;
}

export interface Dispatcher {
  readonly router: Router;
  /** Routes that may be answered without begin()/run(): only those open to anyone and never rate limited. */
  readonly constantAnswers: readonly ConstantAnswer[];
  /** How long the adapter waits for a whole request body before answering `bodyTimedOut()`. */
  readonly bodyReadTimeoutMs: number;
  /** Requests begun whose response has not been produced yet. */
  inFlight(): number;
  /** Synchronous: routes the request and fixes its id before the adapter awaits anything. */
  begin(req: IncomingRequest): Exchange;
}

export interface DispatcherOptions {
  routes?: readonly Route[];
  /** Compiled schemas; compiled here when not given. */
  codecs?: Codecs;
  /** The bearer-token check; built from config when not given (startGateway shares one with the stream). */
  auth?: Authenticator;
}

/**
 * A parameter given twice is refused rather than resolved: which copy wins differs between
 * proxies, caches and servers (parameter pollution), so the client must say what it means once.
 */
function parseQuery(raw: string): { ok: true; query: Record<string, string> } | { ok: false; detail: string } {
  const query: Record<string, string> = {};
  if (raw === '') return { ok: true, query };
  for (const [k, v] of new URLSearchParams(raw)) {
    if (Object.hasOwn(query, k)) return { ok: false, detail: `Query parameter "${k.slice(0, 64)}" is given more than once` };
    query[k] = v;
  }
  return { ok: true, query };
}

/** The request's child logger, made on first use: most requests never log a line. */
class RequestLogger implements Logger {
  #child: Logger | undefined;
  constructor(
    private readonly parent: Logger,
    private readonly requestId: string,
  ) {}

  private get log(): Logger {
    return (this.#child ??= this.parent.child({ request_id: this.requestId }));
  }

  debug(msg: string, fields?: LogFields): void {
    this.log.debug(msg, fields);
  }

  info(msg: string, fields?: LogFields): void {
    this.log.info(msg, fields);
  }

  warn(msg: string, fields?: LogFields): void {
    this.log.warn(msg, fields);
  }

  error(msg: string, fields?: LogFields): void {
    this.log.error(msg, fields);
  }

  child(fields: LogFields): Logger {
    return this.log.child(fields);
  }
}

export function createDispatcher(deps: GatewayDeps, options: DispatcherOptions = {}): Dispatcher {
  const router = createRouter(options.routes ?? ROUTES);
  const codecs = options.codecs ?? compileCodecs();
  const { metrics, logger, config, clock } = deps;
  const auth = options.auth ?? createAuthenticator(config, { logger, now: () => clock.now() });
  let inFlight = 0;
  /** While draining only reads are served, so nothing new starts that shutdown would cut short. */
  const refusedWhileDraining = (method: string) => deps.lifecycle?.draining === true && method !== 'GET' && method !== 'HEAD';
  const cors = createCors(config.corsOrigins);
  const originGuard = createOriginGuard(config.authEnabled, cors);
  if (config.rateLimitEnabled && deps.rateLimiter === undefined) {
    throw new Error('RATE_LIMIT_ENABLED is on but the gateway was given no rate limiter');
  }
  const rateLimit =
    config.rateLimitEnabled && deps.rateLimiter !== undefined
      ? createRateLimitGate({
          limiter: deps.rateLimiter,
          limitPerMinute: config.rateLimitPerMinute,
          trustProxyHops: config.trustProxyHops,
          metrics,
          clock,
        })
      : undefined;

  function finish(
    method: string,
    routeLabel: string,
    startedAt: number,
    requestId: string,
    status: number,
    body: string | Uint8Array,
    extra: Readonly<Record<string, string>> = {},
  ): OutgoingResponse {
    // Route headers come last but one, so a route may override a security header (the docs' CSP).
    const headers: Record<string, string> = { 'content-type': JSON_TYPE, ...SECURITY_HEADERS, ...extra, [REQUEST_ID_HEADER]: requestId };
    if (body === '') delete headers['content-type'];
    const retryAfter = RETRY_AFTER_SECONDS[status];
    if (retryAfter !== undefined && headers['retry-after'] === undefined) headers['retry-after'] = String(retryAfter);
    const methodLabel = METRIC_METHODS.includes(method) ? method : 'OTHER';
    metrics.httpRequests.inc({ method: methodLabel, route: routeLabel, status: String(status) });
    metrics.httpDuration.observe({ method: methodLabel, route: routeLabel }, (clock.monotonic() - startedAt) / 1000);
    return typeof body === 'string' ? { status, headers, body } : { status, headers, body: '', bytes: body };
  }

  function errorBody(detail: string): string {
    return codecs.serialize('Error', { detail });
  }

  const constantAnswers: ConstantAnswer[] = [];
  for (const route of router.routes) {
    const answer = route.constant;
    if (answer === undefined || route.method !== 'GET' || route.path.includes(':')) continue;
    if (requirementOf(route, config).kind !== 'open') continue;
    if (rateLimit !== undefined && !isRateLimitExempt(route.path)) continue;
    const schema = route.responses[answer.status];
    if (schema === undefined) throw new Error(`Route GET ${route.path} declares no schema for status ${answer.status}`);
    const body = codecs.serialize(schema, answer.body);
    constantAnswers.push({
      path: route.path,
      answer(requestIdHeader, origin, query) {
        if (query !== '' || (cors !== undefined && origin !== '')) return null;
        const startedAt = clock.monotonic();
        const requestId = acceptRequestId(requestIdHeader === '' ? undefined : requestIdHeader);
        return finish('GET', route.path, startedAt, requestId, answer.status, body, answer.headers);
      },
    });
  }

  return {
    router,
    constantAnswers,
    bodyReadTimeoutMs: config.bodyReadTimeoutMs,
    inFlight: () => inFlight,
    begin(req) {
      const startedAt = clock.monotonic();
      const requestId = acceptRequestId(req.headers[REQUEST_ID_HEADER]);
      const match: RouteMatch = router.match(req.method, req.url);
      const routeLabel =
        match.kind === 'found' ? match.route.path : match.kind === 'method_not_allowed' ? match.template : UNMATCHED_ROUTE;
      // Every line logged while handling this request carries its id. An explicit child logger (handed
      // to handlers as deps.logger) rather than AsyncLocalStorage: no async-hook cost on every
      // promise, and no request id leaking onto lines of in-process runtime work the request merely
      // triggered. The runtime side is reached over the bus and logs without it.
      const log: Logger = new RequestLogger(logger, requestId);
      // CORS now, RateLimit-* once counted: carried by whichever response this request ends with.
      const exchangeHeaders: Record<string, string> = cors?.responseHeaders(req.headers.origin) ?? {};
      const done = (status: number, body: string | Uint8Array, headers?: Readonly<Record<string, string>>) =>
        finish(req.method, routeLabel, startedAt, requestId, status, body, { ...exchangeHeaders, ...headers });
      // Every error answer of the pipeline; the status is always a row of the error table.
      const fail = (status: ErrorStatus, detail: string, headers?: Headers) => done(status, errorBody(detail), headers);

      async function handle(body: Uint8Array | null): Promise<OutgoingResponse> {
        // A preflight carries no credentials and does no work: answered before auth and never counted.
        if (cors?.isAllowedPreflight(req.method, req.headers) && match.kind === 'method_not_allowed') {
          return done(204, '', cors.preflightHeaders(req.headers.origin!, match.allow));
        }
        switch (match.kind) {
          case 'not_found':
            return fail(statusOf('not_found'), 'Not Found');
          case 'bad_path':
            return fail(statusOf('invalid_request'), match.message);
          case 'method_not_allowed':
            return fail(statusOf('method_not_allowed'), 'Method Not Allowed', { allow: match.allow.join(', ') });
          case 'found':
            break;
        }
        if (refusedWhileDraining(req.method)) return fail(statusOf('unavailable'), 'Aurora is shutting down');
        const { route, params } = match;
        // Before anything runs: with auth off, a cross-site page must not make the browser write.
        const crossSite = originGuard?.refusal(req.method, req.headers);
        if (crossSite !== undefined) return fail(statusOf('forbidden'), crossSite);
        // Authentication runs before rate limiting and before the body is read as JSON: a caller
        // without a valid token learns nothing but 401/403. Its subject is what rate limits count.
        const access = await auth.check({ authorization: req.headers.authorization }, requirementOf(route, config));
        if (!access.ok) return fail(access.status, access.detail, access.headers);
        const { principal } = access;
        if (rateLimit !== undefined && !isRateLimitExempt(route.path)) {
          const verdict = await rateLimit.check({ principal, peer: req.remoteAddress, headers: req.headers }, log);
          Object.assign(exchangeHeaders, verdict.headers);
          if (!verdict.allowed) return fail(statusOf('rate_limited'), verdict.detail);
        }
        const query = parseQuery(req.query);
        if (!query.ok) return fail(statusOf('invalid_request'), query.detail);
        let parsed: unknown = undefined;
        if (route.body !== undefined) {
          if (body === null || body.byteLength === 0) return fail(statusOf('invalid_request'), 'Request body is required');
          const wrongType = jsonMediaTypeRefusal(req.headers['content-type']);
          if (wrongType !== undefined) return fail(statusOf('unsupported_media_type'), wrongType);
          if (body.byteLength > config.maxBodyBytes) return fail(statusOf('payload_too_large'), tooLargeDetail());
          const json = parseJsonBody(body, config.maxJsonDepth);
          if (!json.ok) return fail(statusOf('invalid_request'), json.detail);
          const checked = codecs.validate(route.body, json.value);
          if (!checked.ok) return fail(statusOf('invalid_request'), checked.message);
          parsed = checked.value;
        }
        const headers = { ...req.headers, [REQUEST_ID_HEADER]: requestId };
        let res: HandlerResponse;
        try {
          res = await route.handler(
            { params, query: query.query, body: parsed, headers, subject: principal?.sub ?? null },
            { ...deps, logger: log },
          );
        } catch (err) {
          const e = answerableError(err, log, req, route.path);
          return fail(statusOf(e.code), e.toPayload().message, e.headers);
        }
        if (res.stream !== undefined) {
          const head = done(res.status, '', res.headers);
          return { ...head, headers: { ...head.headers, ...res.headers }, stream: res.stream };
        }
        const declared: ResponseSchemaName | undefined = route.responses[res.status];
        const schema = declared === undefined ? undefined : (res.schema ?? declared);
        try {
          if (schema === undefined) throw new Error(`Route ${route.method} ${route.path} declares no schema for status ${res.status}`);
          // Bytes declared as 'Text' or 'Binary' (files, artifacts) go out untouched, not re-encoded.
          const raw = (schema === 'Text' || schema === 'Binary') && res.body instanceof Uint8Array;
          const out = raw ? (res.body as Uint8Array) : codecs.serialize(schema, res.body);
          return done(res.status, out, res.headers);
        } catch (err) {
          const e = answerableError(err, log, req, route.path);
          return fail(statusOf(e.code), e.toPayload().message, e.headers);
        }
      }

      return {
        requestId,
        routeLabel,
        bodyLimit: match.kind === 'found' && match.route.body !== undefined ? config.maxBodyBytes : null,
        run: (body) => {
          inFlight += 1;
          return handle(body)
            .catch((err: unknown) => {
              const e = answerableError(err, log, req, routeLabel);
              return fail(statusOf(e.code), e.toPayload().message, e.headers);
            })
            .finally(() => {
              inFlight -= 1;
            });
        },
        tooLarge: () => fail(statusOf('payload_too_large'), tooLargeDetail()),
        bodyTimedOut: () => fail(statusOf('request_timeout'), 'Request body not received in time'),
      };
    },
  };

  function tooLargeDetail(): string {
    return `Request body exceeds ${config.maxBodyBytes} bytes`;
  }

  /** What a thrown value is answered as: itself when it is an AuroraError, else (a defect) an opaque `internal`. */
  function answerableError(err: unknown, log: Logger, req: IncomingRequest, routeLabel: string): AuroraError {
    if (isAuroraError(err)) {
      if (isServerError(err.status)) {
        // An expected failure (Ollama down, a bus timeout): its code and detail say it all; no stack.
        log.warn('request failed', { method: req.method, route: routeLabel, code: err.code, detail: err.message });
      }
      return err;
    }
    log.error('request failed with a defect', { method: req.method, route: routeLabel, err });
    // `internal` is never exposed: the client reads "Internal server error", the log has the rest.
    return new AuroraError('internal', 'defect while handling the request', { cause: err });
  }
}
