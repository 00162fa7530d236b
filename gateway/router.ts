// The route table and path matching. Templates look like '/api/v1/agents/:name'; a request path is
// split into segments, each segment percent-decoded, and compared segment by segment. A trailing
// slash never matters ('/api/v1/agents' and '/api/v1/agents/' are the same route). When several
// templates match, the one whose first differing segment is literal wins ('/tasks/execute' over
// '/tasks/:id'). HEAD is answered by the GET route (uWS leaves the body out). The template, never
// the raw path, is what labels metrics.
import type { Handler, HandlerResponse, HttpMethod } from './http.js';
import type { RequestSchemaName, ResponseSchemaName } from './schemas.js';
import type { RouteAccess } from './scopes.js';

/**
 * `scope` (from RouteAccess): what a bearer token needs when AUTH_ENABLED; a route with neither
 * `scope` nor `guard` is open (health probes, `GET /`). See gateway/scopes.ts.
 */
export interface Route<B = unknown> extends RouteAccess {
  readonly method: HttpMethod;
  /** Template: literal segments and ':param' segments. */
  readonly path: string;
  readonly handler: Handler<B>;
  /** The request body schema; routes without one ignore any body. */
  readonly body?: RequestSchemaName;
  /** Response schema per success status. Error responses always use the Error schema. */
  readonly responses: Readonly<Partial<Record<number, ResponseSchemaName>>>;
  readonly summary?: string;
  /** Answers Accept: text/event-stream with an event stream besides its JSON answer (documented as such). */
  readonly eventStream?: boolean;
  /**
   * The answer this route always gives, whoever asks and whatever the process is doing. Such a
   * route may be answered without the per-request pipeline (see Dispatcher.constantAnswers).
   */
  readonly constant?: HandlerResponse;
}

/** Erases a route's body type so routes with different bodies share one table. */
export function route<B>(r: Route<B>): Route {
  return r as unknown as Route;
}

/** A route that always answers `answer` (a probe): its handler and its `constant` are the same. */
export function constantRoute(r: Omit<Route, 'handler' | 'constant'> & { answer: HandlerResponse }): Route {
  const { answer, ...rest } = r;
  return { ...rest, constant: answer, handler: async () => answer };
}

type Segment = { kind: 'literal'; value: string } | { kind: 'param'; name: string };

interface CompiledRoute {
  readonly route: Route;
  readonly segments: readonly Segment[];
}

export type RouteMatch =
  | { kind: 'found'; route: Route; params: Record<string, string> }
  | { kind: 'method_not_allowed'; template: string; allow: readonly HttpMethod[] }
  | { kind: 'not_found' }
  | { kind: 'bad_path'; message: string };

export interface Router {
  readonly routes: readonly Route[];
  match(method: string, path: string): RouteMatch;
}

function splitPath(path: string): string[] {
  const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  if (trimmed === '/' || trimmed === '') return [];
  return trimmed.slice(1).split('/');
}

function compileTemplate(template: string): Segment[] {
  if (!template.startsWith('/')) throw new Error(`Route template must start with '/': ${template}`);
  return splitPath(template).map((s) => (s.startsWith(':') ? { kind: 'param', name: s.slice(1) } : { kind: 'literal', value: s }));
}

/** Orders by length, then literal segments before params: negative means `a` is more specific. */
function compareSpecificity(a: readonly Segment[], b: readonly Segment[]): number {
  if (a.length !== b.length) return a.length - b.length;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const ka = a[i]!.kind;
    const kb = b[i]!.kind;
    if (ka !== kb) return ka === 'literal' ? -1 : 1;
  }
  return 0;
}

export function createRouter(routes: readonly Route[]): Router {
  const seen = new Set<string>();
  const compiled: CompiledRoute[] = routes.map((r) => {
    const key = `${r.method} ${splitPath(r.path).join('/')}`;
    if (seen.has(key)) throw new Error(`Duplicate route ${r.method} ${r.path}`);
    seen.add(key);
    return { route: r, segments: compileTemplate(r.path) };
  });
  compiled.sort((a, b) => compareSpecificity(a.segments, b.segments));

  return {
    routes,
    match(method, path) {
      const wanted = method === 'HEAD' ? 'GET' : method;
      const raw = splitPath(path);
      const decoded: string[] = [];
      for (const segment of raw) {
        try {
          decoded.push(decodeURIComponent(segment));
        } catch {
          return { kind: 'bad_path', message: 'Invalid percent-encoding in path' };
        }
      }
      let pathMatch: CompiledRoute | undefined;
      const allow = new Set<HttpMethod>();
      for (const c of compiled) {
        const params = matchSegments(c.segments, decoded);
        if (!params) continue;
        pathMatch ??= c;
        allow.add(c.route.method);
        if (c.route.method === wanted) return { kind: 'found', route: c.route, params };
      }
      if (!pathMatch) return { kind: 'not_found' };
      return { kind: 'method_not_allowed', template: pathMatch.route.path, allow: [...allow].sort() };
    },
  };
}

function matchSegments(template: readonly Segment[], path: readonly string[]): Record<string, string> | undefined {
  if (template.length !== path.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < template.length; i++) {
    const t = template[i]!;
    const p = path[i]!;
    if (t.kind === 'literal') {
      if (t.value !== p) return undefined;
    } else {
      if (p === '') return undefined;
      params[t.name] = p;
    }
  }
  return params;
}
