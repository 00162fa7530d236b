// The HTTP load generator, in its own process: autocannon against one URL for a fixed time,
// bodies taken round-robin. Latencies are recorded per response with sub-millisecond precision
// (autocannon's own histogram rounds to whole milliseconds).
import autocannon from 'autocannon';
import { serveChild } from './lib/child.js';
import { percentiles, Samples } from './lib/stats.js';

export interface LoadOptions {
  url: string;
  method: 'GET' | 'POST';
  /** Sent round-robin across all connections; none for a GET. */
  bodies?: string[];
  connections: number;
  durationS: number;
  /** Seconds of load before the measured part, to warm the JIT and the pools. */
  warmupS?: number;
}

export interface LoadResult {
  rps: number;
  requests: number;
  non2xx: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

function runOnce(o: LoadOptions, durationS: number, latencies: Samples | null): Promise<LoadResult> {
  const bodies = o.bodies ?? [];
  let next = 0;
  const headers = o.method === 'POST' ? { 'content-type': 'application/json' } : {};
  return new Promise((resolve, reject) => {
    let non2xx = 0;
    const instance = autocannon(
      {
        url: o.url,
        connections: o.connections,
        duration: durationS,
        pipelining: 1,
        method: o.method,
        headers,
        requests: [
          bodies.length === 0
            ? { method: o.method }
            : {
                method: o.method,
                setupRequest: (req: Record<string, unknown>) => {
                  const body = bodies[next]!;
                  next = next + 1 === bodies.length ? 0 : next + 1;
                  return { ...req, body };
                },
              },
        ],
      } as autocannon.Options,
      (err, result) => {
        if (err) return reject(err);
        const [p50, p99, max] = latencies ? percentiles(latencies.values(), [0.5, 0.99, 1]) : [NaN, NaN, NaN];
        resolve({
          rps: result.requests.total / durationS,
          requests: result.requests.total,
          non2xx,
          errors: result.errors + result.timeouts,
          p50Ms: p50!,
          p99Ms: p99!,
          maxMs: max!,
        });
      },
    );
    instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
      if (status < 200 || status > 299) non2xx++;
      else latencies?.push(ms);
    });
  });
}

await serveChild<LoadOptions>(async (options) => ({
  commands: {
    run: async () => {
      if ((options.warmupS ?? 0) > 0) await runOnce(options, options.warmupS!, null);
      const result = await runOnce(options, options.durationS, new Samples());
      return { ...result };
    },
  },
}));
