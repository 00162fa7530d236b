// docs/api.md, the repository's own API reference, against what Aurora serves: the operations of
// /openapi.json one for one, request fields as the schemas declare them, success statuses, scopes,
// JSON examples valid against their schemas, error codes with their table status, and every quoted
// {"detail"} a message the code really builds. Each check reads the page as a reader would: by its
// `### METHOD /path` headings and the lines under them.
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { buildOpenApiDocument, openApiPath, type OpenApiDocument, type OpenApiOptions } from '../../gateway/openapi.js';
import { docsRoutes } from '../../gateway/routes/docs.js';
import { uiRoutes } from '../../gateway/routes/ui.js';
import { API_ROUTES, servedRoutes } from '../../gateway/routes/index.js';
import { REQUEST_SCHEMAS, type RequestSchemaName } from '../../gateway/schemas.js';
import type { AccessSettings } from '../../gateway/scopes.js';
import { ERROR_CODES, isErrorCode } from '../../runtime/errors.js';
import { messageFor } from '../helpers/code-messages.js';
import { TEST_KINDS } from '../helpers/kinds.js';

const PAGE = 'docs/api.md';
const page = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8');

const AUTH_ON: AccessSettings = { authEnabled: true, authProtectMetrics: true, authProtectDocs: false };
const AUTH_OFF: AccessSettings = { ...AUTH_ON, authEnabled: false };
const options = (access: AccessSettings, limited: boolean): OpenApiOptions => ({
  version: '0.0.0',
  routes: API_ROUTES,
  access,
  rateLimited: () => limited,
  kinds: TEST_KINDS,
});
const served = (o: OpenApiOptions) => JSON.parse(JSON.stringify(buildOpenApiDocument(o))) as OpenApiDocument;
// Scopes are documented as they are with auth on; the error codes an operation can answer are
// those of any configuration.
const withAuth = served(options(AUTH_ON, true));
const VARIANTS = [withAuth, served(options(AUTH_OFF, false))];

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
const HEADING = /^### (GET|POST|PUT|PATCH|DELETE) (\/\S*)/;

interface Section {
  /** `POST /api/v1/agents/` */
  readonly key: string;
  readonly line: number;
  readonly lines: readonly string[];
}

/** The `### METHOD /path` sections of the page, each up to the next heading. */
function sections(text: string): Section[] {
  const lines = text.split('\n');
  const out: Section[] = [];
  lines.forEach((line, i) => {
    const m = HEADING.exec(line);
    if (!m) return;
    const end = lines.findIndex((l, j) => j > i && /^#{1,3} /.test(l));
    out.push({ key: `${m[1]} ${m[2]}`, line: i + 1, lines: lines.slice(i + 1, end === -1 ? undefined : end) });
  });
  return out;
}

type Op = NonNullable<OpenApiDocument['paths'][string]['get']>;
function operation(doc: OpenApiDocument, key: string): Op | undefined {
  const [method, path] = key.split(' ') as [string, string];
  return doc.paths[path]?.[method.toLowerCase() as 'get'];
}

function operationKeys(doc: OpenApiDocument): string[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m.toLowerCase() as 'get'] !== undefined).map((m) => `${m} ${path}`),
  );
}

/** Error codes an operation lists under any of its error statuses (one named example each). */
function errorCodes(key: string): Set<string> {
  const codes = new Set<string>();
  for (const doc of VARIANTS) {
    for (const response of Object.values(operation(doc, key)?.responses ?? {})) {
      for (const code of Object.keys(response.content?.['application/json']?.examples ?? {})) codes.add(code);
    }
  }
  return codes;
}

/** `Request body (`Name`):` and the first column of the table under it. */
function requestTable(section: Section): { schema: string; fields: string[] } | undefined {
  const start = section.lines.findIndex((l) => l.startsWith('Request body (`'));
  if (start === -1) return undefined;
  const schema = /^Request body \(`(\w+)`\)/.exec(section.lines[start]!)![1]!;
  const table = section.lines.slice(start + 1).filter((l, i, all) => l.startsWith('|') && all.slice(0, i).every((p) => p.startsWith('|') || p === ''));
  const fields = table.slice(2).map((row) => row.split('|')[1]!.trim().replace(/^`|`$/g, ''));
  return { schema, fields };
}

const ajv = new Ajv2020({ strict: false, allErrors: true, discriminator: true });
const DOC_ID = 'https://aurora.invalid/openapi.json';
ajv.addSchema(withAuth as unknown as Record<string, unknown>, DOC_ID);
const validatorFor = (ref: string) => ajv.getSchema(`${DOC_ID}${ref}`) ?? ajv.compile({ $ref: `${DOC_ID}${ref}` });

