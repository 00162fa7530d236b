// The /metrics scrape passes Prometheus's own linter, `promtool check metrics` (issue 17, item 10):
// no gauge named like a counter (prom-client's aurora_nodejs_active_*_total are left out), every
// counter ending in _total, HELP and TYPE on every family. promtool comes from Debian's
// `prometheus` package (.ci/run installs it); without it this file is skipped with a loud warning,
// and under CI=true it fails.
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOllama, type FakeOllama } from '../fixtures/fake-ollama.js';
import { client, startAurora, tempDir, type Api, type AuroraProcess, type TempDir } from '../helpers/e2e.js';

const PROMTOOL = process.env.PROMTOOL ?? 'promtool';
const promtoolFound = spawnSync(PROMTOOL, ['--version'], { stdio: 'ignore' }).status === 0;
if (!promtoolFound && process.env.CI === 'true') {
  throw new Error(`promtool is not installed (${PROMTOOL}); CI must install it (apt-get install prometheus, see .ci/run)`);
}
if (!promtoolFound) {
  process.stderr.write(`\n!!! promtool not found (${PROMTOOL}): the /metrics lint is SKIPPED; apt-get install prometheus to run it !!!\n\n`);
}

describe.skipIf(!promtoolFound)('The /metrics scrape', () => {
  let fake: FakeOllama;
  let dir: TempDir;
  let server: AuroraProcess;
  let api: Api;

  beforeAll(async () => {
    fake = await startFakeOllama();
    dir = tempDir();
    server = await startAurora({ DATABASE_PATH: dir.file('aurora.db'), OLLAMA_HOST: fake.url, FAULT_INJECTION_ENABLED: 'true' });
    api = client(server.url);
  });

  afterAll(async () => {
    await server?.stop();
    await fake?.close();
    dir?.remove();
  });

  it('passes promtool check metrics, with every kind of series present', async () => {
    // Some of everything: HTTP requests, tasks (histograms, tokens), a crash and a restart.
    expect((await api.post('/api/v1/agents/', { name: 'counted' })).status).toBe(201);
    expect((await api.post('/api/v1/tasks/execute', { agent: 'counted', prompt: 'count me' })).status).toBe(200);
    expect((await api.get('/api/v1/agents/nobody')).status).toBe(404);
    const scrape = await api.get<string>('/metrics');
    expect(scrape.status).toBe(200);
    expect(scrape.text).toContain('aurora_tasks_total');
    expect(scrape.text).toContain('aurora_nodejs_active_handles');
    expect(scrape.text).not.toMatch(/^aurora_nodejs_active_\w+_total/m);

    const lint = spawnSync(PROMTOOL, ['check', 'metrics'], { input: scrape.text, encoding: 'utf8' });
    expect({ status: lint.status, output: `${lint.stdout}${lint.stderr}` }).toEqual({ status: 0, output: '' });
  });
});
