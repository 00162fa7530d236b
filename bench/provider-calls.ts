// `node dist/bench/provider-calls.js [--calls=N] [--concurrency=C]`: what one streaming chat costs
// the caller's process, against the instant stand-in Ollama (its own process). Three ways, each in a
// fresh process of its own so one's garbage and JIT state do not weigh on the next:
//   fetch     the `ollama` client on its own over the built-in fetch (what the provider used to sit on)
//   provider  Aurora's Ollama provider (its transport, gate, idle timer and NDJSON checks)
//   http      node:http with a keep-alive agent and a hand-written NDJSON read: the floor
// Reports calls/s and CPU (user + system) per call of the calling process. The figures are noisy
// on a shared machine: compare ways within one run.
import { fork } from 'node:child_process';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Ollama } from 'ollama';
import { createOllamaProvider } from '../runtime/providers/ollama.js';
import { startChild } from './lib/child.js';

const WAYS = ['fetch', 'provider', 'http'] as const;
type Way = (typeof WAYS)[number];

interface Figures {
  way: Way;
  callsPerS: number;
  cpuUsPerCall: number;
}

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const hit = args.find((a) => a.startsWith(`--${name}=`));
  return hit === undefined ? fallback : Number(hit.slice(name.length + 3));
};
const CALLS = option('calls', 20_000);
const CONCURRENCY = option('concurrency', 64);
const MESSAGES = [{ role: 'user' as const, content: 'hello 1' }];

function caller(way: Way, url: string): () => Promise<unknown> {
  switch (way) {
    case 'fetch': {
      const client = new Ollama({ host: url });
      return async () => {
        for await (const part of await client.chat({ model: 'llama2', messages: MESSAGES, stream: true })) void part;
      };
    }
    case 'provider': {
      const provider = createOllamaProvider({ host: url, maxConcurrency: CONCURRENCY });
      return () => provider.chat({ model: 'llama2', messages: MESSAGES, signal: new AbortController().signal });
    }
    case 'http': {
      const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
      const { hostname, port } = new URL(url);
      const body = JSON.stringify({ model: 'llama2', messages: MESSAGES, stream: true });
      return () =>
        new Promise<void>((resolve, reject) => {
          const req = http.request(
            { agent, hostname, port, path: '/api/chat', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
            (res) => {
              let text = '';
              res.setEncoding('utf8');
              res.on('data', (d: string) => (text += d));
              res.on('end', () => {
                for (const line of text.split('\n')) if (line !== '') JSON.parse(line);
                resolve();
              });
              res.on('error', reject);
            },
          );
          req.on('error', reject);
          req.end(body);
        });
    }
  }
}

async function measure(call: () => Promise<unknown>, calls: number): Promise<{ callsPerS: number; cpuUsPerCall: number }> {
  let started = 0;
  const worker = async () => {
    while (started++ < calls) await call();
  };
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const cpu = process.cpuUsage(cpu0);
  const ms = performance.now() - t0;
  return { callsPerS: (calls / ms) * 1000, cpuUsPerCall: (cpu.user + cpu.system) / calls };
}

/** One way, in this process (forked with --way=… --url=…): warm up, measure, print JSON. */
async function runWay(way: Way, url: string): Promise<void> {
  const call = caller(way, url);
  await measure(call, Math.min(3_000, CALLS));
  const figures: Figures = { way, ...(await measure(call, CALLS)) };
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}

function runInChild(way: Way, url: string): Promise<Figures> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), [`--way=${way}`, `--url=${url}`, `--calls=${CALLS}`, `--concurrency=${CONCURRENCY}`], {
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as Figures) : reject(new Error(`${way} exited with ${code}`))));
  });
}

const wayArg = args.find((a) => a.startsWith('--way='))?.slice(6) as Way | undefined;
if (wayArg !== undefined) {
  await runWay(wayArg, args.find((a) => a.startsWith('--url='))!.slice(6));
  process.exit(0);
}

const standin = await startChild('yardsticks/ollama-standin', {});
try {
  const url = String(standin.ready.url);
  process.stdout.write(`${CALLS} streaming chats, ${CONCURRENCY} at once, against the instant stand-in\n`);
  for (const way of WAYS) {
    const f = await runInChild(way, url);
    process.stdout.write(`${way.padEnd(9)} ${Math.round(f.callsPerS).toString().padStart(6)} calls/s  ${Math.round(f.cpuUsPerCall).toString().padStart(5)} µs CPU per call\n`);
  }
} finally {
  await standin.stop();
}
