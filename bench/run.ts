// `npm run bench [-- <scenario>... | --smoke]`: measures Aurora against the raw ceiling of its
// own stack. Every scenario runs several rounds, alternating Aurora with its yardstick in the same
// run; each side runs in its own process, the load generator in another. Results: a table on
// stdout, JSON and Markdown in bench/out/.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { startFakeOllama } from '../test/fixtures/fake-ollama.js';
import { measureDashboard } from './dashboard.js';
import { runChild, startChild, type Child } from './lib/child.js';
import { cpuMicros, rssBytes } from './lib/proc.js';
import { startFlags } from './lib/start-flags.js';
import { spread, type Spread } from './lib/stats.js';
import type { LoadOptions, LoadResult } from './load.js';
import type { ServerOptions } from './server.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const args = process.argv.slice(2);
/** `--name=value` options. */
const option = (name: string, fallback: string): string => {
  const hit = args.find((a) => a.startsWith(`--${name}=`));
  return hit === undefined ? fallback : hit.slice(name.length + 3);
};
const SMOKE = args.includes('--smoke') || process.env.BENCH_SMOKE === '1';
const OUT_DIR = option('out', join(ROOT, 'bench', 'out'));
const NATS_URL = option('nats', 'nats://127.0.0.1:4222');
const REDIS_URL = option('redis', 'redis://127.0.0.1:6379');

/** Sizes of a full run and of the smoke pass (a few seconds per scenario, no thresholds). */
const SIZES = SMOKE
  ? { rounds: 1, durationS: 1, warmupS: 0.5, agents: 100, crashes: 500, scaleAgents: 1_000, tokens: 50, coldRounds: 1 }
  : { rounds: 5, durationS: 3, warmupS: 1, agents: 100, crashes: 10_000, scaleAgents: 100_000, tokens: 200, coldRounds: 5 };

// ---------------------------------------------------------------- results

type Target =
  | { kind: 'ratio_min'; value: number } // median Aurora/yardstick ≥ value
  | { kind: 'ratio_max'; value: number } // median Aurora/yardstick ≤ value
  | { kind: 'diff_max'; value: number } // median (Aurora − yardstick) ≤ value
  | { kind: 'max'; value: number } // median Aurora ≤ value
  | { kind: 'min'; value: number }; // median Aurora ≥ value

interface Row {
  scenario: string;
  metric: string;
  unit: string;
  aurora: number[];
  yardstickName?: string;
  yardstick?: number[];
  target?: Target;
}

interface RowResult extends Row {
  auroraSpread: Spread;
  yardstickSpread?: Spread;
  /** Per round: Aurora/yardstick (or Aurora − yardstick for a diff target). */
  perRound?: number[];
  compare?: Spread;
  pass: boolean | null;
}

function evaluate(row: Row): RowResult {
  const auroraSpread = spread(row.aurora);
  const out: RowResult = { ...row, auroraSpread, pass: null };
  if (row.yardstick !== undefined) {
    out.yardstickSpread = spread(row.yardstick);
    const diff = row.target?.kind === 'diff_max';
    out.perRound = row.aurora.map((a, i) => (diff ? a - row.yardstick![i]! : a / row.yardstick![i]!));
    out.compare = spread(out.perRound);
  }
  const t = row.target;
  if (t !== undefined && !SMOKE) {
    const m = t.kind === 'max' || t.kind === 'min' ? auroraSpread.median : out.compare?.median ?? Number.NaN;
    out.pass = t.kind === 'ratio_min' || t.kind === 'min' ? m >= t.value : m <= t.value;
  }
  return out;
}

