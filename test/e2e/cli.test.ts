// The `aurora` command line end to end: the built dist/bin/cli.js spawned with node, as a user runs
// it, against Aurora as its own process and the fake Ollama. Every wait is for a process to exit or
// a line it printed.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOllama, type FakeOllama } from '../fixtures/fake-ollama.js';
import { freePort, startAurora, tempDir, type AuroraProcess, type TempDir } from '../helpers/e2e.js';
import { uniqueNamespace } from '../helpers/services.js';

const CLI_BIN = fileURLToPath(new URL('../../dist/bin/cli.js', import.meta.url));
/** Safety net: a command that hangs fails the test with what it printed. */
const CLI_TIMEOUT_MS = 20_000;
const JWT_SECRET = 'a-test-secret-of-at-least-32-bytes-0123456789';

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface CliProcess {
  /** Resolves with the first stderr line matching `pred`. */
  stderrLine(pred: (line: string) => boolean): Promise<string>;
  done: Promise<CliResult>;
}

/** Spawns the CLI with only the variables given (no AURORA_URL/AURORA_TOKEN from the test's environment). */
function spawnCli(args: readonly string[], env: Record<string, string> = {}): CliProcess {
  const child = spawn(process.execPath, [CLI_BIN, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const lines: string[] = [];
  const waiters = new Set<(line: string) => void>();
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  createInterface({ input: child.stderr }).on('line', (line) => {
    stderr += `${line}\n`;
    lines.push(line);
    for (const w of [...waiters]) w(line);
  });
  const done = new Promise<CliResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`aurora ${args.join(' ')} did not exit within ${CLI_TIMEOUT_MS} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, CLI_TIMEOUT_MS);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  return {
    done,
    stderrLine: (pred) =>
      new Promise<string>((resolve, reject) => {
        const seen = lines.find(pred);
        if (seen !== undefined) return resolve(seen);
        const check = (line: string) => {
          if (!pred(line)) return;
          waiters.delete(check);
          resolve(line);
        };
        waiters.add(check);
        void done.then((r) => reject(new Error(`the line never came; the command exited ${r.code}\nstderr: ${r.stderr}`)));
      }),
  };
}

describe('aurora command line', () => {
  let fake: FakeOllama;
  let dir: TempDir;
  let server: AuroraProcess;
  /** Runs the CLI against the server and waits for it to exit. */
  const aurora = (...args: string[]) => spawnCli(args, { AURORA_URL: server.url }).done;

  beforeAll(async () => {
    fake = await startFakeOllama();
    dir = tempDir();
    server = await startAurora({
      DATABASE_PATH: dir.file('aurora.db'),
      OLLAMA_HOST: fake.url,
      AURORA_NAMESPACE: uniqueNamespace('e2e_cli'),
    });
  });

  afterAll(async () => {
    await server?.stop();
    await fake?.close();
    dir?.remove();
  });

  it('creates, lists, shows and deletes agents, in tables and in JSON', async () => {
    const created = await aurora('agents', 'create', 'writer', '--model', 'llama2', '--description', 'writes things');
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toContain('created agent writer (llm, llama2 on ollama)');

    const listed = await aurora('agents', 'list');
    expect(listed.code, listed.stderr).toBe(0);
    const [head, ...rows] = listed.stdout.trimEnd().split('\n');
    expect(head).toMatch(/^NAME\s+KIND\s+MODEL\s+PROVIDER\s+STATUS\s+LAST RUN/);
    expect(rows.some((r) => /^writer\s+llm\s+llama2\s+ollama\s+idle\b/.test(r))).toBe(true);

    const json = await aurora('agents', 'list', '--json');
    expect(json.code, json.stderr).toBe(0);
    const agents = JSON.parse(json.stdout) as { name: string; status: string }[];
    expect(agents.map((a) => a.name)).toContain('writer');

    const shown = await aurora('--json', 'agents', 'show', 'writer');
    expect(shown.code, shown.stderr).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ name: 'writer', model_name: 'llama2', description: 'writes things', model_installed: true });
    const human = await aurora('agents', 'show', 'writer');
    expect(human.stdout).toMatch(/^model installed:\s+yes$/m);

    const deleted = await aurora('agents', 'delete', 'writer');
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(deleted.stdout).toContain('deleted agent writer');
    const gone = await aurora('agents', 'show', 'writer');
    expect(gone.code).toBe(1);
  });

  it('streams a task\'s tokens to stdout as they arrive and lists and shows the task after', async () => {
    expect((await aurora('agents', 'create', 'echo')).code).toBe(0);
    const run = spawnCli(['run', 'echo', 'hello', 'from', 'the', 'command', 'line'], { AURORA_URL: server.url });
    const result = await run.done;
    expect(result.code, result.stderr).toBe(0);
    // The fake echoes the prompt's words, one token each: they arrived as task.token events.
    expect(result.stdout).toBe('hello from the command line\n');

    const tasks = await aurora('tasks', 'list', '--agent', 'echo', '--json');
    expect(tasks.code, tasks.stderr).toBe(0);
    const [task] = JSON.parse(tasks.stdout) as { task_id: string; status: string; result: string }[];
    expect(task).toMatchObject({ status: 'completed', result: 'hello from the command line' });

    const table = await aurora('tasks', 'list', '--agent', 'echo');
    expect(table.stdout).toMatch(/^TASK\s+AGENT\s+STATUS/);
    expect(table.stdout).toContain(task!.task_id);

    const shown = await aurora('tasks', 'show', task!.task_id);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/^status:\s+completed$/m);
    expect(shown.stdout.trimEnd().endsWith('hello from the command line')).toBe(true);

    const json = await aurora('run', 'echo', 'as', 'json', '--json');
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ agent: 'echo', status: 'completed', result: 'as json' });
  });

  it('follows the event stream with filters: tail prints the events that match', async () => {
    const tail = spawnCli(['tail', '--types', 'agent.created', '--agents', 'tailed*', '--count', '1', '--json'], { AURORA_URL: server.url });
    await tail.stderrLine((l) => l.startsWith('following '));
    expect((await aurora('agents', 'create', 'other')).code).toBe(0);
    expect((await aurora('agents', 'create', 'tailed-one')).code).toBe(0);
    const result = await tail.done;
    expect(result.code, result.stderr).toBe(0);
    const events = result.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { type: string; agent: string; seq: number });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'agent.created', agent: 'tailed-one' });
  });

  it('pulls a model with progress from model.pull.progress events', async () => {
    const pull = await aurora('models', 'pull', 'mistral:7b');
    expect(pull.code, pull.stderr).toBe(0);
    expect(pull.stdout).toMatch(/^pulled mistral:7b \(/);
    // Not a terminal: one line per step instead of a bar, ending at 100%.
    const progress = pull.stderr.trimEnd().split('\n').filter((l) => l.startsWith('mistral:7b: '));
    expect(progress.length).toBeGreaterThan(1);
    expect(progress.at(-1)).toMatch(/^mistral:7b: 100% /);
    expect(fake.requests.some((r) => r.path === '/api/pull')).toBe(true);

    const shown = await aurora('--json', 'models', 'show', 'mistral:7b');
    expect(JSON.parse(shown.stdout)).toMatchObject({ name: 'mistral:7b', installed: true });
    const loaded = await aurora('models', 'load', 'mistral:7b');
    expect(loaded.code, loaded.stderr).toBe(0);
    const list = await aurora('models', 'list', '--json');
    expect(Object.values((JSON.parse(list.stdout) as { models: Record<string, { name: string }> }).models).map((m) => m.name)).toContain(
      'mistral:7b',
    );
    expect((await aurora('models', 'unload', 'mistral:7b')).code).toBe(0);
  });

  it('lists workflows and answers 404 for an unknown run', async () => {
    const workflows = await aurora('workflows', 'list', '--json');
    expect(workflows.code, workflows.stderr).toBe(0);
    expect(JSON.parse(workflows.stdout)).toEqual([]);
    const run = await aurora('runs', 'show', 'no-such-run');
    expect(run.code).toBe(1);
  });

  it('exits 1 with the server\'s detail for a 404, in words and in JSON', async () => {
    const human = await aurora('tasks', 'show', 'no-such-task');
    expect(human.code).toBe(1);
    expect(human.stdout).toBe('');
    expect(human.stderr).toMatch(/^aurora: .+ \(404\)$/m);
    const json = await aurora('--json', 'agents', 'show', 'nobody');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stderr)).toMatchObject({ error: { status: 404 } });
    const failedRun = await aurora('run', 'nobody', 'hello');
    expect(failedRun.code).toBe(1);
    expect(failedRun.stderr).toContain('agent_not_found');
  });

  it('exits 2 for a usage error and 3 when nothing listens at --url', async () => {
    const usage = await aurora('agents', 'frobnicate');
    expect(usage.code).toBe(2);
    const missing = await aurora('run');
    expect(missing.code).toBe(2);

    const port = await freePort();
    const unreachable = await spawnCli(['--url', `http://127.0.0.1:${port}`, 'agents', 'list']).done;
    expect(unreachable.code).toBe(3);
    expect(unreachable.stderr).toContain(`cannot reach Aurora at http://127.0.0.1:${port}`);
    const streamUnreachable = await spawnCli(['run', 'echo', 'hi'], { AURORA_URL: `http://127.0.0.1:${port}` }).done;
    expect(streamUnreachable.code).toBe(3);
  });
});

