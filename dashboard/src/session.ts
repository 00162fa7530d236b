// Who the page is: the token (kept in sessionStorage, so it lives as long as the tab and is
// never written to disk by us), whether this Aurora asks for one (learned from a 401), and what
// the token's scopes allow.
import { computed, signal } from '@preact/signals';
import { grants, scopesOfToken } from './jwt-scopes.js';

const STORAGE_KEY = 'aurora.token';

function stored(): string {
  try {
    return sessionStorage.getItem(STORAGE_KEY) ?? '';
  } catch {
    return ''; // storage refused (privacy settings): the token lives in memory only
  }
}

export const token = signal(stored());
/** Set once any answer says 401: this Aurora runs with AUTH_ENABLED. */
export const authRequired = signal(false);
/** The last 401's detail (an expired or malformed token says why). */
export const authProblem = signal<string | null>(null);

export function setToken(value: string): void {
  const trimmed = value.trim();
  try {
    if (trimmed === '') sessionStorage.removeItem(STORAGE_KEY);
    else sessionStorage.setItem(STORAGE_KEY, trimmed);
  } catch {
    // kept in memory only
  }
  authProblem.value = null;
  token.value = trimmed;
}

const scopes = computed(() => scopesOfToken(token.value));

/** Whether the page should offer what needs `scope`: always without auth; with it, per the token. */
export function allows(scope: string): boolean {
  if (!authRequired.value) return true;
  return grants(scopes.value, scope);
}