const fmt = (v: number | undefined): string => {
  if (v === undefined || !Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  if (a >= 1000) return Math.round(v).toLocaleString('en-US');
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toFixed(3);
};
const fmtSpread = (s: Spread | undefined): string => (s === undefined ? '–' : `${fmt(s.min)} / ${fmt(s.median)} / ${fmt(s.max)}`);
const targetText = (t: Target | undefined): string => {
  if (t === undefined) return 'reported';
  switch (t.kind) {
    case 'ratio_min':
      return `ratio ≥ ${t.value}×`;
    case 'ratio_max':
      return `ratio ≤ ${t.value}×`;
    case 'diff_max':
      return `added ≤ ${t.value}`;
    case 'max':
      return `≤ ${t.value}`;
    case 'min':
      return `≥ ${t.value}`;
  }
};

function markdown(results: RowResult[], machine: Record<string, string>, elapsedS: number): string {
  const lines = [
    `# Aurora benchmark results${SMOKE ? ' (smoke pass: tiny sizes, no thresholds)' : ''}`,
    '',
    `Machine: ${Object.entries(machine)
      .map(([k, v]) => `${k} ${v}`)
      .join(' · ')}. Suite time ${elapsedS.toFixed(0)} s; ${SIZES.rounds} round(s) per scenario, Aurora and its yardstick alternating within each round.`,
    '',
    'Aurora and yardstick columns are min / median / max over rounds. "Per round" is Aurora ÷ yardstick (or Aurora − yardstick where the target is an added amount); the target applies to its median.',
    '',
    '| Scenario | Metric | Aurora | Yardstick | Per round | Median | Target | Met |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    const ys = r.yardstickName === undefined ? '–' : `${r.yardstickName}: ${fmtSpread(r.yardstickSpread)}`;
    const per = r.perRound === undefined ? '–' : r.perRound.map(fmt).join(', ');
    const met = r.pass === null ? '–' : r.pass ? 'yes' : '**no**';
    lines.push(
      `| ${r.scenario} | ${r.metric} (${r.unit}) | ${fmtSpread(r.auroraSpread)} | ${ys} | ${per} | ${fmt(r.compare?.median ?? r.auroraSpread.median)} | ${targetText(r.target)} | ${met} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------- helpers

const namespace = (tag: string): string => `bench${tag}${randomBytes(3).toString('hex')}`;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

const taskBodies = (agents: number, prefix = 'bench-'): string[] =>
  Array.from({ length: agents }, (_, i) => JSON.stringify({ agent: `${prefix}${i}`, prompt: `hello ${i}` }));

function load(options: LoadOptions): Promise<LoadResult> {
  return runChild<LoadResult>('load', options as unknown as Record<string, unknown>);
}

function checkLoad(name: string, r: LoadResult): LoadResult {
  if (r.requests === 0 || r.non2xx > r.requests * 0.001 || r.errors > r.requests * 0.001) {
    throw new Error(`${name}: ${r.requests} requests, ${r.non2xx} non-2xx, ${r.errors} errors`);
  }
  return r;
}

async function withChildren<T>(starts: Array<() => Promise<Child>>, body: (children: Child[]) => Promise<T>): Promise<T> {
  const children: Child[] = [];
  try {
    for (const start of starts) children.push(await start());
    return await body(children);
  } finally {
    for (const c of children.reverse()) await c.stop().catch(() => {});
  }
}

/** Node flags of `npm start`: every Aurora process of the suite runs with them. */
const START_FLAGS = startFlags(ROOT);

/** An Aurora process of the suite (bench/server.ts), started with `npm start`'s flags unless told otherwise. */
const aurora =
  (o: Omit<ServerOptions, 'natsUrl' | 'namespace'> & { namespace?: string }, execArgv: string[] = [], nodeFlags = START_FLAGS) =>
  () =>
    startChild(
      'server',
      { natsUrl: NATS_URL, namespace: namespace('a'), ...o },
      { execArgv: [...nodeFlags, ...execArgv], readyTimeoutMs: 300_000 },
    );

const auroraServer = (bus: 'nats' | 'memory', agents: number, execArgv: string[] = [], nodeFlags = START_FLAGS) =>
  aurora({ bus, agents }, execArgv, nodeFlags);

/** AURORA_ROLE=node and AURORA_ROLE=gateway as two processes sharing one namespace (split deployment). */
const splitNamespace = namespace('s');
const auroraNode = (agents: number) => aurora({ bus: 'nats', role: 'node', namespace: splitNamespace, agents });
const auroraGateway = aurora({ bus: 'nats', role: 'gateway', namespace: splitNamespace, agents: 0 });

// ---------------------------------------------------------------- scenarios

type Scenario = () => Promise<Row[]>;

const probe: Scenario = () =>
  withChildren([auroraServer('nats', 0), () => startChild('yardsticks/hello', {})], async ([aurora, hello]) => {
    const a: number[] = [];
    const y: number[] = [];
    const run = (port: unknown) =>
      load({ url: `http://127.0.0.1:${port}/health/live`, method: 'GET', connections: 64, durationS: SIZES.durationS, warmupS: SIZES.warmupS });
    for (let i = 0; i < SIZES.rounds; i++) {
      a.push(checkLoad('aurora probe', await run(aurora!.ready.port)).rps);
      y.push(checkLoad('bare hello', await run(hello!.ready.port)).rps);
    }
    return [{ scenario: '1 probe', metric: 'GET /health/live', unit: 'req/s', aurora: a, yardstickName: 'bare uWS hello', yardstick: y, target: { kind: 'ratio_min', value: 0.8 } }];
  });

const natsExecute: Scenario = () => {
  const subject = `${namespace('y')}.echo`;
  const bodies = taskBodies(SIZES.agents);
  return withChildren(
    [
      auroraServer('nats', SIZES.agents),
      () => startChild('yardsticks/nats-responder', { natsUrl: NATS_URL, subject: `${subject}.c`, mode: 'careful' }),
      () => startChild('yardsticks/nats-gateway', { natsUrl: NATS_URL, subject: `${subject}.c`, mode: 'careful' }),
      () => startChild('yardsticks/nats-responder', { natsUrl: NATS_URL, subject: `${subject}.n`, mode: 'naive' }),
      () => startChild('yardsticks/nats-gateway', { natsUrl: NATS_URL, subject: `${subject}.n`, mode: 'naive' }),
      auroraNode(SIZES.agents),
      auroraGateway,
    ],
    async ([aurora, , careful, , naive, , splitGateway]) => {
      const run = (port: unknown, connections: number, name: string) =>
        load({
          url: `http://127.0.0.1:${port}/api/v1/tasks/execute`,
          method: 'POST',
          bodies,
          connections,
          durationS: SIZES.durationS,
          warmupS: SIZES.warmupS,
        }).then((r) => checkLoad(name, r));
      const rows: Row[] = [];
      for (const connections of [64, 1, 256]) {
        const a: LoadResult[] = [];
        const c: LoadResult[] = [];
        const n: LoadResult[] = [];
        const split: LoadResult[] = [];
        for (let i = 0; i < SIZES.rounds; i++) {
          a.push(await run(aurora!.ready.port, connections, `aurora execute ${connections}c`));
          c.push(await run(careful!.ready.port, connections, `careful yardstick ${connections}c`));
          if (connections === 64) {
            n.push(await run(naive!.ready.port, connections, `naive yardstick ${connections}c`));
            split.push(await run(splitGateway!.ready.port, connections, `aurora gateway+node ${connections}c`));
          }
        }
        const sc = '2 execute over NATS';
        const rps = (rs: LoadResult[]) => rs.map((r) => r.rps);
        if (connections === 64) {
          rows.push(
            { scenario: sc, metric: 'throughput, 64 conn', unit: 'req/s', aurora: rps(a), yardstickName: 'careful uWS→NATS→responder', yardstick: rps(c), target: { kind: 'ratio_min', value: 0.5 } },
            { scenario: sc, metric: 'p99 latency, 64 conn', unit: 'ms', aurora: a.map((r) => r.p99Ms), yardstickName: 'careful', yardstick: c.map((r) => r.p99Ms), target: { kind: 'ratio_max', value: 2 } },
            { scenario: sc, metric: 'throughput vs naive, 64 conn', unit: 'req/s', aurora: rps(a), yardstickName: 'naive uWS→NATS→responder', yardstick: rps(n) },
            { scenario: sc, metric: 'throughput, gateway and node as two processes, 64 conn', unit: 'req/s', aurora: rps(split), yardstickName: 'careful', yardstick: rps(c) },
          );
        } else if (connections === 1) {
          rows.push(
            { scenario: sc, metric: 'p50 latency, 1 conn', unit: 'ms', aurora: a.map((r) => r.p50Ms), yardstickName: 'careful', yardstick: c.map((r) => r.p50Ms), target: { kind: 'diff_max', value: 0.5 } },
            { scenario: sc, metric: 'throughput, 1 conn', unit: 'req/s', aurora: rps(a), yardstickName: 'careful', yardstick: rps(c) },
          );
        } else {
          rows.push(
            { scenario: sc, metric: 'throughput, 256 conn', unit: 'req/s', aurora: rps(a), yardstickName: 'careful', yardstick: rps(c) },
            { scenario: sc, metric: 'p99 latency, 256 conn', unit: 'ms', aurora: a.map((r) => r.p99Ms), yardstickName: 'careful', yardstick: c.map((r) => r.p99Ms) },
          );
        }
      }
      return rows;
    },
  );
};

const embeddedExecute: Scenario = () => {
  const bodies = taskBodies(SIZES.agents);
  return withChildren(
    [auroraServer('memory', SIZES.agents), () => startChild('yardsticks/echo', {}), () => startChild('yardsticks/bare-task', { agents: SIZES.agents })],
    async ([aurora, echo, bare]) => {
      const run = (port: unknown, name: string) =>
        load({ url: `http://127.0.0.1:${port}/api/v1/tasks/execute`, method: 'POST', bodies, connections: 64, durationS: SIZES.durationS, warmupS: SIZES.warmupS }).then((r) =>
          checkLoad(name, r),
        );
      const a: number[] = [];
      const y: number[] = [];
      const b: number[] = [];
      for (let i = 0; i < SIZES.rounds; i++) {
        a.push((await run(aurora!.ready.port, 'aurora embedded execute')).rps);
        y.push((await run(echo!.ready.port, 'bare JSON echo')).rps);
        b.push((await run(bare!.ready.port, 'bare task pipeline')).rps);
      }
      const sc = '3 execute embedded';
      return [
        { scenario: sc, metric: 'throughput, 64 conn', unit: 'req/s', aurora: a, yardstickName: 'bare uWS JSON echo', yardstick: y, target: { kind: 'ratio_min', value: 0.25 } },
        // The floor beside it: the same stack doing a task's mandatory work (actor + row), no Aurora.
        { scenario: sc, metric: 'bare task pipeline (uWS + XState actor + SQLite row) vs JSON echo', unit: 'req/s', aurora: b, yardstickName: 'bare uWS JSON echo', yardstick: y },
        { scenario: sc, metric: 'throughput vs the bare task pipeline', unit: 'req/s', aurora: a, yardstickName: 'bare task pipeline', yardstick: b },
      ];
    },
  );
};

interface StreamResult {
  rate: number;
  p50Ms: number;
  p99Ms: number;
}

const streaming: Scenario = () => {
  const subject = `${namespace('y')}.tokens`;
  return withChildren(
    [auroraServer('nats', 1), () => startChild('yardsticks/fanout', { natsUrl: NATS_URL, subject })],
    async ([aurora, fanout]) => {
      const run = (port: unknown, triggerPath: string, triggerBody: string) =>
        runChild<StreamResult>('ws-load', {
          wsUrl: `ws://127.0.0.1:${port}/api/v1/stream?types=task.token`,
          triggerUrl: `http://127.0.0.1:${port}${triggerPath}`,
          triggerBody,
          tokensPerTrigger: SIZES.tokens,
          subscribers: 100,
          durationS: SIZES.durationS,
          warmupS: SIZES.warmupS,
        });
      const a: StreamResult[] = [];
      const y: StreamResult[] = [];
      for (let i = 0; i < SIZES.rounds; i++) {
        a.push(await run(aurora!.ready.port, '/api/v1/tasks/execute', JSON.stringify({ agent: 'bench-0', prompt: 'stream', parameters: { max_tokens: SIZES.tokens } })));
        y.push(await run(fanout!.ready.port, '/emit', JSON.stringify({ n: SIZES.tokens, task: 'bench' })));
      }
      const sc = '4 token streaming';
      return [
        { scenario: sc, metric: 'token events delivered, 100 subscribers', unit: 'msg/s', aurora: a.map((r) => r.rate), yardstickName: 'bare NATS→uWS pub/sub', yardstick: y.map((r) => r.rate), target: { kind: 'ratio_min', value: 0.5 } },
        { scenario: sc, metric: 'end-to-end token latency p99', unit: 'ms', aurora: a.map((r) => r.p99Ms), yardstickName: 'bare', yardstick: y.map((r) => r.p99Ms) },
        { scenario: sc, metric: 'end-to-end token latency p50', unit: 'ms', aurora: a.map((r) => r.p50Ms), yardstickName: 'bare', yardstick: y.map((r) => r.p50Ms) },
      ];
    },
  );
};

interface LatencyResult {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

const restart: Scenario = () =>
  withChildren(
    [() => startChild('restart', { namespace: namespace('r') }), () => startChild('yardsticks/xstate-restart', {})],
    async ([aurora, raw]) => {
      const a: LatencyResult[] = [];
      const y: LatencyResult[] = [];
      for (let i = 0; i < SIZES.rounds; i++) {
        a.push(await aurora!.ask<LatencyResult>({ cmd: 'run', count: SIZES.crashes }, 300_000));
        y.push(await raw!.ask<LatencyResult>({ cmd: 'run', count: SIZES.crashes }, 300_000));
      }
      const sc = '5 supervisor restart';
      return [
        { scenario: sc, metric: `crash → running p99 over ${SIZES.crashes.toLocaleString('en-US')} crashes`, unit: 'ms', aurora: a.map((r) => r.p99Ms), yardstickName: 'raw XState stop+create+start', yardstick: y.map((r) => r.p99Ms), target: { kind: 'max', value: 1 } },
        { scenario: sc, metric: 'crash → running p50', unit: 'ms', aurora: a.map((r) => r.p50Ms), yardstickName: 'raw XState', yardstick: y.map((r) => r.p50Ms) },
      ];
    },
  );

/** V8 flags the scale servers add to `npm start`'s (the spawn figures weigh memory after a full GC). */
const SCALE_FLAGS = ['--expose-gc', '--max-old-space-size=8192'];

interface ScaleRound {
  rate: number;
  perAgentKb: number;
  executeRps: number;
  /** Resident memory right after the load, before any forced GC. */
  rssAfterLoadMb: number;
}

const scale: Scenario = async () => {
  const subject = `${namespace('y')}.echo`;
  const bodies = taskBodies(SIZES.agents, 'scale-');
  const shipped: ScaleRound[] = [];
  const plainNode: ScaleRound[] = [];
  const executeY: number[] = [];
  const opts = { method: 'POST' as const, bodies, connections: 64, durationS: SIZES.durationS, warmupS: SIZES.warmupS };
  const measure = (nodeFlags: string[]): Promise<ScaleRound> =>
    withChildren([auroraServer('nats', 0, SCALE_FLAGS, nodeFlags)], async ([aurora]) => {
      const s = await aurora!.ask<{ ms: number; rssBefore: number; rssAfter: number }>(
        { cmd: 'spawn', count: SIZES.scaleAgents, prefix: 'scale-', concurrency: 256 },
        600_000,
      );
      const run = checkLoad('aurora execute, all alive', await load({ ...opts, url: `http://127.0.0.1:${aurora!.ready.port}/api/v1/tasks/execute` }));
      return {
        rate: (SIZES.scaleAgents / s.ms) * 1000,
        perAgentKb: (s.rssAfter - s.rssBefore) / SIZES.scaleAgents / 1024,
        executeRps: run.rps,
        rssAfterLoadMb: rssBytes(aurora!.pid) / 1024 / 1024,
      };
    });
  await withChildren(
    [
      () => startChild('yardsticks/nats-responder', { natsUrl: NATS_URL, subject, mode: 'careful' }),
      () => startChild('yardsticks/nats-gateway', { natsUrl: NATS_URL, subject, mode: 'careful' }),
    ],
    async ([, careful]) => {
      for (let i = 0; i < SIZES.rounds; i++) {
        shipped.push(await measure(START_FLAGS));
        executeY.push(checkLoad('careful yardstick', await load({ ...opts, url: `http://127.0.0.1:${careful!.ready.port}/api/v1/tasks/execute` })).rps);
        plainNode.push(await measure([]));
      }
    },
  );
  const sc = `6 scale (${SIZES.scaleAgents.toLocaleString('en-US')} agents)`;
  const plain = "with Node's default young generation (without npm start's flags)";
  return [
    { scenario: sc, metric: 'spawn rate', unit: 'agents/s', aurora: shipped.map((r) => r.rate), target: { kind: 'min', value: 10_000 } },
    { scenario: sc, metric: 'resident memory per agent', unit: 'KB', aurora: shipped.map((r) => r.perAgentKb), target: { kind: 'max', value: 10 } },
    { scenario: sc, metric: 'execute over NATS with all alive, 64 conn', unit: 'req/s', aurora: shipped.map((r) => r.executeRps), yardstickName: 'careful uWS→NATS→responder', yardstick: executeY, target: { kind: 'ratio_min', value: 0.5 } },
    { scenario: sc, metric: 'resident memory right after that load', unit: 'MB', aurora: shipped.map((r) => r.rssAfterLoadMb) },
    { scenario: sc, metric: `execute over NATS with all alive, ${plain}, 64 conn`, unit: 'req/s', aurora: plainNode.map((r) => r.executeRps), yardstickName: 'careful', yardstick: executeY },
    { scenario: sc, metric: `resident memory per agent, ${plain}`, unit: 'KB', aurora: plainNode.map((r) => r.perAgentKb) },
    { scenario: sc, metric: `resident memory right after that load, ${plain}`, unit: 'MB', aurora: plainNode.map((r) => r.rssAfterLoadMb) },
  ];
};

async function pollUntil200(url: string, deadlineMs: number): Promise<void> {
  for (;;) {
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (performance.now() > deadlineMs) throw new Error(`${url} did not answer 200 in time`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Starts `node <nodeArgs>` cold and times spawn → first 200 on `path`; then the idle RSS. */
async function coldStart(nodeArgs: string[], env: NodeJS.ProcessEnv, port: number, path: string): Promise<{ ms: number; rss: number }> {
  const started = performance.now();
  const proc = spawn(process.execPath, nodeArgs, { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  try {
    await pollUntil200(`http://127.0.0.1:${port}${path}`, started + 60_000);
    const ms = performance.now() - started;
    await new Promise((r) => setTimeout(r, 1000));
    return { ms, rss: rssBytes(proc.pid!) };
  } finally {
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }
}

const cold: Scenario = async () => {
  const ollama = await startFakeOllama();
  const a: Array<{ ms: number; rss: number }> = [];
  const y: Array<{ ms: number; rss: number }> = [];
  try {
    for (let i = 0; i < SIZES.coldRounds; i++) {
      const dir = mkdtempSync(join(tmpdir(), 'aurora-bench-cold-'));
      try {
        const port = await freePort();
        const env = {
          PATH: process.env.PATH,
          PORT: String(port),
          HOST: '127.0.0.1',
          NATS_URL,
          REDIS_URL,
          OLLAMA_HOST: ollama.url,
          DATABASE_PATH: join(dir, 'aurora.db'),
          AURORA_NAMESPACE: namespace('c'),
          LOG_LEVEL: 'warn',
        };
        a.push(await coldStart([...START_FLAGS, 'dist/bin/aurora.js'], env, port, '/health/ready'));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      const port = await freePort();
      y.push(await coldStart(['dist/bench/yardsticks/hello.js', JSON.stringify({ port })], { PATH: process.env.PATH }, port, '/health/live'));
    }
  } finally {
    await ollama.stop();
  }
  const sc = '7 cold start';
  return [
    { scenario: sc, metric: 'npm start (node dist/bin/aurora.js with its flags) → /health/ready 200', unit: 'ms', aurora: a.map((r) => r.ms), yardstickName: 'bare uWS hello → 200', yardstick: y.map((r) => r.ms) },
    { scenario: sc, metric: 'idle RSS', unit: 'MB', aurora: a.map((r) => r.rss / 1024 / 1024), yardstickName: 'bare uWS hello', yardstick: y.map((r) => r.rss / 1024 / 1024) },
  ];
};

/**
 * One agent, 64 clients, a provider that takes 20 ms per call and serves calls in parallel (as
 * Ollama does with OLLAMA_NUM_PARALLEL): what an agent's parallel slots buy. The same process
 * serves an agent with max_concurrency 4 and one with 1, measured alternately.
 */
const slots: Scenario = () =>
  withChildren([aurora({ bus: 'memory', agents: 0, slotAgents: [1, 4], providerLatencyMs: 20 })], async ([server]) => {
    const run = (agent: string) =>
      load({
        url: `http://127.0.0.1:${server!.ready.port}/api/v1/tasks/execute`,
        method: 'POST',
        bodies: [JSON.stringify({ agent, prompt: 'hello' })],
        connections: 64,
        // With one slot a client waits 64 × 20 ms for each answer, so the window must hold many of
        // them. No warm-up run: its abandoned requests would still be queued in the agent's
        // mailbox and eat the start of the measured window.
        durationS: SMOKE ? 3 : 6,
        warmupS: 0,
      }).then((r) => checkLoad(`${agent} execute`, r));
    const four: number[] = [];
    const one: number[] = [];
    for (let i = 0; i < SIZES.rounds; i++) {
      four.push((await run('slots-4')).rps);
      one.push((await run('slots-1')).rps);
    }
    return [
      {
        scenario: '8 parallel slots',
        metric: 'one agent, 64 clients, 20 ms provider: max_concurrency 4 vs 1',
        unit: 'req/s',
        aurora: four,
        yardstickName: 'the same agent kind with max_concurrency 1',
        yardstick: one,
        target: { kind: 'ratio_min', value: 3.5 },
      },
    ];
  });

interface SubmitResult {
  rate: number;
  p50Ms: number;
  p99Ms: number;
}

/** 64 clients, each submitting a task (202) and waiting for its task.completed on its own socket. */
const asyncSubmit: Scenario = () =>
  withChildren([auroraServer('nats', 64)], async ([server]) => {
    const r: SubmitResult[] = [];
    for (let i = 0; i < SIZES.rounds; i++) {
      r.push(
        await runChild<SubmitResult>('submit-load', {
          baseUrl: `http://127.0.0.1:${server!.ready.port}`,
          wsBase: `ws://127.0.0.1:${server!.ready.port}/api/v1/stream`,
          clients: 64,
          durationS: SIZES.durationS,
          warmupS: SIZES.warmupS,
        }),
      );
    }
    const sc = '11 async submit + completion event';
    return [
      { scenario: sc, metric: 'tasks completed, 64 clients over NATS', unit: 'tasks/s', aurora: r.map((x) => x.rate) },
      { scenario: sc, metric: 'submit → task.completed on the socket, p50', unit: 'ms', aurora: r.map((x) => x.p50Ms) },
      { scenario: sc, metric: 'submit → task.completed on the socket, p99', unit: 'ms', aurora: r.map((x) => x.p99Ms) },
    ];
  });

/**
 * One page of a large registry against one agent: GET /api/v1/agents/?limit=100 with 100,000 agents
 * alive, alternating with GET /api/v1/agents/bench-0 on the same server. The page walks an index
 * (keyset, no OFFSET) and serialises 100 records, so it may cost at most twice one record.
 */
const listAgents: Scenario = () =>
  withChildren([auroraServer('nats', 0, SCALE_FLAGS)], async ([server]) => {
    await server!.ask({ cmd: 'spawn', count: SIZES.scaleAgents, prefix: 'bench-', concurrency: 256 }, 600_000);
    const base = `http://127.0.0.1:${server!.ready.port}`;
    const run = (path: string) =>
      load({ url: `${base}${path}`, method: 'GET', connections: 64, durationS: SIZES.durationS, warmupS: SIZES.warmupS }).then((r) =>
        checkLoad(`GET ${path}`, r),
      );
    const page: LoadResult[] = [];
    const one: LoadResult[] = [];
    const small: LoadResult[] = [];
    for (let i = 0; i < SIZES.rounds; i++) {
      page.push(await run('/api/v1/agents/?limit=100'));
      one.push(await run('/api/v1/agents/bench-0'));
      small.push(await run('/api/v1/agents/?limit=10'));
    }
    const sc = `10 list agents (${SIZES.scaleAgents.toLocaleString('en-US')} agents)`;
    return [
      {
        scenario: sc,
        metric: 'GET /api/v1/agents/?limit=100, 64 conn',
        unit: 'req/s',
        aurora: page.map((r) => r.rps),
        yardstickName: 'GET /api/v1/agents/{name}',
        yardstick: one.map((r) => r.rps),
        target: { kind: 'ratio_min', value: 0.5 },
      },
      {
        // Beside the target: how much of a page's cost is per request and how much per agent.
        scenario: sc,
        metric: 'GET /api/v1/agents/?limit=10, 64 conn',
        unit: 'req/s',
        aurora: small.map((r) => r.rps),
        yardstickName: 'GET /api/v1/agents/{name}',
        yardstick: one.map((r) => r.rps),
      },
      {
        scenario: sc,
        metric: 'p99 latency of the 100-agent page, 64 conn',
        unit: 'ms',
        aurora: page.map((r) => r.p99Ms),
        yardstickName: 'GET /api/v1/agents/{name}',
        yardstick: one.map((r) => r.p99Ms),
      },
    ];
  });

/**
 * Tasks whose agents call Ollama over HTTP: Aurora embedded, 64 agents, the production provider
 * pointed at a stand-in Ollama process that answers at once, against a bare uWS server that makes
 * one keep-alive node:http call per request to the same stand-in. What the provider path costs
 * (client, transport, gate, checks) counts here; with the instant provider of scenario 3 it does not.
 */
const httpOllama: Scenario = () => {
  const agents = 64;
  const bodies = taskBodies(agents);
  return withChildren([() => startChild('yardsticks/ollama-standin', {})], ([standin]) => {
    const ollamaUrl = String(standin!.ready.url);
    return withChildren(
      [aurora({ bus: 'memory', agents, ollamaUrl }), () => startChild('yardsticks/ollama-relay', { ollamaUrl })],
      async ([server, relay]) => {
        const run = (port: unknown, name: string) =>
          load({ url: `http://127.0.0.1:${port}/api/v1/tasks/execute`, method: 'POST', bodies, connections: 64, durationS: SIZES.durationS, warmupS: SIZES.warmupS }).then(
            (r) => checkLoad(name, r),
          );
        const a: LoadResult[] = [];
        const y: LoadResult[] = [];
        for (let i = 0; i < SIZES.rounds; i++) {
          a.push(await run(server!.ready.port, 'aurora execute over HTTP Ollama'));
          y.push(await run(relay!.ready.port, 'uWS → keep-alive HTTP → stand-in'));
        }
        const sc = '9 execute over HTTP Ollama';
        return [
          {
            scenario: sc,
            metric: 'throughput, 64 agents, 64 conn',
            unit: 'req/s',
            aurora: a.map((r) => r.rps),
            yardstickName: 'bare uWS → keep-alive node:http → stand-in',
            yardstick: y.map((r) => r.rps),
            target: { kind: 'ratio_min', value: 0.5 },
          },
          { scenario: sc, metric: 'p99 latency, 64 conn', unit: 'ms', aurora: a.map((r) => r.p99Ms), yardstickName: 'bare', yardstick: y.map((r) => r.p99Ms) },
        ];
      },
    );
  });
};

// ---------------------------------------------------------------- workflows

/** One HTTP call from the suite, answered JSON; anything but `expect` throws with the body. */
async function http<T = Record<string, unknown>>(method: string, url: string, body: unknown, expect: number): Promise<T> {
  const res = await fetch(url, {
    method,
    ...(body !== undefined && { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (res.status !== expect) throw new Error(`${method} ${url}: HTTP ${res.status} (wanted ${expect}) ${text.slice(0, 500)}`);
  return JSON.parse(text) as T;
}

const WF_STEPS = 8;
const WF_CONNECTIONS = 64;

/**
 * What a workflow adds per step: a `sequence` of 8 agent steps on 8 instant-provider agents, run
 * with mode wait over HTTP (64 connections, so 64 runs at once), against tasks sent directly to the
 * same 8 agents (POST /api/v1/tasks/execute, 64 connections, round-robin). Aurora's process CPU
 * (/proc utime + stime, all threads) per step against per direct task, same process, same round.
 * A run is itself a task (of wf.<name>) plus its 8 steps' tasks, each step recorded twice (task
 * row and step row): the figure counts all of it.
 */
const workflowOverhead: Scenario = () =>
  withChildren([aurora({ bus: 'memory', agents: WF_STEPS })], async ([server]) => {
    const base = `http://127.0.0.1:${server!.ready.port}`;
    const steps = Array.from({ length: WF_STEPS }, (_, i) => ({
      type: 'agent',
      id: `s${i}`,
      agent: `bench-${i}`,
      input: i === 0 ? 'hello {{ input.topic }}' : `hello ${i} {{ steps.s${i - 1}.output }}`,
    }));
    await http('POST', `${base}/api/v1/workflows`, { name: 'seq8', description: 'bench', graph: { type: 'sequence', id: 'main', steps } }, 201);
    const runBody = JSON.stringify({ input: { topic: 'otters' }, mode: 'wait' });
    const sides = {
      workflow: { url: `${base}/api/v1/workflows/seq8/runs`, bodies: [runBody], stepsPerRequest: WF_STEPS },
      direct: { url: `${base}/api/v1/tasks/execute`, bodies: taskBodies(WF_STEPS), stepsPerRequest: 1 },
    };
    const measure = async (side: keyof typeof sides) => {
      const { url, bodies, stepsPerRequest } = sides[side];
      const opts = { url, method: 'POST' as const, bodies, connections: WF_CONNECTIONS };
      // Warm-up on its own, then a pause: requests it left in flight finish before the CPU is read.
      await load({ ...opts, durationS: SIZES.warmupS, warmupS: 0 });
      await new Promise((r) => setTimeout(r, 500));
      const cpu0 = cpuMicros(server!.pid);
      const r = checkLoad(`${side} side`, await load({ ...opts, durationS: SIZES.durationS, warmupS: 0 }));
      const cpu = cpuMicros(server!.pid) - cpu0;
      const steps = r.requests * stepsPerRequest;
      return { cpuPerStepUs: cpu / steps, perS: steps / SIZES.durationS, p50Ms: r.p50Ms };
    };
    const wf: Array<{ cpuPerStepUs: number; perS: number; p50Ms: number }> = [];
    const direct: typeof wf = [];
    for (let i = 0; i < SIZES.rounds; i++) {
      wf.push(await measure('workflow'));
      direct.push(await measure('direct'));
    }
    // mode wait answers 200 whatever the run's outcome: every run must have completed.
    const failed = await http<{ runs: unknown[] }>('GET', `${base}/api/v1/runs?workflow=seq8&status=failed&limit=1`, undefined, 200);
    if (failed.runs.length > 0) throw new Error(`a run of seq8 failed: ${JSON.stringify(failed.runs[0]).slice(0, 500)}`);
    const sc = '12 workflow overhead';
    const what = `sequence of ${WF_STEPS} agent steps, mode wait, ${WF_CONNECTIONS} conn`;
    return [
      {
        scenario: sc,
        metric: `Aurora CPU per step, ${what}`,
        unit: 'µs',
        aurora: wf.map((r) => r.cpuPerStepUs),
        yardstickName: 'CPU per direct task (POST /api/v1/tasks/execute on the same 8 agents)',
        yardstick: direct.map((r) => r.cpuPerStepUs),
        target: { kind: 'ratio_max', value: 1.5 },
      },
      { scenario: sc, metric: `steps completed, ${what}`, unit: 'steps/s', aurora: wf.map((r) => r.perS), yardstickName: 'direct tasks', yardstick: direct.map((r) => r.perS) },
      {
        scenario: sc,
        metric: `p50 latency of a whole run (${WF_STEPS} steps) against one direct task, ${WF_CONNECTIONS} conn`,
        unit: 'ms',
        aurora: wf.map((r) => r.p50Ms),
        yardstickName: 'direct task',
        yardstick: direct.map((r) => r.p50Ms),
      },
    ];
  });

/**
 * A 1,000-item `map` (max_concurrency 64) over the instant provider, run with mode wait several
 * times in a row on one server: every run completes, and memory is flat. Per round, 5 runs:
 * resident memory and the V8 heap (both after a full GC) after the round's last run against after
 * its first; the peak during the runs; and reading back the run's record (1,000 step rows).
 */
const workflowMap: Scenario = () =>
  withChildren([aurora({ bus: 'memory', agents: 1 }, ['--expose-gc'])], async ([server]) => {
    const base = `http://127.0.0.1:${server!.ready.port}`;
    const items = SMOKE ? 200 : 1_000;
    const runsPerRound = SMOKE ? 2 : 5;
    const graph = { type: 'map', id: 'each', items: 'input.items', max_concurrency: 64, node: { type: 'agent', id: 'one', agent: 'bench-0', input: 'summarise {{ item }}' } };
    await http('POST', `${base}/api/v1/workflows`, { name: 'map1000', description: 'bench', graph }, 201);
    const input = { items: Array.from({ length: items }, (_, i) => `item number ${i}`) };
    const mem = () => server!.ask<{ rss: number; heapUsed: number }>({ cmd: 'mem' });
    /** Median latency of `n` sequential GETs of `url`. */
    const getLatency = async (url: string, n: number): Promise<number> => {
      const ms: number[] = [];
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        await http('GET', url, undefined, 200);
        ms.push(performance.now() - t0);
      }
      return spread(ms).median;
    };
    const oneTask = await http<{ task_id: string }>('POST', `${base}/api/v1/tasks/execute`, { agent: 'bench-0', prompt: 'hello' }, 200);
    const rounds: Array<{ rssFirst: number; rssLast: number; heapFirst: number; heapLast: number; peak: number; itemsPerS: number; getRunMs: number; getTaskMs: number }> = [];
    for (let r = 0; r < SIZES.rounds; r++) {
      const after: Array<{ rss: number; heapUsed: number }> = [];
      let peak = 0;
      let itemsPerS = 0;
      let runId = '';
      for (let k = 0; k < runsPerRound; k++) {
        const sampler = setInterval(() => {
          peak = Math.max(peak, rssBytes(server!.pid));
        }, 25);
        const t0 = performance.now();
        try {
          const res = await http<{ run_id: string; status: string; steps: unknown[]; output: unknown[] }>('POST', `${base}/api/v1/workflows/map1000/runs`, { input, mode: 'wait' }, 200);
          if (res.status !== 'completed' || res.steps.length !== items || res.output.length !== items) {
            throw new Error(`map run ended ${res.status} with ${res.steps.length} steps and ${res.output.length} outputs`);
          }
          runId = res.run_id;
        } finally {
          clearInterval(sampler);
        }
        itemsPerS = items / ((performance.now() - t0) / 1000);
        after.push(await mem());
      }
      rounds.push({
        rssFirst: after[0]!.rss,
        rssLast: after.at(-1)!.rss,
        heapFirst: after[0]!.heapUsed,
        heapLast: after.at(-1)!.heapUsed,
        peak,
        itemsPerS,
        getRunMs: await getLatency(`${base}/api/v1/runs/${runId}`, 20),
        getTaskMs: await getLatency(`${base}/api/v1/tasks/${oneTask.task_id}`, 20),
      });
    }
    const MB = 1024 * 1024;
    const sc = '13 workflow map';
    const what = `${items.toLocaleString('en-US')}-item map, max_concurrency 64, ${runsPerRound} runs`;
    return [
      {
        scenario: sc,
        metric: `resident memory after a full GC after the last of ${what}`,
        unit: 'MB',
        aurora: rounds.map((x) => x.rssLast / MB),
        yardstickName: 'after the first run',
        yardstick: rounds.map((x) => x.rssFirst / MB),
        target: { kind: 'ratio_max', value: 1.1 },
      },
      {
        scenario: sc,
        metric: `V8 heap used after a full GC after the last of ${what}`,
        unit: 'MB',
        aurora: rounds.map((x) => x.heapLast / MB),
        yardstickName: 'after the first run',
        yardstick: rounds.map((x) => x.heapFirst / MB),
      },
      {
        // Beside the per-round figure: the first run of the scenario against its very last one.
        scenario: sc,
        metric: `resident memory after a full GC after the last of all ${SIZES.rounds * runsPerRound} runs`,
        unit: 'MB',
        aurora: [rounds.at(-1)!.rssLast / MB],
        yardstickName: 'after the first run',
        yardstick: [rounds[0]!.rssFirst / MB],
      },
      {
        scenario: sc,
        metric: `V8 heap used after a full GC after the last of all ${SIZES.rounds * runsPerRound} runs`,
        unit: 'MB',
        aurora: [rounds.at(-1)!.heapLast / MB],
        yardstickName: 'after the first run',
        yardstick: [rounds[0]!.heapFirst / MB],
      },
      { scenario: sc, metric: `peak resident memory during ${what}`, unit: 'MB', aurora: rounds.map((x) => x.peak / MB) },
      { scenario: sc, metric: `items completed, the last of ${what}`, unit: 'items/s', aurora: rounds.map((x) => x.itemsPerS) },
      {
        scenario: sc,
        metric: `GET /api/v1/runs/{id} of a run with ${items.toLocaleString('en-US')} steps, median of 20`,
        unit: 'ms',
        aurora: rounds.map((x) => x.getRunMs),
        yardstickName: 'GET /api/v1/tasks/{id}',
        yardstick: rounds.map((x) => x.getTaskMs),
      },
    ];
  });

/** The dashboard's first visit: its gzipped size and the time to its first meaningful render. */
const dashboard: Scenario = async () => {
  const ollama = await startFakeOllama();
  const dir = mkdtempSync(join(tmpdir(), 'aurora-bench-ui-'));
  const port = await freePort();
  const env = {
    PATH: process.env.PATH,
    PORT: String(port),
    HOST: '127.0.0.1',
    OLLAMA_HOST: ollama.url,
    DATABASE_PATH: join(dir, 'aurora.db'),
    AURORA_NAMESPACE: namespace('u'),
    LOG_LEVEL: 'warn',
  };
  const proc = spawn(process.execPath, [...START_FLAGS, 'dist/bin/aurora.js'], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  try {
    const base = `http://127.0.0.1:${port}`;
    await pollUntil200(`${base}/health/ready`, performance.now() + 60_000);
    const r = await measureDashboard(base, SIZES.coldRounds);
    const sc = '14 dashboard';
    return [
      { scenario: sc, metric: 'first load (page, script, style), gzipped', unit: 'KB', aurora: r.map((x) => x.firstLoadGzipKb), target: { kind: 'max', value: 250 } },
      { scenario: sc, metric: 'navigation → first meaningful render (readiness on screen), cold cache', unit: 'ms', aurora: r.map((x) => x.firstRenderMs) },
    ];
  } finally {
    proc.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
    await ollama.stop();
  }
};

const SCENARIOS: Record<string, Scenario> = {
  probe,
  'execute-nats': natsExecute,
  'execute-embedded': embeddedExecute,
  streaming,
  restart,
  scale,
  'cold-start': cold,
  slots,
  'async-submit': asyncSubmit,
  'list-agents': listAgents,
  'execute-http-ollama': httpOllama,
  'workflow-overhead': workflowOverhead,
  'workflow-map': workflowMap,
  dashboard,
};
const ALIASES: Record<string, string> = {
  '1': 'probe',
  '2': 'execute-nats',
  '3': 'execute-embedded',
  '4': 'streaming',
  '5': 'restart',
  '6': 'scale',
  '7': 'cold-start',
  '8': 'slots',
  '9': 'execute-http-ollama',
  '10': 'list-agents',
  '11': 'async-submit',
  '12': 'workflow-overhead',
  '13': 'workflow-map',
  '14': 'dashboard',
};

// ---------------------------------------------------------------- main

function machine(): Record<string, string> {
  const cpu = cpus();
  return {
    nproc: String(cpu.length),
    cpu: cpu[0]?.model.trim() ?? 'unknown',
    memory: `${(totalmem() / 1024 ** 3).toFixed(1)} GiB`,
    node: process.version,
    os: `${process.platform}-${process.arch}`,
  };
}

async function main(): Promise<void> {
  const wanted = args.filter((a) => !a.startsWith('--')).map((a) => ALIASES[a] ?? a);
  for (const w of wanted) {
    if (!Object.hasOwn(SCENARIOS, w)) {
      process.stderr.write(`unknown scenario "${w}"; known: ${Object.keys(SCENARIOS).join(', ')} (or ${Object.keys(ALIASES).join(', ')})\n`);
      process.exit(2);
    }
  }
  const names = wanted.length > 0 ? wanted : Object.keys(SCENARIOS);
  const started = performance.now();
  const results: RowResult[] = [];
  const failures: string[] = [];
  for (const name of names) {
    const t0 = performance.now();
    process.stdout.write(`▶ ${name}${SMOKE ? ' (smoke)' : ''} ...\n`);
    try {
      const rows = (await SCENARIOS[name]!()).map(evaluate);
      results.push(...rows);
      for (const r of rows) {
        const cmp = r.compare === undefined ? '' : `  per round [${r.perRound!.map(fmt).join(', ')}] median ${fmt(r.compare.median)}`;
        const met = r.pass === null ? '' : r.pass ? '  ✓' : `  ✗ (${targetText(r.target)})`;
        process.stdout.write(`  ${r.metric} (${r.unit}): aurora ${fmtSpread(r.auroraSpread)}${r.yardstickName ? ` | ${r.yardstickName} ${fmtSpread(r.yardstickSpread)}` : ''}${cmp}${met}\n`);
      }
    } catch (err) {
      failures.push(name);
      process.stdout.write(`  ✗ ${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    }
    process.stdout.write(`  (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
  }
  const elapsedS = (performance.now() - started) / 1000;
  const info = machine();
  const md = markdown(results, info, elapsedS);
  mkdirSync(OUT_DIR, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const json = JSON.stringify({ smoke: SMOKE, machine: info, elapsedS, sizes: SIZES, scenarios: names, failures, results }, null, 2);
  for (const base of [`results-${stamp}`, 'latest']) {
    writeFileSync(join(OUT_DIR, `${base}.json`), json);
    writeFileSync(join(OUT_DIR, `${base}.md`), md);
  }
  process.stdout.write(`\n${md}\nwritten to ${join(OUT_DIR, "latest")}.{json,md} (${elapsedS.toFixed(0)} s)\n`);
  if (failures.length > 0) {
    process.stdout.write(`scenarios that did not run to the end: ${failures.join(', ')}\n`);
    process.exit(1);
  }
}

await main();
