// The dashboard in real headless Chromium against the real server process: it loads cleanly,
// creates an agent through its form, shows a crash-and-restart in the live tree, keeps its DOM
// bounded under a thousand events, and asks for a token when Aurora requires one. Every wait is
// for the DOM to say so; none is timed.
import { execFileSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import type { Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOllama, type FakeOllama } from '../fixtures/fake-ollama.js';
import { launchBrowser, openPage, type WatchedPage } from '../helpers/browser.js';
import { client, startAurora, tempDir, type Api, type AuroraProcess, type TempDir } from '../helpers/e2e.js';
import { uniqueNamespace } from '../helpers/services.js';

const CLI_BIN = new URL('../../dist/bin/cli.js', import.meta.url).pathname;
const JWT_SECRET = 'a-test-secret-of-at-least-32-bytes-0123456789';
/** The events view keeps this many rows (dashboard/src/views/events.tsx MAX_ROWS). */
const EVENT_ROWS_MAX = 200;
const FIRST_LOAD_BUDGET_BYTES = 250 * 1024;

let browser: Browser;
let fake: FakeOllama;
const pages: WatchedPage[] = [];

beforeAll(async () => {
  browser = await launchBrowser();
  fake = await startFakeOllama();
});

afterAll(async () => {
  await Promise.all(pages.splice(0).map((p) => p.page.close()));
  await browser?.close();
  await fake?.close();
});

const open = async (url: string, scheme: 'light' | 'dark' = 'light') => {
  const p = await openPage(browser, url, scheme);
  pages.push(p);
  return p;
};

describe('dashboard, auth off', () => {
  let dir: TempDir;
  let server: AuroraProcess;
  let api: Api;

  beforeAll(async () => {
    dir = tempDir();
    server = await startAurora({
      DATABASE_PATH: dir.file('aurora.db'),
      OLLAMA_HOST: fake.url,
      AURORA_NAMESPACE: uniqueNamespace('e2e_ui'),
      FAULT_INJECTION_ENABLED: 'true',
      SUPERVISOR_BACKOFF_BASE_MS: '0',
      SUPERVISOR_BACKOFF_MAX_MS: '0',
    });
    api = client(server.url);
  });

  afterAll(async () => {
    await server?.stop();
    dir?.remove();
  });

  it('redirects a browser from / to /ui/ and serves the page with a strict CSP and cacheable hashed assets', async () => {
    const json = await fetch(`${server.url}/`, { headers: { accept: 'application/json' } });
    expect(json.status).toBe(200);
    expect(await json.json()).toMatchObject({ status: 'running' });
    const html = await fetch(`${server.url}/`, { headers: { accept: 'text/html,application/xhtml+xml' }, redirect: 'manual' });
    expect(html.status).toBe(302);
    expect(html.headers.get('location')).toBe('/ui/');

    const page = await fetch(`${server.url}/ui/`);
    expect(page.headers.get('cache-control')).toBe('no-cache');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    const text = await page.text();
    expect(text).not.toMatch(/<script>|<script [^>]*>[^<]+<\/script>/);
    const asset = /src="(\/ui\/assets\/main-[A-Z0-9]+\.js)"/.exec(text)![1]!;
    const js = await fetch(server.url + asset);
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const style = /href="(\/ui\/assets\/main-[A-Z0-9]+\.css)"/.exec(text)![1]!;

    // The first load's budget: the page, its script and its style, gzipped.
    const bodies = [Buffer.from(text), Buffer.from(await js.arrayBuffer()), Buffer.from(await (await fetch(server.url + style)).arrayBuffer())];
    const gzipped = bodies.reduce((sum, b) => sum + gzipSync(b, { level: 9 }).length, 0);
    expect(gzipped).toBeLessThanOrEqual(FIRST_LOAD_BUDGET_BYTES);
  });

  it('loads the overview with no console error and no failed request', async () => {
    const p = await open(`${server.url}/`);
    await p.page.waitForSelector('[data-testid="readiness"] li');
    // Time to first meaningful render (the readiness checks on screen), from navigation start: reported, not asserted.
    const renderedMs = await p.page.evaluate(() => (globalThis as unknown as { performance: { now(): number } }).performance.now());
    console.info(`dashboard: first meaningful render ${renderedMs.toFixed(0)} ms after navigation start`);
    await p.page.waitForSelector('.stream-open');
    expect(p.page.url()).toBe(`${server.url}/ui/`);
    await p.screenshot('overview');
    const dark = await open(`${server.url}/ui/#/overview`, 'dark');
    await dark.page.waitForSelector('[data-testid="readiness"] li');
    await dark.screenshot('overview-dark');
    expect(p.errors).toEqual([]);
    expect(p.failures).toEqual([]);
    expect(dark.errors).toEqual([]);
  });

  it('creates an agent through the form, and shows the API\'s reason when it refuses one', async () => {
    const p = await open(`${server.url}/ui/#/agents`);
    await p.page.waitForSelector('.stream-open');
    await p.page.type('[data-testid="create-name"]', 'from-the-form');
    await p.page.click('.create-agent button[type="submit"]');
    await p.page.waitForSelector('tr[data-agent="from-the-form"]');
    expect((await api.get('/api/v1/agents/from-the-form')).status).toBe(200);
    expect(p.errors).toEqual([]);

    await p.page.type('[data-testid="create-name"]', 'no spaces allowed');
    await p.page.click('.create-agent button[type="submit"]');
    const error = await p.page.waitForSelector('[data-testid="create-error"]');
    expect(await error!.evaluate((e) => e.textContent)).toMatch(/name/i);
    await p.screenshot('agents');
    // The refused create is the one error: the browser logs the 400 it asked for.
    expect(p.errors).toEqual([expect.stringContaining('status of 400')]);
  });

  it('shows the restart count move in the supervision tree when a fault is injected', async () => {
    expect((await api.post('/api/v1/agents/', { name: 'crashy', model_name: 'llama2' })).status).toBe(201);
    const p = await open(`${server.url}/ui/#/tree`);
    await p.page.waitForSelector('g[data-child="crashy"][data-restarts="0"]');
    expect((await api.post('/api/v1/agents/crashy/fault')).status).toBe(202);
    await p.page.waitForSelector('g[data-child="crashy"][data-restarts="1"][data-status="running"]');
    // Reachable by keyboard: the node takes focus.
    const focused = await p.page.$eval('g[data-child="crashy"]', (g) => {
      (g as unknown as { focus(): void }).focus();
      return g.ownerDocument.activeElement === g;
    });
    expect(focused).toBe(true);
    await p.page.click('g[data-child="crashy"]');
    await p.page.waitForSelector('[data-testid="detail-restarts"]');
    await p.screenshot('tree');

    // The operator's restart asks first, then shows as one more restart.
    await p.page.click('[data-testid="restart-button"]');
    await p.page.waitForSelector('dialog.confirm[open]');
    await p.page.click('dialog.confirm button.danger');
    await p.page.waitForSelector('g[data-child="crashy"][data-restarts="2"]');
    expect(p.errors).toEqual([]);
    expect(p.failures).toEqual([]);
  });

  it('runs a task and shows its tokens as they arrive', async () => {
    expect((await api.post('/api/v1/agents/', { name: 'runner', model_name: 'llama2' })).status).toBe(201);
    const p = await open(`${server.url}/ui/#/run`);
    await p.page.waitForSelector('.stream-open');
    await p.page.waitForSelector('select option ::-p-text(runner)');
    await p.page.select('select', 'runner');
    fake.script({ reply: { content: 'tokens from the fake model' } });
    await p.page.type('textarea', 'say something');
    await p.page.click('.run-form button[type="submit"]');
    await p.page.waitForFunction(
      () => (globalThis as unknown as { document: { querySelector(s: string): { textContent: string } | null } }).document
        .querySelector('[data-testid="run-output"]')
        ?.textContent.includes('tokens from the fake model'),
    );
    await p.screenshot('run');

    // The agent's detail lists the task it just ran.
    await p.page.goto(`${server.url}/ui/#/agents`);
    await (await p.page.waitForSelector('button[aria-label="Show runner"]'))!.click();
    await p.page.waitForSelector('.detail td.status-completed');
    await p.screenshot('agent-detail');

    // Its description changes through the edit form, as PATCH answers.
    const description = await p.page.waitForSelector('form[aria-label="Edit runner"] label:nth-of-type(2) input');
    await description!.type('answers from the dashboard');
    await p.page.click('form[aria-label="Edit runner"] button[type="submit"]');
    await p.page.waitForSelector('.detail dd ::-p-text(answers from the dashboard)');
    expect((await api.get<{ description: string }>('/api/v1/agents/runner')).body.description).toBe('answers from the dashboard');
    expect(p.errors).toEqual([]);
    expect(p.failures).toEqual([]);
  });

  it('pulls a model with a progress bar that the stream moves to the end', async () => {
    const p = await open(`${server.url}/ui/#/models`);
    await p.page.waitForSelector('.stream-open');
    await p.page.type('input[name="model"]', 'tinyllama');
    await p.page.click('button[value="pull"]');
    await p.page.waitForSelector('li[data-pull="tinyllama"][data-status="completed"] progress[value="100"]');
    await p.page.click('button[value="status"]');
    await p.page.waitForSelector('[data-testid="model-status"]');
    await p.screenshot('models');
    expect(p.errors).toEqual([]);
    expect(p.failures).toEqual([]);
  });

  it('keeps the events table bounded while a thousand events arrive', async () => {
    expect((await api.post('/api/v1/agents/', { name: 'chatty', model_name: 'llama2' })).status).toBe(201);
    const p = await open(`${server.url}/ui/#/events`);
    await p.page.waitForSelector('.stream-open');
    await p.page.type('.filters input', 'task.*');
    await p.page.click('.filters button[type="submit"]');
    // A reply of 1,200 words streams 1,200 task.token events, then task.completed.
    fake.script({ reply: { content: Array.from({ length: 1200 }, (_, i) => `w${i}`).join(' ') } });
    const run = await api.post<{ task_id: string }>('/api/v1/tasks/execute', { agent: 'chatty', prompt: 'talk' });
    expect(run.status, run.text).toBe(200);
    await p.page.waitForSelector('tr[data-type="task.completed"]');
    const rows = await p.page.$$eval('[data-testid="events-table"] tbody tr', (trs) => trs.length);
    expect(rows).toBe(EVENT_ROWS_MAX);
    const domNodes = await p.page.$$eval('*', (all) => all.length);
    expect(domNodes).toBeLessThan(EVENT_ROWS_MAX * 12 + 500);
    await p.screenshot('events');

    // A filter the server refuses says why.
    await p.page.click('.filters input', { count: 3 });
    await p.page.type('.filters input', 'nosuch.kind');
    await p.page.click('.filters button[type="submit"]');
    const refusal = await p.page.waitForSelector('.error[role="alert"]');
    expect(await refusal!.evaluate((e) => e.textContent)).toContain('nosuch.kind');
    expect(p.errors).toEqual([]);
  });
});

describe('dashboard, tasks and runs', () => {
  let dir: TempDir;
  let server: AuroraProcess;
  let api: Api;
  const taskIdsOf = async (agent: string) =>
    (await api.get<{ task_id: string }[]>(`/api/v1/tasks/?agent=${agent}&limit=10`)).body.map((t) => t.task_id);

  beforeAll(async () => {
    dir = tempDir();
    server = await startAurora({ DATABASE_PATH: dir.file('aurora.db'), OLLAMA_HOST: fake.url, AURORA_NAMESPACE: uniqueNamespace('e2e_ui_tasks') });
    api = client(server.url);
    for (const name of ['lister-a', 'lister-b']) expect((await api.post('/api/v1/agents/', { name, model_name: 'llama2' })).status).toBe(201);
  });

  afterAll(async () => {
    fake.clearScripts();
    fake.setLatency(0);
    await server?.stop();
    dir?.remove();
  });

  it('lists tasks, filters them by agent, and shows a task\'s timeline', async () => {
    for (const agent of ['lister-a', 'lister-b']) {
      const res = await api.post('/api/v1/tasks/execute', { agent, prompt: `hello from ${agent}` });
      expect(res.status, res.text).toBe(200);
    }
    const [taskA] = await taskIdsOf('lister-a');
    const p = await open(`${server.url}/ui/#/tasks`);
    await p.page.waitForSelector('tr[data-agent="lister-a"]');
    await p.page.waitForSelector('tr[data-agent="lister-b"]');
    await p.page.type('input[name="agent"]', 'lister-a');
    await p.page.click('form[aria-label="Filter tasks"] button[type="submit"]');
    await p.page.waitForFunction(
      () => {
        const doc = (globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } }).document;
        return doc.querySelectorAll('tr[data-agent="lister-b"]').length === 0 && doc.querySelectorAll('tr[data-agent="lister-a"]').length === 1;
      },
    );
    await p.screenshot('tasks');
    await p.page.click(`button[aria-label="Show task ${taskA}"]`);
    await p.page.waitForSelector('[data-testid="task-detail"][data-status="completed"]');
    const kinds = await p.page.$$eval('[data-testid="task-timeline"] li', (lis) => lis.map((li) => li.getAttribute('data-kind')));
    expect(kinds).toEqual(['queued', 'started', 'tokens', 'completed']);
    await p.screenshot('task-detail');
    expect(p.errors).toEqual([]);
    expect(p.failures).toEqual([]);
  });

  it('cancels a long task from its detail, after a confirmation', async () => {
    fake.script({ match: (c) => c.messages.some((m) => m.content === 'a very long job'), reply: { stall: true } });
    const submitted = await api.post<{ task_id: string }>('/api/v1/tasks/', { agent: 'lister-a', prompt: 'a very long job' });
    expect(submitted.status, submitted.text).toBe(202);
    const id = submitted.body.task_id;
    const p = await open(`${server.url}/ui/#/tasks`);
    await (await p.page.waitForSelector(`button[aria-label="Show task ${id}"]`))!.click();
    await p.page.waitForSelector('[data-testid="task-detail"][data-status="running"]');
    await p.page.click('[data-testid="cancel-button"]');
    await p.page.waitForSelector('dialog.confirm[open]');
    await p.page.click('dialog.confirm button.danger');
    await p.page.waitForSelector('[data-testid="task-detail"][data-status="cancelled"]');
    await p.page.waitForSelector('[data-testid="task-timeline"] li[data-kind="cancelled"]');
    expect((await api.get<{ status: string }>(`/api/v1/tasks/${id}`)).body.status).toBe('cancelled');
    expect(p.errors).toEqual([]);
    expect(p.failures).toEqual([]);
  });

  it('shows a background workflow run as a graph whose two steps reach completed, and drills into one', async () => {
    const defined = await api.post('/api/v1/workflows', {
      name: 'ui-flow',
      description: 'two steps',
      graph: {
        type: 'sequence',
        id: 'main',
        steps: [
          { type: 'agent', id: 'draft', agent: 'lister-a', input: 'draft about {{ input.topic }}' },
          { type: 'agent', id: 'review', agent: 'lister-b', input: 'review: {{ steps.draft.output }}' },
        ],
      },
    });
    expect(defined.status, defined.text).toBe(201);
    const p = await open(`${server.url}/ui/#/tasks`);
    await p.page.click('[data-testid="tab-runs"]');
    await p.page.waitForSelector('[data-testid="runs-table"]');
    // Slow replies (3 s a step), so that the page is open while the second step runs: its status moves by run.step events alone.
    fake.setLatency(3000);
    const started = await api.post<{ run_id: string }>('/api/v1/workflows/ui-flow/runs', { input: { topic: 'herons' }, mode: 'background' });
    expect(started.status, started.text).toBe(202);
    const runId = started.body.run_id;
    await (await p.page.waitForSelector(`button[aria-label="Show run ${runId}"]`))!.click();
    await p.page.waitForSelector('g[data-step="main/review"][data-status="running"]', { timeout: 10_000 });
    await p.page.waitForSelector('g[data-step="main/draft"][data-status="completed"]');
    await p.page.waitForSelector('g[data-step="main/review"][data-status="completed"]');
    fake.setLatency(0);
    await p.page.waitForSelector('[data-testid="run-detail"][data-status="completed"]');
    // Keyboard, not the mouse: a step node is focusable and Enter opens it (SVG elements are not HTMLElements to page.focus).
    await p.page.$eval('g[data-step="main/review"]', (g) => (g as unknown as { focus(): void }).focus());
    await p.page.keyboard.press('Enter');
    await p.page.waitForFunction(
      () => (globalThis as unknown as { document: { querySelector(s: string): { textContent: string } | null } }).document
        .querySelector('[data-testid="step-output"]')
        ?.textContent.includes('review: draft about herons'),
    );
    expect(await p.page.$eval('[data-testid="step-input"]', (e) => e.textContent)).toContain('review: draft about herons');
    await p.screenshot('run-graph');
    expect(p.errors).toEqual([]);
    expect(p.failures).toEqual([]);
  });
});

