// `npm run soak [-- --minutes 30]`: Aurora under mixed load for a long while (issue 18), not in CI.
// Aurora runs as `npm start` would (its own process, NATS on a private nats-server, the fake
// Ollama with a little latency); this process drives it: task submits and executes, WebSocket
// subscribers that come and go, agents created and deleted, injected faults (agent crashes, Ollama
// errors), and a NATS restart at the middle. Every minute it samples the server's RSS, heap, file
// descriptors, sockets, SQLite and WAL size; at the end it checks every acknowledged task's outcome
// (none lost, none left running) and prints the table and the slopes after warm-up as Markdown.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readlinkSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { startFakeOllama } from '../test/fixtures/fake-ollama.js';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const MINUTES = arg('minutes', 30);
const CLIENTS = arg('clients', 16);
const AGENTS = arg('agents', 8);
const WARMUP_MINUTES = Math.min(5, Math.floor(MINUTES / 3));
const AURORA_BIN = fileURLToPath(new URL('../bin/aurora.js', import.meta.url));

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
let stopping = false;

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** A nats-server of our own (own port, own store dir): the shared one is never touched. */
async function privateNats(dir: string) {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    const proc = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-sd', join(dir, 'nats')], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    await new Promise<void>((resolve, reject) => {
      proc.once('exit', () => reject(new Error('nats-server exited at start')));
      createInterface({ input: proc.stderr! }).on('line', (l) => l.includes('Server is ready') && resolve());
    });
  };
  const kill = async () => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGKILL');
    await exited;
  };
  await start();
  return { url: `nats://127.0.0.1:${port}`, start, kill };
}

