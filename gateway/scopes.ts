// The vocabulary of authorisation: which scopes exist, what each allows, and what a route needs
// under the current configuration. Pure (no jose, no sockets), so the router, the OpenAPI
// generator and the README tests can read it without loading the verifier.

/** Every scope a token may carry. `admin` implies all the others. */
export const SCOPES = [
  'agents:read',
  'agents:write',
  'models:read',
  'models:write',
  'tasks:read',
  'tasks:execute',
  'workflows:read',
  'workflows:write',
  'events:read',
  'metrics:read',
  'admin',
] as const;
export type Scope = (typeof SCOPES)[number];

export const ADMIN_SCOPE = 'admin' satisfies Scope;

/** What each scope allows, for the README and the OpenAPI security scheme. */
export const SCOPE_DOCS: Readonly<Record<Scope, string>> = {
  'agents:read': 'List and inspect agents',
  'agents:write': 'Create and delete agents',
  'models:read': 'List models, read their status and follow pulls',
  'models:write': 'Load, unload and pull models, and cancel pulls',
  'tasks:read': 'List and inspect tasks',
  'tasks:execute': 'Run tasks (REST and the WebSocket execute op) and cancel them',
  'workflows:read': 'List and inspect workflow definitions and their versions',
  'workflows:write': 'Create, replace (new version) and delete workflow definitions',
  'events:read': 'Receive events on the WebSocket stream and read the event log',
  'metrics:read': 'Read /metrics (when AUTH_PROTECT_METRICS is on)',
  admin: 'Operator commands (restart, fault injection); implies every other scope',
};

/**
 * Routes whose protection an operator can switch off: `metrics` follows AUTH_PROTECT_METRICS and
 * `docs` follows AUTH_PROTECT_DOCS. A guarded route with no scope needs only a valid token.
 */
export const AUTH_GUARDS = ['metrics', 'docs'] as const;
export type AuthGuard = (typeof AUTH_GUARDS)[number];

/** The access fields of a route-table entry. */
export interface RouteAccess {
  /** The scope a token needs; absent and unguarded: open to everyone. */
  readonly scope?: Scope;
  readonly guard?: AuthGuard;
}

export interface AccessSettings {
  readonly authEnabled: boolean;
  readonly authProtectMetrics: boolean;
  readonly authProtectDocs: boolean;
}

/**
 * What a request needs: nothing, or a valid token carrying one of `anyOf` (empty: any valid
 * token will do).
 */
export type Requirement = { readonly kind: 'open' } | { readonly kind: 'token'; readonly anyOf: readonly Scope[] };

export const OPEN: Requirement = { kind: 'open' };

export function requirementOf(access: RouteAccess, settings: AccessSettings): Requirement {
  if (!settings.authEnabled) return OPEN;
  if (access.guard === 'metrics' && !settings.authProtectMetrics) return OPEN;
  if (access.guard === 'docs' && !settings.authProtectDocs) return OPEN;
  if (access.scope === undefined && access.guard === undefined) return OPEN;
  return { kind: 'token', anyOf: access.scope === undefined ? [] : [access.scope] };
}

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

/** True when `held` allows `wanted`: it holds it, or holds admin. */
export function grants(held: readonly Scope[], wanted: Scope): boolean {
  return held.includes(wanted) || held.includes(ADMIN_SCOPE);
}

/** Scopes a token holds: OAuth's space-separated `scope`, or a `scp` / `scopes` claim (array or string). Unknown names are dropped. */
export function scopesFromClaims(claims: Readonly<Record<string, unknown>>): Scope[] {
  const found = new Set<Scope>();
  for (const claim of ['scope', 'scp', 'scopes'] as const) {
    const value = claims[claim];
    const names = typeof value === 'string' ? value.split(' ') : Array.isArray(value) ? value : [];
    for (const name of names) if (typeof name === 'string' && isScope(name)) found.add(name);
  }
  return SCOPES.filter((s) => found.has(s));
}
