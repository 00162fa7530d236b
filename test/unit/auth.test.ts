// Bearer-token authentication: tokens minted with jose AND signed by hand with node:crypto (so the
// gateway accepts any standard JWT, not only its own library's), every way a token is refused,
// the scope check, the per-route requirements, the config checks and the token command.
import { createHmac, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTokenCommand } from '../../bin/token.js';
import { createAuthenticator, extractToken, type AuthOutcome, type Authenticator } from '../../gateway/auth.js';
import type { GatewayDeps } from '../../gateway/deps.js';
import { createDispatcher } from '../../gateway/dispatch.js';
import { ROUTES } from '../../gateway/routes/index.js';
import { SCOPES, requirementOf, scopesFromClaims, type Requirement, type Scope } from '../../gateway/scopes.js';
import { createMemoryBus } from '../../runtime/bus/memory.js';
import { createMemoryCache } from '../../runtime/cache/memory.js';
import { systemClock } from '../../runtime/clock.js';
import { ConfigError, loadConfig, type Config } from '../../runtime/config.js';
import { createLogger, silentLogger } from '../../runtime/logger.js';
import { createMetrics } from '../../runtime/metrics.js';
import { createSubjects } from '../../runtime/subjects.js';
import { uniqueNamespace } from '../helpers/services.js';
import { TEST_KINDS } from '../helpers/kinds.js';

const SECRET = randomBytes(32).toString('hex');
/** A fixed "now" (2030-03-17), so expiry and skew are exact. */
const NOW_S = 1_900_000_000;
const nowMs = () => NOW_S * 1000;

