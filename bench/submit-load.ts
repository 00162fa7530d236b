// The async-submit load generator (scenario 11), in its own process: `clients` clients, each with
// its own WebSocket subscribed to the completions of its own agent. A client submits a task
// (POST /api/v1/tasks → 202), waits for that task's task.completed on its socket, and submits the
// next. Measures completed tasks per second and the time from submit to the completion event.
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { serveChild } from './lib/child.js';
import { percentiles, Samples } from './lib/stats.js';

interface Options {
  baseUrl: string;
  wsBase: string;
  /** Agents bench-0 .. bench-(clients-1); one client per agent. */
  clients: number;
  durationS: number;
  warmupS: number;
}

interface Client {
  ws: WebSocket;
  /** Tasks submitted whose completion has not arrived yet. */
  waiting: Map<string, () => void>;
  /** Completions that arrived before the answer to their submit did. */
  early: Set<string>;
}

await serveChild<Options>(async (o) => {
  const clients = await Promise.all(
    Array.from(
      { length: o.clients },
      (_, i) =>
        new Promise<Client>((resolve, reject) => {
          const ws = new WebSocket(`${o.wsBase}?agents=bench-${i}&types=task.completed,task.failed`);
          const client: Client = { ws, waiting: new Map(), early: new Set() };
          ws.on('message', (data: Buffer) => {
            const m = JSON.parse(data.toString('utf8')) as { type?: string; task_id?: string };
            if (m.type === 'subscribed') resolve(client);
            if (m.task_id === undefined) return;
            if (m.type === 'task.failed') throw new Error(`task ${m.task_id} failed`);
            const done = client.waiting.get(m.task_id);
            if (done === undefined) client.early.add(m.task_id);
            else {
              client.waiting.delete(m.task_id);
              done();
            }
          });
          ws.once('error', reject);
        }),
    ),
  );

  const body = (i: number) => JSON.stringify({ agent: `bench-${i}`, prompt: `async ${i}` });
  // node:http with keep-alive rather than fetch: fetch costs the load generator about a millisecond
  // of CPU per request, which would make this measure the client.
  const agent = new Agent({ keepAlive: true, maxSockets: o.clients });
  const url = new URL(`${o.baseUrl}/api/v1/tasks`);
  const submit = (payload: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const req = request(
        { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if (res.statusCode !== 202) return reject(new Error(`submit answered ${res.statusCode}: ${text}`));
            resolve((JSON.parse(text) as { task_id: string }).task_id);
          });
        },
      );
      req.once('error', reject);
      req.end(payload);
    });

  const drive = async (seconds: number, latencies: Samples | null): Promise<number> => {
    const until = performance.now() + seconds * 1000;
    let completed = 0;
    const started = performance.now();
    await Promise.all(
      clients.map(async (c, i) => {
        while (performance.now() < until) {
          const t0 = performance.now();
          const task_id = await submit(body(i));
          // The completion may have arrived before the answer to the submit did.
          if (!c.early.delete(task_id)) await new Promise<void>((resolve) => c.waiting.set(task_id, resolve));
          latencies?.push(performance.now() - t0);
          completed++;
        }
      }),
    );
    return completed / ((performance.now() - started) / 1000);
  };

  return {
    commands: {
      run: async () => {
        if (o.warmupS > 0) await drive(o.warmupS, null);
        const latencies = new Samples();
        const rate = await drive(o.durationS, latencies);
        const [p50, p99] = percentiles(latencies.values(), [0.5, 0.99]);
        return { rate, p50Ms: p50, p99Ms: p99 };
      },
    },
    teardown: () => {
      for (const c of clients) c.ws.terminate();
      agent.destroy();
    },
  };
});
