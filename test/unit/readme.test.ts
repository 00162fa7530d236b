// The README's tables are documentation that must not drift from the code they describe.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_FIELDS } from '../../runtime/config.js';
import { ERROR_CODES } from '../../runtime/errors.js';
import { METRIC_NAMES } from '../../runtime/metrics.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const apiPage = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8');

/** `/api/v1/tasks/?agent=` → `/api/v1/tasks`: the router answers a path with or without its last slash. */
const bare = (path: string) => path.replace(/\?.*$/, '').replace(/(.)\/$/, '$1');

/** First-column code spans of the table that follows `heading`. */
function tableRows(heading: string): string[][] {
  const start = readme.indexOf(heading);
  expect(start, `README has a "${heading}" section`).toBeGreaterThanOrEqual(0);
  const lines = readme.slice(start).split('\n');
  const first = lines.findIndex((l) => l.startsWith('|'));
  const rows: string[][] = [];
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(line.split('|').slice(1, -1).map((c) => c.trim()));
  }
  return rows;
}

const code = (cell: string) => cell.replace(/^`|`$/g, '');

describe('README', () => {
  it('lists exactly the configuration variables the code reads, with their defaults', () => {
    const rows = tableRows('## Configuration');
    const fields = Object.values(CONFIG_FIELDS);
    expect(rows.map((r) => code(r[0]!)).sort()).toEqual(fields.map((f) => f.env).sort());
    for (const f of fields) {
      const row = rows.find((r) => code(r[0]!) === f.env)!;
      const fallback = f.fallback === undefined ? 'unset' : `\`${String(f.fallback)}\``;
      expect(row[1], f.env).toBe(fallback);
    }
  });

  it('lists exactly the error codes with their HTTP status', () => {
    const rows = tableRows('### Errors');
    expect(rows.map((r) => code(r[0]!)).sort()).toEqual(Object.keys(ERROR_CODES).sort());
    for (const r of rows) expect(Number(r[1]), r[0]).toBe(ERROR_CODES[code(r[0]!) as keyof typeof ERROR_CODES].status);
  });

  it('lists exactly the metrics Aurora defines', () => {
    const rows = tableRows('### Metrics');
    expect(rows.map((r) => code(r[0]!)).sort()).toEqual(Object.values(METRIC_NAMES).sort());
  });

  it('points to an API reference inside the repository, not to one a user of it does not have', () => {
    expect(readme).toContain('[`docs/api.md`](docs/api.md)');
    expect(readme).not.toMatch(/aurora-api\.md|shared reference/);
    for (const [, target] of readme.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
      if (/^[a-z]+:/.test(target!)) continue;
      expect(existsSync(new URL(`../../${target}`, import.meta.url)), `README links ${target}`).toBe(true);
    }
  });

  it('overviews exactly the operations docs/api.md documents', () => {
    const rows = tableRows('## API overview');
    const overview = new Set(
      rows.flatMap(([method, paths]) =>
        [...paths!.matchAll(/`([^`]+)`/g)].map((m) => `${method === 'WS' ? 'GET' : method} ${bare(m[1]!)}`),
      ),
    );
    const documented = new Set([...apiPage.matchAll(/^### ([A-Z]+) (\/\S*)/gm)].map((m) => `${m[1]} ${bare(m[2]!)}`));
    expect([...overview].filter((op) => !documented.has(op)), 'in the README overview, not in docs/api.md').toEqual([]);
    expect([...documented].filter((op) => !overview.has(op)), 'in docs/api.md, not in the README overview').toEqual([]);
  });

  it('gives the two commands a newcomer needs', () => {
    expect(readme).toContain('npm install && npm start');
    expect(readme).toContain('npm test');
  });
});
