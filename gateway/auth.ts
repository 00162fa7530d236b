// Bearer-token authentication (JWT, via jose: its one home) and the scope check. The gateway asks
// one question per request, `check(credentials, requirement)`, and gets back either the principal
// or the complete refusal (unauthorized, forbidden or unavailable, as the error table has them),
// WWW-Authenticate included (RFC 6750).
//
// Algorithms are pinned per key, never taken from the token: JWT_SECRET verifies HS256 only;
// JWT_PUBLIC_KEY verifies the one algorithm its key type implies; a JWKS verifies asymmetric
// algorithms only. So `alg: none`, and an HS256 token "signed" with the public key's PEM text,
// are refused before any key is touched.
import { createPublicKey, type KeyObject } from 'node:crypto';
import {
  SignJWT,
  createRemoteJWKSet,
  errors,
  jwtVerify,
  type CryptoKey,
  type FlattenedJWSInput,
  type JWTHeaderParameters,
  type JWTPayload,
  type JWTVerifyOptions,
} from 'jose';
import { systemClock } from '../runtime/clock.js';
import type { Config } from '../runtime/config.js';
import { ERROR_CODES } from '../runtime/errors.js';
import { silentLogger, type Logger } from '../runtime/logger.js';
import { grants, scopesFromClaims, type Requirement, type Scope } from './scopes.js';

export const AUTH_REALM = 'aurora';
/** Longer tokens are refused unread; uWS's header cap is lower still, this bounds the query form. */
export const MAX_TOKEN_LENGTH = 8192;
/** How long a fetched JWKS is trusted before it is fetched again, and how soon an unknown `kid` may refetch it. */
export const JWKS_CACHE_MAX_AGE_MS = 600_000;
export const JWKS_COOLDOWN_MS = 30_000;
/** While the JWKS endpoint fails, one warning per interval (with a count), so an outage under load cannot flood the logs. */
export const JWKS_WARN_INTERVAL_MS = 10_000;
/** Retry-After on the `unavailable` answered while the JWKS cannot be read. */
const KEYS_RETRY_AFTER_S = 5;
/** Tokens minted by `npm run token` live at most this long. */
export const MAX_MINTED_TTL_S = 30 * 24 * 3600;

