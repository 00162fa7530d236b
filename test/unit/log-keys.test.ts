// One key style in every log line: snake_case field names (pino's time, level and msg aside).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { scanLogCalls } from '../helpers/log-call-keys.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SOURCE_DIRS = ['bin', 'cli', 'client', 'runtime', 'actors', 'supervisors', 'gateway', 'bench'];
const SNAKE = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;

function tsFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => join(ROOT, dir, f));
}

function compilerOptions(): ts.CompilerOptions {
  const configPath = join(ROOT, 'tsconfig.json');
  const parsed = ts.parseJsonConfigFileContent(ts.readConfigFile(configPath, (p) => ts.sys.readFile(p)).config, ts.sys, ROOT);
  return { ...parsed.options, noEmit: true };
}

describe('log field names', () => {
  it('are snake_case at every logger call in the sources', () => {
    const scan = scanLogCalls(SOURCE_DIRS.flatMap(tsFiles), compilerOptions());
    // A scan that recognised no logger would pass vacuously.
    expect(scan.calls).toBeGreaterThan(50);
    const bad = scan.keys.filter((k) => !SNAKE.test(k.key)).map((k) => `${k.file.slice(ROOT.length)}:${k.line} ${k.key}`);
    expect(bad).toEqual([]);
  }, 60_000);

  it('are caught when camelCase, passed directly, nested, spread or given to a child logger', () => {
    const scan = scanLogCalls([join(ROOT, 'test/fixtures/log-keys/camel-case.ts')], compilerOptions());
    const bad = [...new Set(scan.keys.filter((k) => !SNAKE.test(k.key)).map((k) => k.key))].sort();
    expect(bad).toEqual(['agentName', 'childId', 'delayMs', 'retryCount']);
  }, 60_000);
});