describe('aurora token', () => {
  let fake: FakeOllama;
  let dir: TempDir;
  let server: AuroraProcess;

  beforeAll(async () => {
    fake = await startFakeOllama();
    dir = tempDir();
    server = await startAurora({
      DATABASE_PATH: dir.file('aurora.db'),
      OLLAMA_HOST: fake.url,
      AURORA_NAMESPACE: uniqueNamespace('e2e_cli_auth'),
      AUTH_ENABLED: 'true',
      JWT_SECRET,
    });
  });

  afterAll(async () => {
    await server?.stop();
    await fake?.close();
    dir?.remove();
  });

  it('mints a token that a server with AUTH_ENABLED accepts', async () => {
    const minted = await spawnCli(['token', '--sub', 'alice', '--scope', 'agents:read agents:write', '--scope', 'tasks:execute'], { JWT_SECRET }).done;
    expect(minted.code, minted.stderr).toBe(0);
    const token = minted.stdout.trim();
    expect(token.split('.')).toHaveLength(3);

    const denied = await spawnCli(['agents', 'list'], { AURORA_URL: server.url }).done;
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain('(401)');

    const env = { AURORA_URL: server.url, AURORA_TOKEN: token };
    expect((await spawnCli(['agents', 'create', 'guarded'], env).done).code).toBe(0);
    const listed = await spawnCli(['agents', 'list', '--json'], env).done;
    expect(listed.code, listed.stderr).toBe(0);
    expect((JSON.parse(listed.stdout) as { name: string }[]).map((a) => a.name)).toEqual(['guarded']);
    // Without events:read the stream still carries the tasks this token starts.
    const ran = await spawnCli(['run', 'guarded', 'hello there'], env).done;
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout.trim()).not.toBe('');
    // A scope the token lacks: 403, an API error.
    const forbidden = await spawnCli(['--token', token, 'models', 'list'], { AURORA_URL: server.url }).done;
    expect(forbidden.code).toBe(1);
    expect(forbidden.stderr).toContain('(403)');
  });

  it('refuses to mint without JWT_SECRET or with an unknown scope (usage, exit 2)', async () => {
    expect((await spawnCli(['token', '--sub', 'alice', '--scope', 'admin']).done).code).toBe(2);
    const unknown = await spawnCli(['token', '--sub', 'alice', '--scope', 'root'], { JWT_SECRET }).done;
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown scope: root');
  });
});