async function startServer(env: Record<string, string>): Promise<{ proc: ChildProcess; url: string; logs: string[] }> {
  const proc = spawn(process.execPath, ['--max-semi-space-size=32', AURORA_BIN], {
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const logs: string[] = [];
  const port = await new Promise<number>((resolve, reject) => {
    proc.once('exit', (code) => reject(new Error(`aurora exited (${code}):\n${logs.slice(-20).join('\n')}`)));
    createInterface({ input: proc.stderr! }).on('line', (line) => {
      logs.push(line);
      if (logs.length > 500) logs.shift();
      try {
        const l = JSON.parse(line) as { msg?: string; port?: number };
        if (l.msg === 'gateway listening' && typeof l.port === 'number') resolve(l.port);
      } catch {
        // not JSON
      }
    });
  });
  return { proc, url: `http://127.0.0.1:${port}`, logs };
}

async function http(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  try {
    const res = await fetch(base + path, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      ...(body !== undefined && { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(180_000),
    });
    const text = await res.text();
    let parsed: Record<string, unknown> = {};
    try {
      parsed = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // /metrics
      parsed = { text };
    }
    return { status: res.status, body: parsed };
  } catch (err) {
    return { status: 0, body: { detail: String(err) } };
  }
}

interface Sample {
  minute: number;
  rssMb: number;
  heapMb: number;
  fds: number;
  sockets: number;
  dbMb: number;
  walMb: number;
  tasks: number;
  statuses: string;
}

function sample(pid: number, dbPath: string, heapBytes: number, minute: number, tasks: number, statuses: Map<number, number>): Sample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const fdDir = `/proc/${pid}/fd`;
  let fds = 0;
  let sockets = 0;
  for (const fd of readdirSync(fdDir)) {
    fds++;
    try {
      if (readlinkSync(join(fdDir, fd)).startsWith('socket:')) sockets++;
    } catch {
      // closed meanwhile
    }
  }
  const size = (p: string) => {
    try {
      return statSync(p).size / 1_048_576;
    } catch {
      return 0;
    }
  };
  return {
    minute,
    rssMb: rssKb / 1024,
    heapMb: heapBytes / 1_048_576,
    fds,
    sockets,
    dbMb: size(dbPath),
    walMb: size(`${dbPath}-wal`),
    tasks,
    statuses: [...statuses].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}:${n}`).join(' '),
  };
}

/** Least-squares slope per minute of `ys` over `xs`. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'aurora-soak-'));
  const dbPath = join(dir, 'soak.db');
  const fake = await startFakeOllama({ latencyMs: 50 });
  const nats = await privateNats(dir);
  const server = await startServer({
    NATS_URL: nats.url,
    DATABASE_PATH: dbPath,
    OLLAMA_HOST: fake.url,
    FAULT_INJECTION_ENABLED: 'true',
    AURORA_NAMESPACE: `soak_${process.pid}`,
  });
  const base = server.url;
  const pid = server.proc.pid!;
  console.error(`soak: ${MINUTES} min, ${CLIENTS} clients, ${AGENTS} agents, Aurora pid ${pid} at ${base}`);
  for (let i = 0; i < AGENTS; i++) await http(base, 'POST', '/api/v1/agents/', { name: `soak-${i}` });

  const acknowledged = new Set<string>();
  const statuses = new Map<number, number>();
  const count = (s: number) => statuses.set(s, (statuses.get(s) ?? 0) + 1);
  let sent = 0;

  const client = async (n: number) => {
    for (let i = 0; !stopping; i++) {
      const agent = `soak-${(n + i) % AGENTS}`;
      const submit = i % 4 === 0;
      const res = await http(base, 'POST', submit ? '/api/v1/tasks/' : '/api/v1/tasks/execute', { agent, prompt: `soak ${n} ${i}` });
      sent++;
      count(res.status);
      if ((res.status === 200 || res.status === 202) && typeof res.body.task_id === 'string') acknowledged.add(res.body.task_id);
      if (res.status === 0 || res.status >= 500) await sleep(200);
    }
  };
  const subscribers = async () => {
    while (!stopping) {
      const ws = new WebSocket(`${base.replace('http', 'ws')}/api/v1/stream?agents=soak-*`);
      ws.on('error', () => undefined);
      await sleep(1_000 + Math.random() * 9_000);
      ws.close();
    }
  };
  const churn = async () => {
    for (let i = 0; !stopping; i++) {
      await http(base, 'POST', '/api/v1/agents/', { name: `churn-${i}` });
      const res = await http(base, 'POST', '/api/v1/tasks/execute', { agent: `churn-${i}`, prompt: 'churn' });
      if ((res.status === 200 || res.status === 202) && typeof res.body.task_id === 'string') acknowledged.add(res.body.task_id);
      await http(base, 'DELETE', `/api/v1/agents/churn-${i}`);
      await sleep(5_000);
    }
  };
  const faults = async () => {
    for (let i = 0; !stopping; i++) {
      await sleep(30_000);
      if (stopping) break;
      if (i % 2 === 0) await http(base, 'POST', `/api/v1/agents/soak-${i % AGENTS}/fault`);
      else fake.setFault({ kind: 'http500', times: 20 });
    }
  };
  const natsRestart = async () => {
    await sleep((MINUTES * 60_000) / 2);
    if (stopping) return;
    console.error('soak: killing NATS for 3 s');
    await nats.kill();
    await sleep(3_000);
    await nats.start();
  };

  const work = [
    ...Array.from({ length: CLIENTS }, (_, n) => client(n)),
    ...Array.from({ length: 4 }, () => subscribers()),
    churn(),
    faults(),
    natsRestart(),
  ];
  const samples: Sample[] = [];
  for (let minute = 1; minute <= MINUTES; minute++) {
    await sleep(60_000);
    const metrics = await http(base, 'GET', '/metrics');
    const heap = Number(/^aurora_nodejs_heap_size_used_bytes (\S+)/m.exec(String(metrics.body.text ?? ''))?.[1] ?? 0);
    const s = sample(pid, dbPath, heap, minute, sent, statuses);
    samples.push(s);
    console.error(JSON.stringify(s));
  }
  stopping = true;
  await Promise.all(work);

  // Every acknowledged task must have an outcome: none lost, none left running.
  await sleep(5_000);
  const outcomes = new Map<string, number>();
  const bad: string[] = [];
  for (const id of acknowledged) {
    const res = await http(base, 'GET', `/api/v1/tasks/${id}`);
    const status = res.status === 200 ? String(res.body.status) : `http ${res.status}`;
    outcomes.set(status, (outcomes.get(status) ?? 0) + 1);
    if (!['completed', 'failed', 'cancelled'].includes(status)) bad.push(`${id}: ${status}`);
  }
  server.proc.kill('SIGTERM');
  await new Promise((r) => server.proc.once('exit', r));
  await nats.kill();
  await fake.close();
  rmSync(dir, { recursive: true, force: true });

  const after = samples.filter((s) => s.minute > WARMUP_MINUTES);
  const xs = after.map((s) => s.minute);
  const lines = [
    `Soak: ${MINUTES} min, ${CLIENTS} clients, ${AGENTS} agents, ${sent} requests; warm-up ${WARMUP_MINUTES} min`,
    '',
    '| Minute | RSS (MB) | Heap (MB) | FDs | Sockets | SQLite (MB) | WAL (MB) | Requests | Statuses |',
    '|---|---|---|---|---|---|---|---|---|',
    ...samples.map(
      (s) =>
        `| ${s.minute} | ${s.rssMb.toFixed(1)} | ${s.heapMb.toFixed(1)} | ${s.fds} | ${s.sockets} | ${s.dbMb.toFixed(2)} | ${s.walMb.toFixed(2)} | ${s.tasks} | ${s.statuses} |`,
    ),
    '',
    `Slopes after warm-up, per minute: RSS ${slope(xs, after.map((s) => s.rssMb)).toFixed(2)} MB, heap ${slope(xs, after.map((s) => s.heapMb)).toFixed(2)} MB, FDs ${slope(xs, after.map((s) => s.fds)).toFixed(2)}, sockets ${slope(xs, after.map((s) => s.sockets)).toFixed(2)}`,
    `Acknowledged tasks: ${acknowledged.size}; outcomes: ${[...outcomes].map(([k, v]) => `${k} ${v}`).join(', ')}; lost or left running: ${bad.length}`,
    ...bad.slice(0, 20).map((b) => `- ${b}`),
  ];
  console.log(lines.join('\n'));
  process.exitCode = bad.length === 0 ? 0 : 1;
}

await main();
