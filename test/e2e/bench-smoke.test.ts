// The benchmark suite's smoke pass (`npm run bench -- --smoke`: every scenario, tiny sizes, no
// thresholds), so the suite cannot rot: it must build, start every server, yardstick and load
// generator, and produce a finite figure for every metric of every scenario.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { describeWithService, NATS_URL, REDIS_URL } from '../helpers/services.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

interface BenchRow {
  scenario: string;
  metric: string;
  aurora: number[];
  yardstick?: number[];
}

await describeWithService('NATS', NATS_URL, 'benchmark smoke pass', () => {
  const out = mkdtempSync(join(tmpdir(), 'aurora-bench-smoke-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('runs every scenario end to end and reports a finite figure for each metric', { timeout: 300_000 }, async () => {
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    await run(process.execPath, [tsc, '-p', 'tsconfig.bench.json'], { cwd: ROOT });
    const { stdout } = await run(
      process.execPath,
      ['dist/bench/run.js', '--smoke', `--out=${out}`, `--nats=${NATS_URL}`, `--redis=${REDIS_URL}`],
      { cwd: ROOT, maxBuffer: 16 * 1024 * 1024, timeout: 280_000 },
    ).catch((err: { stdout?: string; message: string }) => {
      throw new Error(`bench smoke pass failed: ${err.message}\n${err.stdout ?? ''}`);
    });
    const report = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8')) as {
      smoke: boolean;
      failures: string[];
      results: BenchRow[];
    };
    expect(report.smoke).toBe(true);
    expect(report.failures).toEqual([]);
    const scenarios = new Set(report.results.map((r) => r.scenario.split(' ')[0]));
    expect([...scenarios].sort()).toEqual(['1', '10', '11', '12', '13', '14', '2', '3', '4', '5', '6', '7', '8', '9']);
    for (const row of report.results) {
      expect(row.aurora.length, `${row.scenario}: ${row.metric}`).toBeGreaterThan(0);
      for (const v of [...row.aurora, ...(row.yardstick ?? [])]) expect(Number.isFinite(v), `${row.scenario}: ${row.metric}`).toBe(true);
    }
    expect(readFileSync(join(out, 'latest.md'), 'utf8')).toContain('| Scenario |');
    expect(stdout).toContain('written to');
  });
});
