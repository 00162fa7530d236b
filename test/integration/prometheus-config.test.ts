// The compose stack's Prometheus files pass Prometheus's own checks: the alert rules parse
// (`promtool check rules`), the scrape config with them (`promtool check config`), and the rules'
// own unit tests fire on a crash loop and stay quiet otherwise (`promtool test rules`). promtool
// comes from Debian's `prometheus` package (.ci/run installs it); without it this file is skipped
// with a loud warning, and under CI=true it fails.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const PROMTOOL = process.env.PROMTOOL ?? 'promtool';
const DIR = fileURLToPath(new URL('../../ops/prometheus/', import.meta.url));
const promtoolFound = spawnSync(PROMTOOL, ['--version'], { stdio: 'ignore' }).status === 0;
if (!promtoolFound && process.env.CI === 'true') {
  throw new Error(`promtool is not installed (${PROMTOOL}); CI must install it (apt-get install prometheus, see .ci/run)`);
}
if (!promtoolFound) {
  process.stderr.write(`\n!!! promtool not found (${PROMTOOL}): the Prometheus config checks are SKIPPED; apt-get install prometheus to run them !!!\n\n`);
}

function promtool(...args: string[]) {
  const run = spawnSync(PROMTOOL, args, { cwd: DIR, encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe.skipIf(!promtoolFound)('ops/prometheus', () => {
  it('has alert rules promtool accepts', () => {
    const run = promtool('check', 'rules', 'aurora-alerts.yml');
    expect(run.status, run.output).toBe(0);
    expect(run.output).toContain('SUCCESS: 3 rules found');
  });

  it('has a scrape config promtool accepts, loading those rules', () => {
    const run = promtool('check', 'config', 'prometheus.yml');
    expect(run.status, run.output).toBe(0);
    expect(run.output).toContain('1 rule files found');
  });

  it('fires the restart-storm, escalation and down alerts as their rule tests expect', () => {
    const run = promtool('test', 'rules', 'aurora-alerts.test.yml');
    expect(run.status, run.output).toBe(0);
  });
});