const HMAC_ALGORITHMS = ['HS256'] as const;
/** Asymmetric algorithms a JWKS may use; each JWK must still match the token's alg and kid. */
const JWKS_ALGORITHMS = ['RS256', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;
const EC_CURVE_ALGORITHM: Readonly<Record<string, string>> = { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' };

/** Who made a request, once their token checked out. */
export interface Principal {
  /** The `sub` claim: every accepted token names its subject (rate limits and logs key on it). */
  readonly sub: string;
  readonly scopes: readonly Scope[];
  /** When the token stops being accepted (exp plus the clock-skew allowance), ms since the epoch. */
  readonly expiresAtMs: number;
}

/** Where a request carries its token. */
export interface Credentials {
  /** The Authorization header, if any. */
  readonly authorization: string | undefined;
  /** `access_token` query values (WebSocket upgrades only: browsers cannot set headers there). */
  readonly queryTokens?: readonly string[];
}

/** The error codes a token check can refuse with. */
type DenialCode = 'unauthorized' | 'forbidden' | 'unavailable';

export interface Denial {
  /** The status of the refusal's error code (runtime/errors.ts). */
  readonly status: (typeof ERROR_CODES)[DenialCode]['status'];
  readonly detail: string;
  readonly headers: Readonly<Record<string, string>>;
}

export type AuthOutcome = { readonly ok: true; readonly principal: Principal | null } | ({ readonly ok: false } & Denial);

export interface Authenticator {
  readonly enabled: boolean;
  /** Never rejects. With auth off, or for an open requirement, the principal is null. */
  check(credentials: Credentials, requirement: Requirement): Promise<AuthOutcome>;
}

export type AuthSettings = Pick<
  Config,
  | 'authEnabled'
  | 'jwtSecret'
  | 'jwtPublicKey'
  | 'jwtJwksUrl'
  | 'jwtJwksTimeoutMs'
  | 'jwtIssuer'
  | 'jwtAudience'
  | 'jwtClockSkewS'
>;

export interface AuthenticatorOptions {
  readonly logger?: Logger;
  /** Milliseconds since the epoch (the gateway's clock; tests move time with it). Default: the system clock. */
  readonly now?: () => number;
}

// ---------------------------------------------------------------- answers

/** The text of an error_description: a fixed phrase, safe inside a quoted-string. */
const INVALID = {
  header: 'Authorization header must be "Bearer <token>"',
  twice: 'token given more than once',
  tooLong: 'token too long',
  malformed: 'malformed token',
  algorithm: 'algorithm not allowed',
  signature: 'signature verification failed',
  noKey: 'no key matches the token',
  expired: 'token expired',
  notYetValid: 'token not yet valid',
  issuer: 'unexpected issuer',
  audience: 'unexpected audience',
  noExp: 'token has no exp claim',
  noSub: 'token has no sub claim',
  claims: 'invalid claims',
} as const;
type InvalidReason = (typeof INVALID)[keyof typeof INVALID];

/** Each refusal is a row of the error table: its status is looked up from its code, never written here. */
const denial = (code: DenialCode, detail: string, headers: Readonly<Record<string, string>>): Denial => ({
  status: ERROR_CODES[code].status,
  detail,
  headers,
});

const missingToken = (): Denial =>
  denial('unauthorized', 'Missing bearer token', { 'www-authenticate': `Bearer realm="${AUTH_REALM}"` });

const invalidToken = (reason: InvalidReason): Denial =>
  denial('unauthorized', `Invalid token: ${reason}`, {
    'www-authenticate': `Bearer realm="${AUTH_REALM}", error="invalid_token", error_description="${reason}"`,
  });

const insufficientScope = (anyOf: readonly Scope[]): Denial =>
  denial('forbidden', `Missing scope: ${anyOf.join(' or ')}`, {
    'www-authenticate': `Bearer error="insufficient_scope", scope="${anyOf.join(' ')}"`,
  });

const keysUnavailable = (): Denial =>
  denial('unavailable', 'Token keys are unavailable: the JWKS endpoint could not be read', {
    'retry-after': String(KEYS_RETRY_AFTER_S),
  });

const deny = (d: Denial): AuthOutcome => ({ ok: false, ...d });

// ---------------------------------------------------------------- credentials

type Extracted = { kind: 'none' } | { kind: 'token'; token: string } | { kind: 'invalid'; reason: InvalidReason };

const BEARER = /^Bearer +([^ ]+) *$/i;

export function extractToken(credentials: Credentials): Extracted {
  const header = credentials.authorization;
  const query = credentials.queryTokens ?? [];
  const given = (header !== undefined ? 1 : 0) + query.length;
  if (given === 0) return { kind: 'none' };
  if (given > 1) return { kind: 'invalid', reason: INVALID.twice };
  let token: string;
  if (header !== undefined) {
    const m = BEARER.exec(header);
    if (!m) return { kind: 'invalid', reason: INVALID.header };
    token = m[1]!;
  } else {
    token = query[0]!;
  }
  if (token.length > MAX_TOKEN_LENGTH) return { kind: 'invalid', reason: INVALID.tooLong };
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/.test(token)) return { kind: 'invalid', reason: INVALID.malformed };
  return { kind: 'token', token };
}

/** `access_token` values of a raw query string. */
export function queryTokens(rawQuery: string): string[] {
  return rawQuery === '' ? [] : new URLSearchParams(rawQuery).getAll('access_token');
}

// ---------------------------------------------------------------- keys

type VerifyKey = CryptoKey | KeyObject | Uint8Array;
type KeyResolver = (header: JWTHeaderParameters, token: FlattenedJWSInput) => Promise<VerifyKey>;

/** The JWKS endpoint failed (down, slow, not a key set): the server's fault, not the token's. */
class KeysUnavailableError extends Error {}

/** The one algorithm a PEM public key may verify, by its type. */
export function algorithmForPublicKey(key: KeyObject): string {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) throw new Error('JWT_PUBLIC_KEY: RSA keys need at least 2048 bits');
      return 'RS256';
    case 'ec': {
      const alg = EC_CURVE_ALGORITHM[key.asymmetricKeyDetails?.namedCurve ?? ''];
      if (alg === undefined) throw new Error('JWT_PUBLIC_KEY: EC keys must use P-256, P-384 or P-521');
      return alg;
    }
    case 'ed25519':
      return 'EdDSA';
    default:
      throw new Error(`JWT_PUBLIC_KEY: unsupported key type ${key.asymmetricKeyType ?? 'unknown'}`);
  }
}

interface KeyRing {
  readonly algorithms: readonly string[];
  readonly resolve: KeyResolver;
}

