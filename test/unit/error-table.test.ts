// Every error answer of the gateway takes its status from the one error table (runtime/errors.ts),
// which the OpenAPI document reads too: so the documentation and the wire cannot drift apart.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import type { GatewayDeps } from '../../gateway/deps.js';
import { createDispatcher } from '../../gateway/dispatch.js';
import { route } from '../../gateway/router.js';
import { docsRoutes } from '../../gateway/routes/docs.js';
import { OPS_ROUTES, servedRoutes } from '../../gateway/routes/index.js';
import { createMemoryBus } from '../../runtime/bus/memory.js';
import { createMemoryCache } from '../../runtime/cache/memory.js';
import { systemClock } from '../../runtime/clock.js';
import { loadConfig } from '../../runtime/config.js';
import { AuroraError, ERROR_CODES, type ErrorCode } from '../../runtime/errors.js';
import { silentLogger } from '../../runtime/logger.js';
import { createMetrics } from '../../runtime/metrics.js';
import { createSubjects } from '../../runtime/subjects.js';
import { uniqueNamespace } from '../helpers/services.js';
import { TEST_KINDS } from '../helpers/kinds.js';

const GATEWAY = fileURLToPath(new URL('../../gateway/', import.meta.url));
const TABLE_STATUSES = new Set<number>(Object.values(ERROR_CODES).map((row) => row.status));

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return tsFiles(full);
    return name.endsWith('.ts') ? [full] : [];
  });
}

/** Numeric literals from 400 to 599 in code (comments and strings are not code), as file:line. */
function errorStatusLiterals(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isNumericLiteral(node)) {
      const value = Number(node.text);
      if (value >= 400 && value <= 599) {
        const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
        found.push(`${path.relative(GATEWAY, file)}:${line + 1}: ${node.text}`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe('the error table', () => {
  it('is the only place gateway/ gets an error status from: no 4xx or 5xx number is written there', () => {
    const files = tsFiles(GATEWAY);
    expect(files.length).toBeGreaterThan(20);
    expect(files.flatMap(errorStatusLiterals)).toEqual([]);
  });

  it('has a row for every error status a route declares a body for (readiness: unavailable)', () => {
    for (const r of [...servedRoutes(docsRoutes(undefined)), ...OPS_ROUTES]) {
      for (const status of Object.keys(r.responses).map(Number)) {
        if (status >= ERROR_CODES.invalid_request.status) expect(TABLE_STATUSES.has(status), `${r.method} ${r.path} ${status}`).toBe(true);
      }
    }
  });
});

describe('AuroraError headers', () => {
  it('are empty unless given, and the constructor still takes a cause alone', () => {
    const cause = new Error('underneath');
    const plain = new AuroraError('not_found', 'nothing');
    const caused = new AuroraError('unavailable', 'down', { cause });
    expect(plain.headers).toEqual({});
    expect(caused.cause).toBe(cause);
    expect(caused.headers).toEqual({});
    expect(caused.status).toBe(ERROR_CODES.unavailable.status);
  });

  it('stay in the process: the payload sent over the bus leaves them out', () => {
    const err = new AuroraError('rate_limited', 'slow down', { headers: { 'retry-after': '9' } });
    expect(err.headers).toEqual({ 'retry-after': '9' });
    expect(err.toPayload()).toEqual({ code: 'rate_limited', message: 'slow down' });
    expect(AuroraError.fromPayload(err.toPayload()).headers).toEqual({});
  });
});

describe('an AuroraError thrown by a handler', () => {
  const namespace = uniqueNamespace('errors');
  const deps: GatewayDeps = {
    bus: createMemoryBus(),
    subjects: createSubjects(namespace),
    config: loadConfig({ env: {}, overrides: { namespace } }),
    kinds: TEST_KINDS,
    metrics: createMetrics({ defaultMetrics: false }),
    logger: silentLogger,
    cache: createMemoryCache(),
    clock: systemClock,
    startedAt: 0,
    version: 'test',
  };
  const throwing = (code: ErrorCode, headers?: Record<string, string>) =>
    route({
      method: 'GET',
      path: `/${code}`,
      handler: async () => {
        throw new AuroraError(code, `${code} happened`, headers === undefined ? undefined : { headers });
      },
      responses: { 200: 'Alive' },
    });
  const dispatcher = createDispatcher(deps, {
    routes: [throwing('queue_full', { 'retry-after': '7', 'x-queue-depth': '12' }), throwing('queue_full'), throwing('agent_not_found')].map(
      (r, i) => ({ ...r, path: `${r.path}/${i}` }),
    ),
  });
  const get = (url: string) => dispatcher.begin({ method: 'GET', url, query: '', headers: {} }).run(null);

  it('is answered with its code\'s status and the headers it carries, which win over the defaults', async () => {
    const out = await get('/queue_full/0');
    expect(out.status).toBe(ERROR_CODES.queue_full.status);
    expect(JSON.parse(out.body)).toEqual({ detail: 'queue_full happened' });
    expect(out.headers['retry-after']).toBe('7');
    expect(out.headers['x-queue-depth']).toBe('12');
  });

  it('without headers gets exactly the defaults of its status', async () => {
    const full = await get('/queue_full/1');
    expect(full.status).toBe(ERROR_CODES.queue_full.status);
    expect(full.headers['retry-after']).toBe('1');
    const missing = await get('/agent_not_found/2');
    expect(missing.status).toBe(ERROR_CODES.agent_not_found.status);
    expect(missing.headers['retry-after']).toBeUndefined();
  });
});
