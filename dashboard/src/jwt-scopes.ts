// What a token allows, read from its claims as the gateway reads them (gateway/scopes.ts):
// OAuth's space-separated `scope`, or `scp` / `scopes` (array or string). The page does not
// verify the token (the server does); it only decides which views to offer.

export const ADMIN = 'admin';

/** The scopes a JWT's payload names; empty when it is not a readable JWT. */
export function scopesOfToken(token: string): string[] {
  const part = token.split('.')[1];
  if (part === undefined) return [];
  let claims: Record<string, unknown>;
  try {
    const b64 = part.replace(/-/g, '+').replace(/_/g, '/');
    const padded = b64 + '='.repeat((4 - (b64.length % 4)) % 4);
    const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
    claims = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
  } catch {
    return [];
  }
  const found = new Set<string>();
  for (const claim of ['scope', 'scp', 'scopes']) {
    const value = claims[claim];
    const names = typeof value === 'string' ? value.split(' ') : Array.isArray(value) ? value : [];
    for (const name of names) if (typeof name === 'string' && name !== '') found.add(name);
  }
  return [...found];
}

/** True when `held` allows `wanted`: it holds it, or holds admin. */
export function grants(held: readonly string[], wanted: string): boolean {
  return held.includes(wanted) || held.includes(ADMIN);
}