function buildKeyRing(settings: AuthSettings): KeyRing {
  const { jwtSecret, jwtPublicKey, jwtJwksUrl } = settings;
  if (jwtPublicKey !== undefined && jwtJwksUrl !== undefined) {
    throw new Error('JWT_PUBLIC_KEY and JWT_JWKS_URL are exclusive: set one of them');
  }
  const secret = jwtSecret === undefined ? undefined : new TextEncoder().encode(jwtSecret);
  const algorithms: string[] = secret === undefined ? [] : [...HMAC_ALGORITHMS];
  let asymmetric: KeyResolver | undefined;
  if (jwtPublicKey !== undefined) {
    if (/PRIVATE KEY/.test(jwtPublicKey)) throw new Error('JWT_PUBLIC_KEY holds a private key; give the public key only');
    const key = createPublicKey(jwtPublicKey.replace(/\\n/g, '\n'));
    algorithms.push(algorithmForPublicKey(key));
    asymmetric = async () => key;
  } else if (jwtJwksUrl !== undefined) {
    const jwks = createRemoteJWKSet(new URL(jwtJwksUrl), {
      timeoutDuration: settings.jwtJwksTimeoutMs,
      cacheMaxAge: JWKS_CACHE_MAX_AGE_MS,
      cooldownDuration: JWKS_COOLDOWN_MS,
    });
    algorithms.push(...JWKS_ALGORITHMS);
    asymmetric = async (header, token) => {
      try {
        return await jwks(header, token);
      } catch (err) {
        // Answers about the token itself pass through; anything else means the keys could not be had.
        if (
          err instanceof errors.JWKSNoMatchingKey ||
          err instanceof errors.JWKSMultipleMatchingKeys ||
          err instanceof errors.JOSENotSupported
        ) {
          throw err;
        }
        throw new KeysUnavailableError('JWKS unavailable', { cause: err });
      }
    };
  }
  return {
    algorithms,
    // jose has already refused any alg outside `algorithms`, so HS256 here means a secret is set.
    resolve: async (header, token) => {
      if (header.alg === 'HS256' && secret !== undefined) return secret;
      if (header.alg !== 'HS256' && asymmetric !== undefined) return asymmetric(header, token);
      throw new errors.JOSEAlgNotAllowed('"alg" (Algorithm) Header Parameter value not allowed');
    },
  };
}

// ---------------------------------------------------------------- verification

type Verified = { ok: true; principal: Principal } | { ok: false; denial: Denial };

function reasonFor(err: unknown): InvalidReason | undefined {
  if (err instanceof errors.JWTExpired) return INVALID.expired;
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf') return INVALID.notYetValid;
    if (err.claim === 'iss') return INVALID.issuer;
    if (err.claim === 'aud') return INVALID.audience;
    if (err.claim === 'exp' && err.reason === 'missing') return INVALID.noExp;
    if (err.claim === 'sub' && err.reason === 'missing') return INVALID.noSub;
    return INVALID.claims;
  }
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) return INVALID.algorithm;
  if (err instanceof errors.JWSSignatureVerificationFailed) return INVALID.signature;
  if (err instanceof errors.JWKSNoMatchingKey) return INVALID.noKey;
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return INVALID.malformed;
  return undefined;
}