describe(PAGE, () => {
  const documented = sections(page);

  it('has a heading for every operation of /openapi.json, and none that it does not serve', () => {
    const keys = documented.map((s) => s.key);
    expect(keys.length, 'each operation once').toBe(new Set(keys).size);
    const operations = operationKeys(withAuth);
    expect(operations.length).toBeGreaterThan(40);
    for (const op of operations) expect(keys, `${PAGE} documents ${op}`).toContain(op);
    // The docs pages, the dashboard and the stream are served by the router without being operations of the document.
    const servedKeys = new Set(servedRoutes(docsRoutes(undefined), uiRoutes(undefined)).map((r) => `${r.method} ${openApiPath(r.path)}`));
    for (const key of keys) {
      expect(operations.includes(key) || servedKeys.has(key), `${key} (${PAGE}) is served by Aurora`).toBe(true);
    }
  });

  it('lists exactly the request fields of each body schema, and a body only where the operation takes one', () => {
    for (const section of documented) {
      const op = operation(withAuth, section.key);
      if (op === undefined) continue;
      const table = requestTable(section);
      const ref = op.requestBody?.content['application/json']?.schema.$ref as string | undefined;
      if (ref === undefined) {
        expect(table, `${section.key} takes no body`).toBeUndefined();
        continue;
      }
      expect(table, `${section.key} documents its body`).toBeDefined();
      expect(`#/components/schemas/${table!.schema}`, section.key).toBe(ref);
      const schema = REQUEST_SCHEMAS[table!.schema as RequestSchemaName] as { properties: Record<string, unknown> };
      expect(table!.fields, `${section.key} request fields`).toEqual(Object.keys(schema.properties));
    }
  });

  it('names the success statuses and the scope each operation has', () => {
    for (const section of documented) {
      const op = operation(withAuth, section.key);
      if (op === undefined) continue;
      const said = section.lines.flatMap((l) => /^Response: `(\d{3}) /.exec(l)?.[1] ?? []);
      const success = Object.keys(op.responses).filter((s) => Number(s) < 300);
      expect(said.sort(), `${section.key} success statuses`).toEqual(success.sort());
      const scopeLine = section.lines.find((l) => l.startsWith('Scope: '));
      expect(scopeLine, `${section.key} names its scope`).toBeDefined();
      const needs = (op.security ?? [])[0]?.bearerAuth;
      if (needs === undefined) expect(scopeLine, section.key).toContain('none (always open)');
      else expect([...scopeLine!.matchAll(/`([a-z]+(?::[a-z]+)?)`/g)].map((m) => m[1]).sort(), section.key).toEqual([...needs].sort());
    }
  });

  it("shows JSON examples that the schema of their request or answer accepts, and that are the document's own", () => {
    let checked = 0;
    for (const section of documented) {
      const op = operation(withAuth, section.key);
      if (op === undefined) continue;
      let ref: string | undefined;
      let example: unknown;
      section.lines.forEach((line, i) => {
        if (line.startsWith('Request body (`')) {
          const media = op.requestBody?.content['application/json'];
          [ref, example] = [media?.schema.$ref as string, media?.example];
        }
        const status = /^Response: `(\d{3}) /.exec(line)?.[1];
        if (status !== undefined) {
          const media = op.responses[status]?.content?.['application/json'];
          [ref, example] = [media?.schema.$ref as string | undefined, media?.example];
        }
        if (line !== '```json') return;
        const end = section.lines.indexOf('```', i + 1);
        const where = `${PAGE}:${section.line + i + 1} (${section.key})`;
        expect(ref, `${where}: a JSON block under a request or a JSON answer`).toBeDefined();
        const validate = validatorFor(ref!);
        const value: unknown = JSON.parse(section.lines.slice(i + 1, end).join('\n'));
        expect(validate(value), `${where}: ${JSON.stringify(validate.errors)}`).toBe(true);
        // What Swagger UI shows for the same operation: the page cannot drift from the schemas' examples.
        expect(value, `${where}: the example of /openapi.json`).toEqual(example);
        checked++;
      });
    }
    expect(checked).toBeGreaterThan(30);
  });

  it('gives each error code its status in the error table, and under an operation only codes it can answer', () => {
    let seen = 0;
    const check = (text: string, where: string, allowed?: Set<string>) => {
      for (const [, status, code] of text.matchAll(/`(\d{3}) ([a-z_]+)`/g)) {
        expect(isErrorCode(code), `${where}: ${code} is an error code`).toBe(true);
        expect(ERROR_CODES[code as keyof typeof ERROR_CODES].status, `${where}: ${code}`).toBe(Number(status));
        if (allowed) expect([...allowed], `${where}: ${code} is one the operation can answer`).toContain(code);
        seen++;
      }
    };
    check(page.slice(0, page.indexOf('\n## ', page.indexOf('## Conventions') + 1)), `${PAGE} conventions`);
    for (const section of documented) {
      const op = operation(withAuth, section.key);
      check(section.lines.join('\n'), section.key, op === undefined ? undefined : errorCodes(section.key));
    }
    expect(seen).toBeGreaterThan(60);
  });

  it('quotes only {"detail"} messages that the code builds', () => {
    const quotes = [...page.matchAll(/\{"detail":"(?:[^"\\]|\\.)*"\}/g)].map((m) => (JSON.parse(m[0]) as { detail: string }).detail);
    expect(quotes.length).toBeGreaterThan(50);
    for (const detail of quotes) expect(messageFor(detail), `${PAGE} quotes "${detail}", which no message in the code matches`).toBeDefined();
  });
});

describe(`${PAGE} checks`, () => {
  it('notice a quote the code does not build, and a page that lacks an operation', () => {
    expect(messageFor('Agent writer not found')).toBeDefined();
    expect(messageFor('Agent writer does not exist')).toBeUndefined();
    expect(messageFor('No agent called writer')).toBeUndefined();
    // The examples of the OpenAPI document are not evidence: the code's own messages are.
    expect(messageFor('Agent writer has failed; restart it to run tasks')?.where).toMatch(/^supervisors\//);
    const keys = sections(page.replace('### GET /api/v1/agents/{name}\n', '')).map((s) => s.key);
    expect(keys).not.toContain('GET /api/v1/agents/{name}');
  });
});
