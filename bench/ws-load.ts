// The token-stream load generator (scenario 4), in its own process: opens `subscribers`
// WebSockets, then for a fixed time triggers token bursts over HTTP (at most two bursts in flight,
// counted by what the sockets received, so neither side is pushed into dropping slow consumers)
// and counts token messages delivered per second across all sockets. One socket parses every
// message for the end-to-end latency (now − the production time the token carries).
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { serveChild } from './lib/child.js';
import { percentiles, Samples } from './lib/stats.js';

interface Options {
  wsUrl: string;
  triggerUrl: string;
  triggerBody: string;
  tokensPerTrigger: number;
  subscribers: number;
  durationS: number;
  warmupS: number;
}

const wallMicros = (): number => Math.round((performance.timeOrigin + performance.now()) * 1000);

await serveChild<Options>(async (o) => {
  let received = 0;
  let closedEarly = 0;
  let latencies: Samples | null = null;
  let wake: (() => void) | null = null;
  let target = Infinity;
  const sockets = await Promise.all(
    Array.from(
      { length: o.subscribers },
      (_, i) =>
        new Promise<WebSocket>((resolve, reject) => {
          const ws = new WebSocket(o.wsUrl);
          ws.once('open', () => resolve(ws));
          ws.once('error', reject);
          ws.on('close', () => {
            closedEarly++;
            wake?.();
          });
          ws.on('message', (data: Buffer) => {
            received++;
            if (i === 0 && latencies !== null) {
              const m = JSON.parse(data.toString('utf8')) as { type?: string; payload?: { token?: string } };
              if (m.type === 'task.token' && m.payload?.token !== undefined) {
                latencies.push((wallMicros() - Number.parseInt(m.payload.token, 10)) / 1000);
              }
            }
            if (received >= target) wake?.();
          });
        }),
    ),
  );
  // Let the control messages sent at connect time (subscribed) arrive before counting starts.
  await new Promise((r) => setTimeout(r, 200));

  const perTrigger = o.tokensPerTrigger * o.subscribers;
  const waitFor = (count: number): Promise<void> => {
    if (received >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`stream stalled: ${received} of ${count} messages`)), 30_000);
      target = count;
      wake = () => {
        if (closedEarly > 0) {
          clearTimeout(timer);
          wake = null;
          reject(new Error(`${closedEarly} subscriber sockets were closed by the server`));
        } else if (received >= count) {
          clearTimeout(timer);
          wake = null;
          target = Infinity;
          resolve();
        }
      };
    });
  };

  const drive = async (seconds: number): Promise<{ rate: number; triggers: number }> => {
    const base = received;
    const started = performance.now();
    const until = started + seconds * 1000;
    let triggers = 0;
    while (performance.now() < until) {
      if (triggers >= 2) await waitFor(base + (triggers - 1) * perTrigger);
      const res = await fetch(o.triggerUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: o.triggerBody });
      if (res.status !== 200) throw new Error(`trigger answered ${res.status}: ${await res.text()}`);
      await res.arrayBuffer();
      triggers++;
    }
    await waitFor(base + triggers * perTrigger);
    const elapsedS = (performance.now() - started) / 1000;
    return { rate: (received - base) / elapsedS, triggers };
  };

  return {
    commands: {
      run: async () => {
        if (o.warmupS > 0) await drive(o.warmupS);
        latencies = new Samples();
        const { rate, triggers } = await drive(o.durationS);
        const [p50, p99] = percentiles(latencies.values(), [0.5, 0.99]);
        latencies = null;
        return { rate, triggers, p50Ms: p50, p99Ms: p99 };
      },
    },
    teardown: () => {
      for (const ws of sockets) ws.terminate();
    },
  };
});