export function createAuthenticator(settings: AuthSettings, options: AuthenticatorOptions = {}): Authenticator {
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? systemClock.now;
  if (!settings.authEnabled) {
    return { enabled: false, check: async () => ({ ok: true, principal: null }) };
  }
  const ring = buildKeyRing(settings);
  if (ring.algorithms.length === 0) {
    throw new Error('AUTH_ENABLED is true but no key is set: set JWT_SECRET (HS256), JWT_PUBLIC_KEY (PEM) or JWT_JWKS_URL');
  }
  const skewS = settings.jwtClockSkewS;
  let lastJwksWarnAtMs = Number.NEGATIVE_INFINITY;
  let unwarnedJwksFailures = 0;
  const warnJwksDown = (cause: unknown): void => {
    const at = now();
    if (at - lastJwksWarnAtMs < JWKS_WARN_INTERVAL_MS) {
      unwarnedJwksFailures++;
      return;
    }
    logger.warn('cannot verify tokens: the JWKS endpoint could not be read; answering 503', {
      url: settings.jwtJwksUrl,
      failures_since_last_warning: unwarnedJwksFailures,
      err: cause,
    });
    lastJwksWarnAtMs = at;
    unwarnedJwksFailures = 0;
  };

  const verifyOptions = (): JWTVerifyOptions => {
    const o: JWTVerifyOptions = {
      algorithms: [...ring.algorithms],
      clockTolerance: skewS,
      // A token without exp would be a credential forever; without sub, nobody in particular.
      requiredClaims: ['exp', 'sub'],
      currentDate: new Date(now()),
    };
    if (settings.jwtIssuer !== undefined) o.issuer = settings.jwtIssuer;
    if (settings.jwtAudience !== undefined) o.audience = settings.jwtAudience;
    return o;
  };

  /** A JWKS without `kid`s may offer several keys for one alg: each is tried, first success wins. */
  const verifyWithEach = async (token: string, err: errors.JWKSMultipleMatchingKeys, opts: JWTVerifyOptions) => {
    let last: unknown = err;
    for await (const key of err as unknown as AsyncIterable<CryptoKey>) {
      try {
        return await jwtVerify(token, key, opts);
      } catch (e) {
        if (!(e instanceof errors.JWSSignatureVerificationFailed)) throw e;
        last = e;
      }
    }
    throw last instanceof errors.JWKSMultipleMatchingKeys ? new errors.JWKSNoMatchingKey() : last;
  };

  const verify = async (token: string): Promise<Verified> => {
    const opts = verifyOptions();
    let payload: JWTPayload;
    try {
      try {
        ({ payload } = await jwtVerify(token, ring.resolve, opts));
      } catch (err) {
        if (!(err instanceof errors.JWKSMultipleMatchingKeys)) throw err;
        ({ payload } = await verifyWithEach(token, err, opts));
      }
    } catch (err) {
      if (err instanceof KeysUnavailableError) {
        warnJwksDown(err.cause);
        return { ok: false, denial: keysUnavailable() };
      }
      const reason = reasonFor(err);
      if (reason === undefined) {
        // jose reports some bad claim shapes as TypeError; they are the token's fault, not ours.
        logger.debug('token refused for an unclassified reason', { err });
        return { ok: false, denial: invalidToken(INVALID.claims) };
      }
      logger.debug('token refused', { reason });
      return { ok: false, denial: invalidToken(reason) };
    }
    if (typeof payload.sub !== 'string' || payload.sub === '') return { ok: false, denial: invalidToken(INVALID.noSub) };
    return {
      ok: true,
      principal: {
        sub: payload.sub,
        scopes: scopesFromClaims(payload),
        expiresAtMs: (payload.exp! + skewS) * 1000,
      },
    };
  };

  return {
    enabled: true,
    async check(credentials, requirement) {
      if (requirement.kind === 'open') return { ok: true, principal: null };
      const extracted = extractToken(credentials);
      if (extracted.kind === 'none') return deny(missingToken());
      if (extracted.kind === 'invalid') return deny(invalidToken(extracted.reason));
      const verified = await verify(extracted.token);
      if (!verified.ok) return deny(verified.denial);
      const { principal } = verified;
      if (requirement.anyOf.length > 0 && !requirement.anyOf.some((s) => grants(principal.scopes, s))) {
        return deny(insufficientScope(requirement.anyOf));
      }
      return { ok: true, principal };
    },
  };
}

// ---------------------------------------------------------------- minting

export interface MintOptions {
  readonly secret: string;
  readonly sub: string;
  readonly scopes: readonly Scope[];
  readonly ttlS: number;
  readonly issuer?: string | undefined;
  readonly audience?: string | undefined;
  /** Milliseconds since the epoch. */
  readonly nowMs?: number;
}

/** An HS256 token carrying OAuth's space-separated `scope` claim, as `npm run token` prints it. */
export async function mintToken(o: MintOptions): Promise<string> {
  if (!Number.isInteger(o.ttlS) || o.ttlS < 1 || o.ttlS > MAX_MINTED_TTL_S) {
    throw new RangeError(`ttl must be an integer between 1 and ${MAX_MINTED_TTL_S} seconds`);
  }
  const iat = Math.floor((o.nowMs ?? systemClock.now()) / 1000);
  const jwt = new SignJWT({ scope: o.scopes.join(' ') })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(o.sub)
    .setIssuedAt(iat)
    .setExpirationTime(iat + o.ttlS);
  if (o.issuer !== undefined) jwt.setIssuer(o.issuer);
  if (o.audience !== undefined) jwt.setAudience(o.audience);
  return jwt.sign(new TextEncoder().encode(o.secret));
}