type Claims = Record<string, unknown>;
const baseClaims = (extra: Claims = {}): Claims => ({ sub: 'alice', iat: NOW_S, exp: NOW_S + 300, ...extra });

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** An HS256 JWT built from RFC 7515 by hand, no JWT library involved. */
function handSignHs256(claims: Claims, secret: string | Buffer, header: Claims = { alg: 'HS256', typ: 'JWT' }): string {
  const input = `${b64url(header)}.${b64url(claims)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

/** RS256 / ES256 / EdDSA by hand (ES256 signatures are the raw r||s JWS wants, not DER). */
function handSignAsymmetric(alg: 'RS256' | 'ES256' | 'EdDSA', claims: Claims, privateKey: KeyObject, kid?: string): string {
  const header: Claims = { alg, typ: 'JWT' };
  if (kid !== undefined) header.kid = kid;
  const input = Buffer.from(`${b64url(header)}.${b64url(claims)}`);
  const sig =
    alg === 'EdDSA'
      ? sign(null, input, privateKey)
      : alg === 'ES256'
        ? sign('sha256', input, { key: privateKey, dsaEncoding: 'ieee-p1363' })
        : sign('sha256', input, privateKey);
  return `${input.toString()}.${sig.toString('base64url')}`;
}

function joseSign(claims: Claims, alg: string, key: KeyObject | Uint8Array, kid?: string): Promise<string> {
  return new SignJWT(claims).setProtectedHeader(kid === undefined ? { alg } : { alg, kid }).sign(key);
}

function authFor(overrides: Partial<Config> = {}): Authenticator {
  const config = loadConfig({ env: {}, overrides: { authEnabled: true, jwtSecret: SECRET, ...overrides } });
  return createAuthenticator(config, { now: nowMs });
}

const needs = (...anyOf: Scope[]): Requirement => ({ kind: 'token', anyOf });
const ANY_TOKEN: Requirement = { kind: 'token', anyOf: [] };

function bearer(auth: Authenticator, token: string, requirement: Requirement = ANY_TOKEN): Promise<AuthOutcome> {
  return auth.check({ authorization: `Bearer ${token}` }, requirement);
}

function expectInvalid(outcome: AuthOutcome, reason: string): void {
  expect(outcome).toMatchObject({ ok: false, status: 401, detail: `Invalid token: ${reason}` });
  if (outcome.ok) return;
  expect(outcome.headers['www-authenticate']).toBe(`Bearer realm="aurora", error="invalid_token", error_description="${reason}"`);
}

function expectPrincipal(outcome: AuthOutcome, sub: string, scopes: readonly Scope[]): void {
  expect(outcome.ok, JSON.stringify(outcome)).toBe(true);
  if (!outcome.ok) return;
  expect(outcome.principal?.sub).toBe(sub);
  expect(outcome.principal?.scopes).toEqual(scopes);
}

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ed = generateKeyPairSync('ed25519');
const pemOf = (k: KeyObject) => k.export({ type: 'spki', format: 'pem' }).toString();

// ---------------------------------------------------------------- config

describe('auth configuration', () => {
  it('is off by default, with a 30 s skew, /metrics protected and the docs open once it is on', () => {
    const c = loadConfig({ env: {} });
    expect(c).toMatchObject({ authEnabled: false, jwtClockSkewS: 30, authProtectMetrics: true, authProtectDocs: false });
    expect([c.jwtSecret, c.jwtPublicKey, c.jwtJwksUrl, c.jwtIssuer, c.jwtAudience]).toEqual([undefined, undefined, undefined, undefined, undefined]);
  });

  it('refuses AUTH_ENABLED=true without any key, listed with the other problems', () => {
    let caught: unknown;
    try {
      loadConfig({ env: { AUTH_ENABLED: 'true', PORT: 'eighty', JWT_CLOCK_SKEW_S: '-1' } });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const problems = (caught as ConfigError).problems;
    expect(problems).toContain(
      'AUTH_ENABLED is true but no key is set: set JWT_SECRET (HS256), JWT_PUBLIC_KEY (PEM) or JWT_JWKS_URL',
    );
    expect(problems.some((p) => p.startsWith('PORT '))).toBe(true);
    expect(problems.some((p) => p.startsWith('JWT_CLOCK_SKEW_S '))).toBe(true);
  });

  it('accepts each kind of key on its own', () => {
    expect(loadConfig({ env: { AUTH_ENABLED: 'true', JWT_SECRET: SECRET } }).jwtSecret).toBe(SECRET);
    expect(loadConfig({ env: { AUTH_ENABLED: 'true', JWT_PUBLIC_KEY: pemOf(ec.publicKey) } }).jwtPublicKey).toBe(pemOf(ec.publicKey).trim());
    const jwks = 'https://id.example.com/.well-known/jwks.json';
    expect(loadConfig({ env: { AUTH_ENABLED: 'true', JWT_JWKS_URL: jwks } }).jwtJwksUrl).toBe(jwks);
  });

  it('reads a PEM written on one line with \\n escapes', () => {
    const oneLine = pemOf(rsa.publicKey).trim().replace(/\n/g, '\\n');
    const c = loadConfig({ env: { AUTH_ENABLED: 'true', JWT_PUBLIC_KEY: oneLine } });
    expect(c.jwtPublicKey).toBe(pemOf(rsa.publicKey).trim());
  });

  it.each([
    ['a short HS256 secret', { JWT_SECRET: 'short' }, 'JWT_SECRET must be at least 32 bytes for HS256, got 5'],
    [
      'a private key as the public key',
      { JWT_PUBLIC_KEY: rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() },
      'JWT_PUBLIC_KEY holds a private key; give the public key only',
    ],
    ['text that is no PEM', { JWT_PUBLIC_KEY: 'hello' }, 'JWT_PUBLIC_KEY must be a PEM public key'],
    [
      'an RSA key under 2048 bits',
      { JWT_PUBLIC_KEY: pemOf(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey) },
      'JWT_PUBLIC_KEY RSA key must have at least 2048 bits, got 1024',
    ],
    [
      'an EC key on an unsupported curve',
      { JWT_PUBLIC_KEY: pemOf(generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey) },
      'JWT_PUBLIC_KEY EC key must use P-256, P-384 or P-521, got secp256k1',
    ],
    ['a JWKS over plain http to another host', { JWT_JWKS_URL: 'http://id.example.com/jwks' }, 'JWT_JWKS_URL must use https'],
    [
      'both a public key and a JWKS',
      { JWT_PUBLIC_KEY: pemOf(ed.publicKey), JWT_JWKS_URL: 'https://id.example.com/jwks' },
      'JWT_PUBLIC_KEY and JWT_JWKS_URL are exclusive: set one of them',
    ],
  ])('refuses %s', (_name, env, problem) => {
    let caught: unknown;
    try {
      loadConfig({ env: { AUTH_ENABLED: 'true', ...env } });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const problems = (caught as ConfigError).problems;
    expect(problems.some((p) => p.startsWith(problem)), problems.join('\n')).toBe(true);
    // The bad key is the one problem: it is not also reported as "no key".
    expect(problems.some((p) => p.startsWith('AUTH_ENABLED is true but no key'))).toBe(false);
  });

  it('allows a JWKS over http to this machine only', () => {
    expect(loadConfig({ env: { JWT_JWKS_URL: 'http://127.0.0.1:9999/jwks' } }).jwtJwksUrl).toBe('http://127.0.0.1:9999/jwks');
    expect(loadConfig({ env: { JWT_JWKS_URL: 'http://[::1]:9999/jwks' } }).jwtJwksUrl).toBe('http://[::1]:9999/jwks');
  });
});

// ---------------------------------------------------------------- HS256

describe('HS256 tokens (JWT_SECRET)', () => {
  const auth = authFor();
  const key = new TextEncoder().encode(SECRET);

  it('accepts a token minted with jose and reads its subject and scopes', async () => {
    const token = await joseSign(baseClaims({ scope: 'tasks:execute agents:read' }), 'HS256', key);
    expectPrincipal(await bearer(auth, token), 'alice', ['agents:read', 'tasks:execute']);
  });

  it('accepts a token signed by hand with node:crypto (no JWT library)', async () => {
    const token = handSignHs256(baseClaims({ scope: 'models:read' }), SECRET);
    const outcome = await bearer(auth, token, needs('models:read'));
    expectPrincipal(outcome, 'alice', ['models:read']);
    if (outcome.ok) expect(outcome.principal?.expiresAtMs).toBe((NOW_S + 300 + 30) * 1000);
  });

  it('reads scopes from scope (string), scp and scopes (arrays or strings), dropping unknown names', () => {
    expect(scopesFromClaims({ scope: 'agents:read  tasks:read bogus' })).toEqual(['agents:read', 'tasks:read']);
    expect(scopesFromClaims({ scp: ['models:write', 'x:y'] })).toEqual(['models:write']);
    expect(scopesFromClaims({ scp: 'events:read' })).toEqual(['events:read']);
    expect(scopesFromClaims({ scopes: ['admin', 42, null] })).toEqual(['admin']);
    expect(scopesFromClaims({ scope: 7, scp: { a: 1 } })).toEqual([]);
  });

  it('accepts scp and scopes arrays in a hand-signed token', async () => {
    const token = handSignHs256(baseClaims({ scp: ['events:read'], scopes: ['metrics:read'] }), SECRET);
    expectPrincipal(await bearer(auth, token), 'alice', ['events:read', 'metrics:read']);
  });

  it('accepts the Bearer scheme in any case', async () => {
    const token = handSignHs256(baseClaims(), SECRET);
    expect((await auth.check({ authorization: `bearer ${token}` }, ANY_TOKEN)).ok).toBe(true);
  });
});

// ---------------------------------------------------------------- public keys

describe('asymmetric tokens (JWT_PUBLIC_KEY)', () => {
  it.each([
    ['RS256', rsa],
    ['ES256', ec],
    ['EdDSA', ed],
  ] as const)('accepts %s tokens from jose and from node:crypto for a key generated here', async (alg, pair) => {
    const auth = authFor({ jwtSecret: undefined, jwtPublicKey: pemOf(pair.publicKey) });
    const minted = await joseSign(baseClaims({ scope: 'tasks:read' }), alg, pair.privateKey);
    expectPrincipal(await bearer(auth, minted, needs('tasks:read')), 'alice', ['tasks:read']);
    const byHand = handSignAsymmetric(alg, baseClaims({ scope: 'tasks:read' }), pair.privateKey);
    expectPrincipal(await bearer(auth, byHand, needs('tasks:read')), 'alice', ['tasks:read']);
  });

  it('refuses a token signed by another key of the same type', async () => {
    const auth = authFor({ jwtSecret: undefined, jwtPublicKey: pemOf(ec.publicKey) });
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expectInvalid(await bearer(auth, await joseSign(baseClaims(), 'ES256', other.privateKey)), 'signature verification failed');
  });

  it('refuses an algorithm other than the one the key type pins (an RS256 token for an EC key)', async () => {
    const auth = authFor({ jwtSecret: undefined, jwtPublicKey: pemOf(ec.publicKey) });
    expectInvalid(await bearer(auth, await joseSign(baseClaims(), 'RS256', rsa.privateKey)), 'algorithm not allowed');
  });

  it('refuses algorithm confusion: an HS256 token whose secret is the public key PEM', async () => {
    const pem = pemOf(rsa.publicKey);
    const auth = authFor({ jwtSecret: undefined, jwtPublicKey: pem });
    for (const secret of [pem, pem.trim()]) {
      expectInvalid(await bearer(auth, handSignHs256(baseClaims({ scope: 'admin' }), secret)), 'algorithm not allowed');
    }
  });

  it('refuses the confusion token too when a secret is also configured: HS256 only ever uses JWT_SECRET', async () => {
    const pem = pemOf(rsa.publicKey);
    const auth = authFor({ jwtPublicKey: pem });
    expectInvalid(await bearer(auth, handSignHs256(baseClaims({ scope: 'admin' }), pem)), 'signature verification failed');
    // ...while both genuine kinds still pass.
    expect((await bearer(auth, handSignHs256(baseClaims(), SECRET))).ok).toBe(true);
    expect((await bearer(auth, await joseSign(baseClaims(), 'RS256', rsa.privateKey))).ok).toBe(true);
  });
});

// ---------------------------------------------------------------- JWKS

describe('tokens checked against a remote JWKS (JWT_JWKS_URL)', () => {
  let server: Server;
  let url: string;
  let fetches = 0;
  const jwk = (k: KeyObject, kid: string, alg: string) => ({ ...k.export({ format: 'jwk' }), kid, alg, use: 'sig' });
  let keys: object[] = [];

  beforeAll(async () => {
    keys = [jwk(rsa.publicKey, 'rsa-1', 'RS256'), jwk(ec.publicKey, 'ec-1', 'ES256'), jwk(ed.publicKey, 'ed-1', 'EdDSA')];
    server = createServer((req, res) => {
      fetches++;
      if (req.url !== '/jwks') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('accepts RS256, ES256 and EdDSA tokens whose kid is in the set, fetching the set once', async () => {
    const auth = authFor({ jwtSecret: undefined, jwtJwksUrl: url });
    const before = fetches;
    expectPrincipal(await bearer(auth, await joseSign(baseClaims({ scope: 'events:read' }), 'RS256', rsa.privateKey, 'rsa-1')), 'alice', ['events:read']);
    expect((await bearer(auth, handSignAsymmetric('ES256', baseClaims(), ec.privateKey, 'ec-1'))).ok).toBe(true);
    expect((await bearer(auth, await joseSign(baseClaims(), 'EdDSA', ed.privateKey, 'ed-1'))).ok).toBe(true);
    expect(fetches - before).toBe(1);
  });

  it('refuses a kid the set does not hold', async () => {
    const auth = authFor({ jwtSecret: undefined, jwtJwksUrl: url });
    expectInvalid(await bearer(auth, await joseSign(baseClaims(), 'RS256', rsa.privateKey, 'nope')), 'no key matches the token');
  });

  it('refuses HS256 outright, whatever secret it was signed with', async () => {
    const auth = authFor({ jwtSecret: undefined, jwtJwksUrl: url });
    expectInvalid(await bearer(auth, handSignHs256(baseClaims(), JSON.stringify(keys[0]))), 'algorithm not allowed');
  });

  it('tries each key when several match a token without kid', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const saved = keys;
    keys = [
      { ...other.publicKey.export({ format: 'jwk' }), alg: 'RS256' },
      { ...rsa.publicKey.export({ format: 'jwk' }), alg: 'RS256' },
    ];
    try {
      const auth = authFor({ jwtSecret: undefined, jwtJwksUrl: url });
      expect((await bearer(auth, await joseSign(baseClaims(), 'RS256', rsa.privateKey))).ok).toBe(true);
      const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 });
      expectInvalid(await bearer(auth, await joseSign(baseClaims(), 'RS256', stranger.privateKey)), 'signature verification failed');
    } finally {
      keys = saved;
    }
  });

  it('answers 503 (not 401) when the JWKS endpoint cannot be read: the fault is the server\'s', async () => {
    for (const broken of [url.replace('/jwks', '/missing'), 'http://127.0.0.1:1/jwks']) {
      const auth = authFor({ jwtSecret: undefined, jwtJwksUrl: broken });
      const outcome = await bearer(auth, await joseSign(baseClaims(), 'RS256', rsa.privateKey, 'rsa-1'));
      expect(outcome).toEqual({
        ok: false,
        status: 503,
        detail: 'Token keys are unavailable: the JWKS endpoint could not be read',
        headers: { 'retry-after': '5' },
      });
    }
  });

  it('warns once, not once per request, while the JWKS endpoint is down', async () => {
    const lines: string[] = [];
    const config = loadConfig({ env: {}, overrides: { authEnabled: true, jwtJwksUrl: url.replace('/jwks', '/missing') } });
    const auth = createAuthenticator(config, { now: nowMs, logger: createLogger('debug', {}, (l) => lines.push(l)) });
    const token = await joseSign(baseClaims(), 'RS256', rsa.privateKey, 'rsa-1');
    for (let i = 0; i < 3; i++) expect(await bearer(auth, token)).toMatchObject({ status: 503 });
    const warnings = lines.map((l) => JSON.parse(l) as { level: string; msg: string }).filter((l) => l.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toContain('JWKS endpoint could not be read');
  });
});

// ---------------------------------------------------------------- refusals

describe('401: missing or invalid tokens', () => {
  const auth = authFor({ jwtIssuer: 'https://id.example.com', jwtAudience: 'aurora' });
  const good = (extra: Claims = {}) => baseClaims({ iss: 'https://id.example.com', aud: 'aurora', ...extra });

  it('accepts a token with the configured issuer and audience (aud may be a list)', async () => {
    expect((await bearer(auth, handSignHs256(good(), SECRET))).ok).toBe(true);
    expect((await bearer(auth, handSignHs256(good({ aud: ['other', 'aurora'] }), SECRET))).ok).toBe(true);
  });

  it('answers a request without a token with a bare Bearer challenge', async () => {
    const outcome = await auth.check({ authorization: undefined }, needs('agents:read'));
    expect(outcome).toEqual({
      ok: false,
      status: 401,
      detail: 'Missing bearer token',
      headers: { 'www-authenticate': 'Bearer realm="aurora"' },
    });
  });

  it.each([
    ['another scheme', 'Basic YWxpY2U6c2VjcmV0', 'Authorization header must be "Bearer <token>"'],
    ['an empty bearer', 'Bearer ', 'Authorization header must be "Bearer <token>"'],
    ['two tokens', 'Bearer a.b.c, Bearer d.e.f', 'Authorization header must be "Bearer <token>"'],
    ['no JWT at all', 'Bearer not-a-jwt', 'malformed token'],
    ['a JWT with a header that is not JSON', `Bearer ${Buffer.from('nope').toString('base64url')}.e30.c2ln`, 'malformed token'],
    ['a JWE-shaped token', 'Bearer a.b.c.d.e', 'malformed token'],
    ['a token over the length bound', `Bearer ${'a'.repeat(5000)}.${'b'.repeat(5000)}.c`, 'token too long'],
  ])('refuses %s', async (_name, authorization, reason) => {
    expectInvalid(await auth.check({ authorization }, ANY_TOKEN), reason);
  });

  it('refuses a token given both in the header and the query', async () => {
    const token = handSignHs256(good(), SECRET);
    expectInvalid(await auth.check({ authorization: `Bearer ${token}`, queryTokens: [token] }, ANY_TOKEN), 'token given more than once');
    expectInvalid(await auth.check({ authorization: undefined, queryTokens: [token, token] }, ANY_TOKEN), 'token given more than once');
    expect((await auth.check({ authorization: undefined, queryTokens: [token] }, ANY_TOKEN)).ok).toBe(true);
  });

  it.each([
    ['expired', good({ exp: NOW_S - 3600 }), 'token expired'],
    ['not yet valid', good({ nbf: NOW_S + 3600 }), 'token not yet valid'],
    ['from another issuer', good({ iss: 'https://evil.example.com' }), 'unexpected issuer'],
    ['without an issuer', good({ iss: undefined }), 'unexpected issuer'],
    ['for another audience', good({ aud: 'someone-else' }), 'unexpected audience'],
    ['without exp', good({ exp: undefined }), 'token has no exp claim'],
    ['without sub', good({ sub: undefined }), 'token has no sub claim'],
    ['with a non-string sub', good({ sub: 42 }), 'token has no sub claim'],
    ['with exp that is not a number', good({ exp: 'tomorrow' }), 'invalid claims'],
  ])('refuses a token %s', async (_name, claims, reason) => {
    const present = Object.fromEntries(Object.entries(claims).filter(([, v]) => v !== undefined));
    expectInvalid(await bearer(auth, handSignHs256(present, SECRET)), reason);
  });

  it('refuses a token signed with another secret', async () => {
    expectInvalid(await bearer(auth, handSignHs256(good(), randomBytes(32))), 'signature verification failed');
  });

  it('refuses a token whose payload was altered after signing', async () => {
    const [h, , s] = handSignHs256(good({ scope: 'agents:read' }), SECRET).split('.');
    expectInvalid(await bearer(auth, `${h}.${b64url(good({ scope: 'admin' }))}.${s}`), 'signature verification failed');
  });

  it('refuses alg none, with or without a signature, in any spelling', async () => {
    for (const alg of ['none', 'None', 'NONE']) {
      const unsigned = `${b64url({ alg, typ: 'JWT' })}.${b64url(good({ scope: 'admin' }))}.`;
      expectInvalid(await bearer(auth, unsigned), 'algorithm not allowed');
      expectInvalid(await bearer(auth, `${unsigned}${Buffer.from('x').toString('base64url')}`), 'algorithm not allowed');
    }
  });

  it('refuses HS384/HS512 with the right secret: only HS256 is pinned to it', async () => {
    const key = new TextEncoder().encode(SECRET);
    expectInvalid(await bearer(auth, await joseSign(good(), 'HS512', key)), 'algorithm not allowed');
  });

  it('puts only fixed phrases in WWW-Authenticate, never text from the token', async () => {
    const hostile = handSignHs256(good(), SECRET, { alg: 'HS256"\r\nX-Evil: 1', typ: 'JWT' });
    const outcome = await bearer(auth, hostile);
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.headers['www-authenticate']).not.toMatch(/[\r\n]|Evil/);
  });
});

describe('clock skew allowance (JWT_CLOCK_SKEW_S)', () => {
  it('accepts a token expired or not yet valid by less than the allowance, and refuses beyond it', async () => {
    const auth = authFor({ jwtClockSkewS: 30 });
    expect((await bearer(auth, handSignHs256(baseClaims({ exp: NOW_S - 20 }), SECRET))).ok).toBe(true);
    expectInvalid(await bearer(auth, handSignHs256(baseClaims({ exp: NOW_S - 31 }), SECRET)), 'token expired');
    expect((await bearer(auth, handSignHs256(baseClaims({ nbf: NOW_S + 20 }), SECRET))).ok).toBe(true);
    expectInvalid(await bearer(auth, handSignHs256(baseClaims({ nbf: NOW_S + 31 }), SECRET)), 'token not yet valid');
  });

  it('allows nothing with a skew of 0', async () => {
    const auth = authFor({ jwtClockSkewS: 0 });
    expectInvalid(await bearer(auth, handSignHs256(baseClaims({ exp: NOW_S }), SECRET)), 'token expired');
    expect((await bearer(auth, handSignHs256(baseClaims({ exp: NOW_S + 1 }), SECRET))).ok).toBe(true);
  });
});

// ---------------------------------------------------------------- scopes

describe('403: a valid token without the scope', () => {
  const auth = authFor();

  it('names the missing scope in the detail and in the challenge', async () => {
    const outcome = await bearer(auth, handSignHs256(baseClaims({ scope: 'agents:read tasks:read' }), SECRET), needs('tasks:execute'));
    expect(outcome).toEqual({
      ok: false,
      status: 403,
      detail: 'Missing scope: tasks:execute',
      headers: { 'www-authenticate': 'Bearer error="insufficient_scope", scope="tasks:execute"' },
    });
  });

  it('refuses a token with no scopes at all for a scoped route, and lets it through where any token will do', async () => {
    const token = handSignHs256(baseClaims(), SECRET);
    expect(await bearer(auth, token, needs('agents:read'))).toMatchObject({ ok: false, status: 403 });
    expect((await bearer(auth, token, ANY_TOKEN)).ok).toBe(true);
  });

  it('treats admin as every scope', async () => {
    const token = handSignHs256(baseClaims({ scope: 'admin' }), SECRET);
    for (const scope of SCOPES) expect((await bearer(auth, token, needs(scope))).ok, scope).toBe(true);
  });

  it('does not let any other scope stand in for admin', async () => {
    const everythingElse = SCOPES.filter((s) => s !== 'admin').join(' ');
    const outcome = await bearer(auth, handSignHs256(baseClaims({ scope: everythingElse }), SECRET), needs('admin'));
    expect(outcome).toMatchObject({ ok: false, status: 403, detail: 'Missing scope: admin' });
  });
});

describe('what each route requires', () => {
  const on = { authEnabled: true, authProtectMetrics: true, authProtectDocs: false };
  const find = (method: string, path: string) => {
    const r = ROUTES.find((x) => x.method === method && x.path === path);
    if (!r) throw new Error(`no route ${method} ${path}`);
    return r;
  };

  it('maps every API route to its scope; health probes and / are open', () => {
    const expected: [string, string, Scope | undefined][] = [
      ['GET', '/', undefined],
      ['GET', '/health/', undefined],
      ['GET', '/health/live', undefined],
      ['GET', '/health/startup', undefined],
      ['GET', '/health/ready', undefined],
      ['GET', '/api/v1/agents/', 'agents:read'],
      ['POST', '/api/v1/agents/', 'agents:write'],
      ['GET', '/api/v1/agents/:name', 'agents:read'],
      ['DELETE', '/api/v1/agents/:name', 'agents:write'],
      ['POST', '/api/v1/agents/:name/restart', 'admin'],
      ['POST', '/api/v1/agents/:name/fault', 'admin'],
      ['GET', '/api/v1/models/', 'models:read'],
      ['POST', '/api/v1/models/load', 'models:write'],
      ['DELETE', '/api/v1/models/:name', 'models:write'],
      ['GET', '/api/v1/models/:name/status', 'models:read'],
      ['POST', '/api/v1/tasks/execute', 'tasks:execute'],
      ['POST', '/api/v1/tasks/execute/batch', 'tasks:execute'],
      ['GET', '/api/v1/tasks/', 'tasks:read'],
      ['GET', '/api/v1/tasks/:id', 'tasks:read'],
      ['POST', '/api/v1/tasks/:id/cancel', 'tasks:execute'],
      ['GET', '/api/v1/workflows', 'workflows:read'],
      ['GET', '/api/v1/workflows/:name', 'workflows:read'],
      ['POST', '/api/v1/workflows', 'workflows:write'],
      ['PUT', '/api/v1/workflows/:name', 'workflows:write'],
      ['DELETE', '/api/v1/workflows/:name', 'workflows:write'],
      ['GET', '/metrics', 'metrics:read'],
    ];
    for (const [method, path, scope] of expected) {
      const want: Requirement = scope === undefined ? { kind: 'open' } : needs(scope);
      expect(requirementOf(find(method, path), on), `${method} ${path}`).toEqual(want);
    }
  });

  it('leaves no route open by accident: every route has a scope, a guard, or is a probe or /', () => {
    for (const r of ROUTES) {
      const open = r.scope === undefined && r.guard === undefined;
      if (open) expect(r.path === '/' || r.path.startsWith('/health/'), `${r.method} ${r.path} is open`).toBe(true);
    }
  });

  it('opens /metrics when AUTH_PROTECT_METRICS is off, and guards docs routes only with AUTH_PROTECT_DOCS', () => {
    expect(requirementOf(find('GET', '/metrics'), { ...on, authProtectMetrics: false })).toEqual({ kind: 'open' });
    expect(requirementOf({ guard: 'docs' }, on)).toEqual({ kind: 'open' });
    expect(requirementOf({ guard: 'docs' }, { ...on, authProtectDocs: true })).toEqual(ANY_TOKEN);
  });

  it('opens everything when auth is off', () => {
    const off = { ...on, authEnabled: false };
    for (const r of ROUTES) expect(requirementOf(r, off)).toEqual({ kind: 'open' });
  });
});

// ---------------------------------------------------------------- the pipeline

describe('the dispatcher with auth on', () => {
  function dispatcher(overrides: Partial<Config> = {}) {
    const namespace = uniqueNamespace('auth');
    const config = loadConfig({ env: {}, overrides: { namespace, authEnabled: true, jwtSecret: SECRET, ...overrides } });
    const deps: GatewayDeps = {
      bus: createMemoryBus(),
      subjects: createSubjects(namespace),
      config,
      kinds: TEST_KINDS,
      metrics: createMetrics({ defaultMetrics: false }),
      logger: silentLogger,
      cache: createMemoryCache(),
      clock: systemClock,
      startedAt: Date.now(),
      version: 'test',
    };
    return { d: createDispatcher(deps), deps };
  }

  const send = async (d: ReturnType<typeof createDispatcher>, method: string, url: string, headers: Record<string, string>, body?: string) => {
    const sent = body === undefined ? headers : { 'content-type': 'application/json', ...headers };
    const out = await d.begin({ method, url, query: '', headers: sent }).run(body === undefined ? null : Buffer.from(body));
    return { status: out.status, headers: out.headers, body: JSON.parse(out.body) as { detail?: string } };
  };

  it('answers 401 before looking at the body, and checks the body once the token passes', async () => {
    const { d, deps } = dispatcher();
    try {
      const anonymous = await send(d, 'POST', '/api/v1/tasks/execute', {}, '{"not json');
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers['www-authenticate']).toBe('Bearer realm="aurora"');
      expect(anonymous.body).toEqual({ detail: 'Missing bearer token' });

      const token = handSignHs256({ sub: 'bob', exp: Math.floor(Date.now() / 1000) + 60, scope: 'tasks:execute' }, SECRET);
      const authed = await send(d, 'POST', '/api/v1/tasks/execute', { authorization: `Bearer ${token}` }, '{"not json');
      expect(authed.status).toBe(400);
      expect(authed.body).toEqual({ detail: 'Invalid JSON body' });
    } finally {
      await deps.bus.drain();
    }
  });

  it('counts refused requests in the request metrics under their route', async () => {
    const { d, deps } = dispatcher();
    try {
      await send(d, 'GET', '/api/v1/agents/', {});
      const text = await deps.metrics.registry.metrics();
      expect(text).toMatch(/aurora_http_requests_total\{[^}]*route="\/api\/v1\/agents\/"[^}]*status="401"[^}]*\} 1/);
    } finally {
      await deps.bus.drain();
    }
  });
});

describe('extractToken', () => {
  it('finds no token where none was given', () => {
    expect(extractToken({ authorization: undefined })).toEqual({ kind: 'none' });
    expect(extractToken({ authorization: undefined, queryTokens: [] })).toEqual({ kind: 'none' });
  });
});

// ---------------------------------------------------------------- npm run token

describe('npm run token', () => {
  it('prints an HS256 token with the subject, scopes and lifetime asked for, which the gateway accepts', async () => {
    const result = await runTokenCommand(['--sub', 'alice', '--scope', 'tasks:execute agents:read', '--ttl', '120'], {
      env: { JWT_SECRET: SECRET },
      nowMs: nowMs(),
    });
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toBe('');
    const token = result.stdout.trim();
    expect(result.stdout).toBe(`${token}\n`);
    const [header, payload] = token.split('.').slice(0, 2).map((p) => JSON.parse(Buffer.from(p!, 'base64url').toString()));
    expect(header).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect(payload).toEqual({ sub: 'alice', scope: 'tasks:execute agents:read', iat: NOW_S, exp: NOW_S + 120 });
    expectPrincipal(await bearer(authFor(), token, needs('tasks:execute')), 'alice', ['agents:read', 'tasks:execute']);
  });

  it('carries JWT_ISSUER and JWT_AUDIENCE so a gateway that checks them accepts the token', async () => {
    const env = { JWT_SECRET: SECRET, JWT_ISSUER: 'aurora-local', JWT_AUDIENCE: 'aurora' };
    const result = await runTokenCommand(['--sub', 'ops', '--scope', 'admin'], { env, nowMs: nowMs() });
    expect(result.exitCode).toBe(0);
    const auth = authFor({ jwtIssuer: 'aurora-local', jwtAudience: 'aurora' });
    expect((await bearer(auth, result.stdout.trim(), needs('admin'))).ok).toBe(true);
  });

  it.each([
    ['without JWT_SECRET', ['--sub', 'a', '--scope', 'admin'], {}, 78, 'JWT_SECRET is not set'],
    ['with a short JWT_SECRET', ['--sub', 'a', '--scope', 'admin'], { JWT_SECRET: 'x' }, 78, 'JWT_SECRET must be at least 32 bytes'],
    ['without --sub', ['--scope', 'admin'], { JWT_SECRET: SECRET }, 64, '--sub is required'],
    ['without --scope', ['--sub', 'a'], { JWT_SECRET: SECRET }, 64, '--scope is required'],
    ['with an unknown scope', ['--sub', 'a', '--scope', 'agents:read root'], { JWT_SECRET: SECRET }, 64, 'unknown scope: root'],
    ['with a ttl of 0', ['--sub', 'a', '--scope', 'admin', '--ttl', '0'], { JWT_SECRET: SECRET }, 64, '--ttl must be an integer'],
    ['with a ttl that is no number', ['--sub', 'a', '--scope', 'admin', '--ttl', '1h'], { JWT_SECRET: SECRET }, 64, '--ttl must be an integer'],
    ['with an unknown option', ['--sub', 'a', '--scope', 'admin', '--forever'], { JWT_SECRET: SECRET }, 64, "Unknown option '--forever'"],
  ])('fails %s, printing no token', async (_name, argv, env, exitCode, message) => {
    const result = await runTokenCommand(argv, { env });
    expect(result.exitCode).toBe(exitCode);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(message);
  });
});
