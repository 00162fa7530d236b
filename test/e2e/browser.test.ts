// Browser agents end to end: Aurora as its own process driving the real Chromium (BROWSER_EXECUTABLE,
// /usr/bin/chromium by default) against a fixture site on loopback, which the test agent's config
// allows explicitly. Nothing of the browser is mocked: crashes are real (a renderer crashed over
// CDP, Chromium killed with SIGKILL), and Chromium processes are counted by the marker every one of
// them carries in its environment (AURORA_BROWSER_OWNER=<server pid>).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startBrowserSite, SITE_LOGIN, type BrowserSite } from '../fixtures/browser-site.js';
import { startFakeOllama, type FakeOllama } from '../fixtures/fake-ollama.js';
import { client, metricSum, startAurora, StreamClient, tempDir, type Api, type AuroraProcess, type TempDir } from '../helpers/e2e.js';

const CHROMIUM = process.env.BROWSER_EXECUTABLE ?? '/usr/bin/chromium';

interface ActionResult {
  index: number;
  action: string;
  [field: string]: unknown;
}
interface BrowserTaskResult {
  task_id: string;
  status: string;
  output: { actions: ActionResult[] };
}
interface TaskRecord {
  task_id: string;
  status: string;
  error: string | null;
  error_code: string | null;
  details: { actions?: ActionResult[]; failed?: { index: number; code: string } };
}

/** Pids of the live (not zombie) processes carrying `AURORA_BROWSER_OWNER=<owner>`. */
function chromiumProcesses(owner: number): number[] {
  const marker = `AURORA_BROWSER_OWNER=${owner}\0`;
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (/\) Z /.test(stat)) continue;
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').includes(marker)) pids.push(Number(entry));
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return pids;
}

/** The Chromium main processes: the server's own children among them. */
function chromiumMains(owner: number): number[] {
  return chromiumProcesses(owner).filter((pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      return ppid === owner;
    } catch {
      return false;
    }
  });
}