describe('dashboard, auth on', () => {
  let dir: TempDir;
  let server: AuroraProcess;
  const mint = (scope: string) =>
    execFileSync(process.execPath, [CLI_BIN, 'token', '--sub', 'ui-test', '--scope', scope], {
      env: { PATH: process.env.PATH ?? '', JWT_SECRET },
    })
      .toString()
      .trim();

  beforeAll(async () => {
    dir = tempDir();
    server = await startAurora({
      DATABASE_PATH: dir.file('aurora.db'),
      OLLAMA_HOST: fake.url,
      AURORA_NAMESPACE: uniqueNamespace('e2e_ui_auth'),
      AUTH_ENABLED: 'true',
      JWT_SECRET,
    });
  });

  afterAll(async () => {
    await server?.stop();
    dir?.remove();
  });

  it('asks for a token when there is none', async () => {
    const p = await open(`${server.url}/ui/`);
    const prompt = await p.page.waitForSelector('.token-form.prominent');
    expect(await prompt!.evaluate((e) => e.textContent)).toContain('requires a token');
    await p.screenshot('token-prompt');
  });

  it('explains why the create form is disabled for a token without agents:write', async () => {
    const p = await open(`${server.url}/ui/#/agents`);
    await p.page.waitForSelector('.token-form.prominent');
    await p.page.type('#token-input', mint('agents:read events:read'));
    await p.page.click('.token-form button[type="submit"]');
    const notice = await p.page.waitForSelector('[data-testid="create-disabled"]');
    expect(await notice!.evaluate((e) => e.textContent)).toContain('agents:write');
    expect(await p.page.$eval('.create-agent fieldset', (f) => f.hasAttribute('disabled'))).toBe(true);
    await p.page.waitForSelector('[data-testid="agents-table"]');
    await p.page.waitForSelector('.stream-open');
  });

  it('explains why a running task cannot be cancelled with a token without tasks:execute', async () => {
    const admin = { authorization: `Bearer ${mint('admin')}`, 'content-type': 'application/json' };
    const post = (path: string, body?: unknown) =>
      fetch(`${server.url}${path}`, { method: 'POST', headers: admin, ...(body !== undefined && { body: JSON.stringify(body) }) });
    expect((await post('/api/v1/agents/', { name: 'authed-staller', model_name: 'llama2' })).status).toBe(201);
    fake.script({ match: (c) => c.messages.some((m) => m.content === 'stall under auth'), reply: { stall: true } });
    const submitted = await post('/api/v1/tasks/', { agent: 'authed-staller', prompt: 'stall under auth' });
    expect(submitted.status).toBe(202);
    const { task_id: id } = (await submitted.json()) as { task_id: string };
    try {
      const p = await open(`${server.url}/ui/#/tasks`);
      await p.page.waitForSelector('.token-form.prominent');
      await p.page.type('#token-input', mint('tasks:read events:read'));
      await p.page.click('.token-form button[type="submit"]');
      await (await p.page.waitForSelector(`button[aria-label="Show task ${id}"]`))!.click();
      await p.page.waitForSelector('[data-testid="task-detail"][data-status="running"]');
      const why = await p.page.waitForSelector('[data-testid="cancel-disabled"]');
      expect(await why!.evaluate((e) => e.textContent)).toContain('tasks:execute');
      expect(await p.page.$eval('[data-testid="cancel-button"]', (b) => b.hasAttribute('disabled'))).toBe(true);
    } finally {
      expect((await post(`/api/v1/tasks/${id}/cancel`)).status).toBe(200);
    }
  });

  it('runs a task over the stream with a token that may execute tasks but not read events', async () => {
    const admin = mint('admin');
    const created = await fetch(`${server.url}/api/v1/agents/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'authed-runner', model_name: 'llama2' }),
    });
    expect(created.status).toBe(201);
    const p = await open(`${server.url}/ui/#/run`);
    await p.page.waitForSelector('.token-form.prominent');
    await p.page.type('#token-input', mint('agents:read tasks:execute'));
    await p.page.click('.token-form button[type="submit"]');
    await p.page.waitForSelector('.stream-tasks-only');
    await p.page.waitForSelector('select option ::-p-text(authed-runner)');
    fake.script({ reply: { content: 'an answer under auth' } });
    await p.page.type('textarea', 'hello');
    await p.page.click('.run-form button[type="submit"]');
    await p.page.waitForFunction(
      () => (globalThis as unknown as { document: { querySelector(s: string): { textContent: string } | null } }).document
        .querySelector('[data-testid="run-output"]')
        ?.textContent.includes('an answer under auth'),
    );
  });
});
