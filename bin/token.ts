// Mints a bearer token for local use, signed HS256 with JWT_SECRET (and carrying JWT_ISSUER /
// JWT_AUDIENCE when those are set), so the gateway accepts it:
//   npm run --silent token -- --sub alice --scope "tasks:execute agents:read" [--ttl 3600]
// The token alone goes to stdout (capture it with $(...)); problems go to stderr.
import { parseArgs } from 'node:util';
import { MAX_MINTED_TTL_S, mintToken } from '../gateway/auth.js';
import { SCOPES, isScope, type Scope } from '../gateway/scopes.js';
import { ConfigError, loadConfig, type Env } from '../runtime/config.js';

export const DEFAULT_TTL_S = 3600;
/** sysexits.h: EX_USAGE and EX_CONFIG. */
const EXIT_USAGE = 64;
const EXIT_CONFIG = 78;

const USAGE = `usage: npm run --silent token -- --sub <subject> --scope "<scope> [<scope> ...]" [--ttl <seconds>]
  --sub    who the token speaks for (its sub claim)
  --scope  space-separated, may repeat; one of: ${SCOPES.join(', ')}
  --ttl    lifetime in seconds, 1-${MAX_MINTED_TTL_S} (default ${DEFAULT_TTL_S})
Signs with JWT_SECRET from the environment.`;

export interface TokenCommandResult {
  readonly exitCode: number;
  /** The token and a newline, on success. */
  readonly stdout: string;
  readonly stderr: string;
}

const fail = (exitCode: number, message: string): TokenCommandResult => ({ exitCode, stdout: '', stderr: `${message}\n` });

export interface TokenCommandOptions {
  /** Read instead of process.env (tests). */
  readonly env?: Env;
  readonly nowMs?: number;
}

export async function runTokenCommand(argv: readonly string[], options: TokenCommandOptions = {}): Promise<TokenCommandResult> {
  let values: { sub?: string; scope?: string[]; ttl?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        sub: { type: 'string' },
        scope: { type: 'string', multiple: true },
        ttl: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    return fail(EXIT_USAGE, `${(err as Error).message}\n${USAGE}`);
  }
  if (values.help === true) return { exitCode: 0, stdout: `${USAGE}\n`, stderr: '' };

  const sub = values.sub?.trim() ?? '';
  if (sub === '') return fail(EXIT_USAGE, `--sub is required\n${USAGE}`);
  const names = (values.scope ?? []).flatMap((s) => s.split(' ')).filter((s) => s !== '');
  const unknown = names.filter((s) => !isScope(s));
  if (unknown.length > 0) return fail(EXIT_USAGE, `unknown scope: ${unknown.join(', ')}; known: ${SCOPES.join(', ')}`);
  const scopes = [...new Set(names)] as Scope[];
  if (scopes.length === 0) return fail(EXIT_USAGE, `--scope is required\n${USAGE}`);
  const ttlRaw = values.ttl ?? String(DEFAULT_TTL_S);
  const ttlS = /^\d{1,10}$/.test(ttlRaw) ? Number(ttlRaw) : Number.NaN;
  if (!Number.isInteger(ttlS) || ttlS < 1 || ttlS > MAX_MINTED_TTL_S) {
    return fail(EXIT_USAGE, `--ttl must be an integer between 1 and ${MAX_MINTED_TTL_S}, got "${ttlRaw}"`);
  }

  let config;
  try {
    config = loadConfig(options.env === undefined ? {} : { env: options.env });
  } catch (err) {
    if (err instanceof ConfigError) return fail(EXIT_CONFIG, err.message);
    throw err;
  }
  if (config.jwtSecret === undefined) {
    return fail(EXIT_CONFIG, 'JWT_SECRET is not set: the token is signed with it (HS256), and the gateway must share it');
  }
  const token = await mintToken({
    secret: config.jwtSecret,
    sub,
    scopes,
    ttlS,
    issuer: config.jwtIssuer,
    audience: config.jwtAudience,
    nowMs: options.nowMs ?? Date.now(),
  });
  return { exitCode: 0, stdout: `${token}\n`, stderr: '' };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await runTokenCommand(process.argv.slice(2));
  process.stdout.write(result.stdout);
  process.stderr.write(result.stderr);
  process.exitCode = result.exitCode;
}