describe.skipIf(!existsSync(CHROMIUM))('browser agents (real Chromium)', () => {
  let site: BrowserSite;
  let other: BrowserSite;
  let dir: TempDir;
  let server: AuroraProcess;
  let api: Api;
  let fake: FakeOllama;
  const sockets: StreamClient[] = [];

  beforeAll(async () => {
    site = await startBrowserSite();
    other = await startBrowserSite();
    site.foreignOrigin = other.origin;
    dir = tempDir();
    fake = await startFakeOllama();
    server = await startAurora({
      DATABASE_PATH: dir.file('aurora.db'),
      OLLAMA_HOST: fake.url,
      FAULT_INJECTION_ENABLED: 'true',
      BROWSER_MAX: '1',
      BROWSER_PAGES_MAX: '2',
      // Restarts in these tests are on purpose: they must not spend the worker's budget.
      SUPERVISOR_MAX_RESTARTS: '20',
    });
    api = client(server.url);
    const created = await api.post('/api/v1/agents/', {
      name: 'web',
      agent_type: 'browser',
      provider: 'none',
      model_name: 'chromium',
      config: { allowed_origins: [site.origin], action_timeout_ms: 10_000 },
    });
    expect(created.status, created.text).toBe(201);
  }, 60_000);

  afterEach(async () => {
    await Promise.all(sockets.splice(0).map((s) => s.close()));
  });

  afterAll(async () => {
    const pid = server?.pid;
    await server?.stop();
    // Every Chromium process of the server ended with it.
    if (pid !== undefined) expect(chromiumProcesses(pid)).toEqual([]);
    await site?.close();
    await other?.close();
    await fake?.close();
    dir?.remove();
  });

  const run = (actions: unknown[]) => api.post<BrowserTaskResult>('/api/v1/tasks/execute', { agent: 'web', prompt: 'browse', parameters: { actions } });
  const task = async (id: string) => (await api.get<TaskRecord>(`/api/v1/tasks/${id}`)).body;

  it('logs in through a form, the session cookie carrying over to the next page', async () => {
    const res = await run([
      { action: 'navigate', url: site.url('/login') },
      { action: 'snapshot' },
      { action: 'type', ref: 'e1', text: SITE_LOGIN.user },
      { action: 'type', selector: '#pass', text: SITE_LOGIN.password, submit: true },
      { action: 'wait_for', selector: '#welcome' },
      { action: 'extract', selector: 'h1' },
    ]);
    expect(res.status, res.text).toBe(200);
    const [nav, snap, , submit, , extract] = res.body.output.actions;
    expect(nav).toMatchObject({ action: 'navigate', status: 200, title: 'Log in' });
    // What a model reads: the form's fields and button with refs, the password never shown.
    expect(snap!.snapshot).toContain('[e1] input[text] "User"');
    expect(snap!.snapshot).toContain('[e2] input[password] "Password" name=pass value=""');
    expect(snap!.snapshot).toContain('[e3] button "Sign in"');
    expect(submit).toMatchObject({ url: site.url('/account'), title: 'Account' });
    expect(extract).toMatchObject({ values: ['Welcome, ada'], count: 1 });
  });

  it('extracts text and attributes, selects, and waits for content that comes after the load', async () => {
    const res = await run([
      { action: 'navigate', url: site.url('/items') },
      { action: 'extract', selector: 'li.item' },
      { action: 'extract', selector: 'li.item', attribute: 'data-id' },
      { action: 'select', selector: '#size', values: ['l'] },
      { action: 'navigate', url: site.url('/dynamic') },
      { action: 'wait_for', text: 'Loaded later' },
      { action: 'extract', selector: '#late' },
      { action: 'navigate', url: site.url('/slow') },
      { action: 'back' },
    ]);
    expect(res.status, res.text).toBe(200);
    const actions = res.body.output.actions;
    expect(actions[1]).toMatchObject({ values: ['One', 'Two', 'Three'], count: 3, truncated: false });
    expect(actions[2]).toMatchObject({ values: ['1', '2', '3'] });
    expect(actions[3]).toMatchObject({ selected: ['l'] });
    expect(actions[6]).toMatchObject({ values: ['Loaded later'] });
    expect(actions[7]).toMatchObject({ title: 'Slow', status: 200 });
    expect(actions[8]).toMatchObject({ url: site.url('/dynamic') });
  });

  it('stops at the first failing action, naming it, and records what ran before', async () => {
    const res = await run([
      { action: 'navigate', url: site.url('/items') },
      { action: 'click', selector: '#no-such-button', timeout_ms: 500 },
      { action: 'snapshot' },
    ]);
    expect(res.status, res.text).toBe(422);
    expect(res.body).toEqual({ detail: expect.stringMatching(/^actions\[1\] \(click\) failed: click: no visible element matches selector #no-such-button/) });
    const [last] = (await api.get<TaskRecord[]>('/api/v1/tasks/?agent=web&limit=1')).body;
    expect(last!.error_code).toBe('browser_action_failed');
    expect(last!.details.actions).toHaveLength(1);
    expect(last!.details.failed).toMatchObject({ index: 1, code: 'browser_action_failed' });
  });

  it('refuses a task without actions, and an action without what it needs, before opening a page', async () => {
    const none = await api.post('/api/v1/tasks/execute', { agent: 'web', prompt: 'browse' });
    expect(none.status).toBe(400);
    expect(none.text).toContain('parameters.actions');
    const bad = await run([{ action: 'navigate' }]);
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ detail: 'parameters.actions[0] (navigate) needs url' });
    const unknown = await run([{ action: 'teleport' }]);
    expect(unknown.status).toBe(400);
  });

  it('times out a page that never loads, as a retryable timeout', async () => {
    const res = await run([{ action: 'navigate', url: site.url('/never'), timeout_ms: 1000 }]);
    expect(res.status, res.text).toBe(504);
    expect(res.text).toContain('actions[0] (navigate) failed: navigate timed out after 1000 ms');
  });

  it('stores a screenshot as an artifact, served with its content type and announced on the stream', async () => {
    const ws = await StreamClient.connect(`${server.wsUrl}?agents=web&types=browser.*`);
    sockets.push(ws);
    const res = await run([
      { action: 'navigate', url: site.url('/') },
      { action: 'screenshot' },
    ]);
    expect(res.status, res.text).toBe(200);
    const shot = res.body.output.actions[1]!;
    expect(shot).toMatchObject({ action: 'screenshot', content_type: 'image/png', href: `/api/v1/artifacts/${String(shot.artifact_id)}` });
    const fetched = await fetch(`${server.url}/api/v1/artifacts/${String(shot.artifact_id)}`);
    expect(fetched.status).toBe(200);
    expect(fetched.headers.get('content-type')).toBe('image/png');
    const bytes = Buffer.from(await fetched.arrayBuffer());
    expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(bytes.length).toBe(shot.bytes);

    const taskId = res.body.task_id;
    const screenshot = await ws.next((m) => m.type === 'browser.screenshot' && m.task_id === taskId, 'browser.screenshot');
    expect(screenshot.payload).toMatchObject({ index: 1, artifact_id: shot.artifact_id, content_type: 'image/png' });
    const navigated = await ws.next((m) => m.type === 'browser.navigated' && m.task_id === taskId, 'browser.navigated');
    expect(navigated.payload).toMatchObject({ index: 0, url: site.url('/'), status: 200, title: 'Home' });
    await ws.next((m) => m.type === 'browser.action' && m.task_id === taskId && m.payload?.index === 1, 'browser.action of the screenshot');

    const missing = await api.get('/api/v1/artifacts/01900000-0000-7000-8000-000000000000');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ detail: expect.stringContaining('not found') });
  });

  it('keeps pages inside the allowed origins: other origins, redirects out, foreign subresources, file: and data:', async () => {
    const before = other.requests.length;

    const direct = await run([{ action: 'navigate', url: other.url('/') }]);
    expect(direct.status, direct.text).toBe(403);
    expect(direct.text).toContain(`origin ${other.origin} is not allowed`);

    // The allowed site redirects to 127.0.0.1 on another port: the hop is checked like the first URL.
    const redirected = await run([{ action: 'navigate', url: site.url(`/redirect?to=${encodeURIComponent(other.url('/'))}`) }]);
    expect(redirected.status, redirected.text).toBe(403);
    expect(redirected.body).toEqual({ detail: expect.stringContaining(`navigation refused: ${other.url('/')}`) });

    // The page loads; its image from the other origin does not.
    const foreign = await run([{ action: 'navigate', url: site.url('/foreign-image') }]);
    expect(foreign.status, foreign.text).toBe(200);
    expect(foreign.body.output.actions[0]).toMatchObject({
      title: 'Foreign',
      blocked: [{ url: other.url('/pixel.png'), reason: expect.stringContaining('is not allowed') }],
    });

    // New windows would escape the guard of the task's page: window.open opens none, and a
    // target=_blank link opens in the page itself, where the guard refuses it.
    const popups = await run([
      { action: 'navigate', url: site.url('/popup') },
      { action: 'click', selector: '#open' },
      { action: 'extract', selector: 'h1' },
    ]);
    expect(popups.status, popups.text).toBe(200);
    expect(popups.body.output.actions[2]).toMatchObject({ values: ['Popups'] });
    const blank = await run([
      { action: 'navigate', url: site.url('/popup') },
      { action: 'click', selector: '#blank' },
    ]);
    expect(blank.status, blank.text).toBe(403);
    expect(blank.text).toContain(`navigation refused: ${other.url('/blank-target')}`);

    for (const url of ['file:///etc/passwd', 'data:text/html,<h1>hi</h1>', 'chrome://version', 'http://169.254.169.254/latest/meta-data/']) {
      const res = await run([{ action: 'navigate', url }]);
      expect(res.status, `${url}: ${res.text}`).toBe(403);
      expect(res.body, url).toEqual({ detail: expect.stringContaining('navigation refused') });
    }
    // Nothing the guard refused ever reached the other server.
    expect(other.requests.slice(before)).toEqual([]);
  });

  it('leaves a page heavier than max_page_bytes, failing the navigation', async () => {
    const created = await api.post('/api/v1/agents/', {
      name: 'light',
      agent_type: 'browser',
      provider: 'none',
      model_name: 'chromium',
      config: { allowed_origins: [site.origin], max_page_bytes: 16 * 1024 },
    });
    expect(created.status, created.text).toBe(201);
    const small = await api.post('/api/v1/tasks/execute', { agent: 'light', prompt: 'browse', parameters: { actions: [{ action: 'navigate', url: site.url('/items') }] } });
    expect(small.status, small.text).toBe(200);
    const big = await api.post('/api/v1/tasks/execute', { agent: 'light', prompt: 'browse', parameters: { actions: [{ action: 'navigate', url: site.url('/big') }] } });
    expect(big.status, big.text).toBe(422);
    expect(big.text).toContain('over max_page_bytes (16384)');
  });

  it('runs no script in the page unless the agent allows it', async () => {
    const res = await run([
      { action: 'navigate', url: site.url('/') },
      { action: 'evaluate', script: 'document.title' },
    ]);
    expect(res.status).toBe(400);
    expect(res.text).toContain('config.allow_evaluate');
  });

  it('fails the action cleanly when the renderer crashes, restarts the worker, and serves the next task', async () => {
    const metricsBefore = (await api.get<string>('/metrics')).text;
    const crashed = await run([
      { action: 'navigate', url: site.url('/') },
      { action: 'crash', target: 'renderer' },
    ]);
    expect(crashed.status, crashed.text).toBe(503);
    expect(crashed.text).toContain('actions[1] (crash) failed');
    expect(crashed.text).toContain('renderer crashed');

    const next = await run([{ action: 'navigate', url: site.url('/') }, { action: 'extract', selector: 'h1' }]);
    expect(next.status, next.text).toBe(200);
    expect(next.body.output.actions[1]).toMatchObject({ values: ['Fixture home'] });

    const metrics = (await api.get<string>('/metrics')).text;
    const restarts = (text: string) => metricSum(text, 'aurora_browser_restarts_total', { reason: 'renderer_crash' });
    expect(restarts(metrics)).toBe(restarts(metricsBefore) + 1);
    expect(metricSum(metrics, 'aurora_supervisor_restarts_total', { kind: 'browser' })).toBeGreaterThanOrEqual(1);
  });

  it('fails the action in flight when Chromium is killed with SIGKILL, leaves no process behind, and serves the next task', async () => {
    const ws = await StreamClient.connect(`${server.wsUrl}?agents=web&types=browser.*`);
    sockets.push(ws);
    const submitted = await api.post<{ task_id: string }>('/api/v1/tasks', {
      agent: 'web',
      prompt: 'browse',
      parameters: { actions: [{ action: 'navigate', url: site.url('/') }, { action: 'wait_for', ms: 600_000 }] },
    });
    expect(submitted.status, submitted.text).toBe(202);
    const taskId = submitted.body.task_id;
    await ws.next((m) => m.type === 'browser.navigated' && m.task_id === taskId, 'the navigation before the long wait');

    const mains = chromiumMains(server.pid);
    expect(mains).toHaveLength(1);
    const group = chromiumProcesses(server.pid);
    expect(group.length).toBeGreaterThan(1);
    process.kill(mains[0]!, 'SIGKILL');
    await ws.next((m) => m.type === 'browser.action' && m.task_id === taskId && m.payload?.ok === false, 'the failure of the wait');

    const ended = await api.post<TaskRecord>('/api/v1/tasks/execute', { agent: 'web', prompt: 'after', parameters: { actions: [{ action: 'navigate', url: site.url('/items') }] } });
    expect(ended.status, ended.text).toBe(200);
    const killed = await task(taskId);
    expect(killed).toMatchObject({ status: 'failed', error_code: 'browser_crashed' });
    expect(killed.error).toContain('actions[1] (wait_for) failed');

    // The killed Chromium's whole group is gone; only the new one's processes remain.
    const now = chromiumProcesses(server.pid);
    for (const pid of group) expect(now, `pid ${pid} of the killed Chromium`).not.toContain(pid);
    expect(chromiumMains(server.pid)).toHaveLength(1);
    const metrics = (await api.get<string>('/metrics')).text;
    expect(metricSum(metrics, 'aurora_browser_restarts_total', { reason: 'disconnected' })).toBeGreaterThanOrEqual(1);
    expect(metricSum(metrics, 'aurora_browsers_alive')).toBe(1);
  });

  it('gives an llm agent browser tools: it navigates, reads a snapshot and clicks a ref over two turns, in one session', async () => {
    const created = await api.post('/api/v1/agents/', {
      name: 'surfer',
      agent_type: 'llm',
      provider: 'ollama',
      model_name: 'llama3.1',
      config: {
        tools: ['browser.navigate', 'browser.snapshot', 'browser.click', 'browser.extract'],
        browser: { allowed_origins: [site.origin] },
      },
    });
    expect(created.status, created.text).toBe(201);
    const toolTurns = (c: { messages: { role: string }[] }) => c.messages.filter((m) => m.role === 'tool').length;
    fake.script({
      match: (c) => toolTurns(c) === 0,
      reply: { tool_calls: [{ name: 'browser.navigate', arguments: { url: site.url('/') } }, { name: 'browser.snapshot', arguments: {} }] },
    });
    // The second turn clicks the ref the snapshot gave "Items" and reads the list it leads to.
    fake.script({
      match: (c) => toolTurns(c) === 2,
      reply: { tool_calls: [{ name: 'browser.click', arguments: { ref: 'e2' } }, { name: 'browser.extract', arguments: { selector: 'li.item' } }] },
    });
    fake.script({ match: (c) => toolTurns(c) === 4, reply: { content: 'The items are One, Two and Three.' } });

    const res = await api.post<{ task_id: string; result: string }>('/api/v1/tasks/execute', { agent: 'surfer', prompt: 'What items does the site list?' });
    expect(res.status, res.text).toBe(200);
    expect(res.body.result).toBe('The items are One, Two and Three.');
    const record = await api.get<{ details: { steps: { name: string; ok: boolean; result: string }[] } }>(`/api/v1/tasks/${res.body.task_id}`);
    const steps = record.body.details.steps;
    expect(steps.map((s) => [s.name, s.ok])).toEqual([
      ['browser.navigate', true],
      ['browser.snapshot', true],
      ['browser.click', true],
      ['browser.extract', true],
    ]);
    expect(steps[1]!.result).toContain('[e2] link "Items" href=/items');
    expect(JSON.parse(steps[2]!.result)).toMatchObject({ url: site.url('/items'), title: 'Items' });
    expect(JSON.parse(steps[3]!.result)).toMatchObject({ values: ['One', 'Two', 'Three'] });

    // A tool call outside the allowed origins is refused, and the model is told why.
    fake.script({ match: (c) => toolTurns(c) === 0, reply: { tool_calls: [{ name: 'browser.navigate', arguments: { url: other.url('/') } }] } });
    fake.script({ match: (c) => toolTurns(c) === 1, reply: { content: 'I may not go there.' } });
    const refused = await api.post<{ task_id: string; result: string }>('/api/v1/tasks/execute', { agent: 'surfer', prompt: 'Open the other site' });
    expect(refused.status, refused.text).toBe(200);
    const refusedSteps = (await api.get<{ details: { steps: { ok: boolean; result: string }[] } }>(`/api/v1/tasks/${refused.body.task_id}`)).body.details.steps;
    expect(refusedSteps[0]).toMatchObject({ ok: false, result: expect.stringContaining(`origin ${other.origin} is not allowed`) });
  });

  // Last: it ends the server.
  it('leaves no Chromium behind when the node itself is killed with SIGKILL', async () => {
    const res = await run([{ action: 'navigate', url: site.url('/') }]);
    expect(res.status, res.text).toBe(200);
    const pid = server.pid;
    expect(chromiumProcesses(pid).length).toBeGreaterThan(0);
    await server.kill('SIGKILL');
    // Chromium talks to the node over a pipe and exits when it closes; nothing else reaps it.
    while (chromiumProcesses(pid).length > 0) await new Promise((r) => setTimeout(r, 50));
    expect(chromiumProcesses(pid)).toEqual([]);
  });
});
