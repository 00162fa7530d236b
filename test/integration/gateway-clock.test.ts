// The gateway keeps time only by the clock it is given: timestamps, request durations and the
// body-read timer all follow a manual clock, which real time never moves.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayDeps } from '../../gateway/deps.js';
import { createDispatcher } from '../../gateway/dispatch.js';
import { route } from '../../gateway/router.js';
import { startGateway, type Gateway } from '../../gateway/server.js';
import { createMemoryBus } from '../../runtime/bus/memory.js';
import { createMemoryCache } from '../../runtime/cache/memory.js';
import { createManualClock, isoAt } from '../../runtime/clock.js';
import { loadConfig } from '../../runtime/config.js';
import { silentLogger } from '../../runtime/logger.js';
import { createMetrics } from '../../runtime/metrics.js';
import { createSubjects } from '../../runtime/subjects.js';
import { rawRequest, requestHead } from '../helpers/raw-http.js';
import { uniqueNamespace } from '../helpers/services.js';
import { TEST_KINDS } from '../helpers/kinds.js';

const START_MS = Date.UTC(2030, 0, 1);
/** Far longer than the test may run: only the manual clock can bring it about. */
const BODY_READ_TIMEOUT_MS = 3_600_000;

const clock = createManualClock(START_MS);
const bus = createMemoryBus();
const namespace = uniqueNamespace('clock');
const deps: GatewayDeps = {
  bus,
  subjects: createSubjects(namespace),
  config: loadConfig({ env: {}, overrides: { namespace, docsEnabled: false, bodyReadTimeoutMs: BODY_READ_TIMEOUT_MS } }),
  kinds: TEST_KINDS,
  metrics: createMetrics({ defaultMetrics: false }),
  logger: silentLogger,
  cache: createMemoryCache(),
  clock,
  startedAt: START_MS,
  version: 'test',
};
let gateway: Gateway;

beforeAll(async () => {
  gateway = await startGateway({ ...deps, host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await gateway?.close();
  await bus.drain();
});

describe('the gateway on a manual clock', () => {
  it('stamps health answers with the clock\'s time', async () => {
    const res = await fetch(`http://127.0.0.1:${gateway.port}/health/`);
    expect(((await res.json()) as { timestamp: string }).timestamp).toBe(isoAt(clock.now()));
  });

  it('measures request durations on the clock\'s monotonic time', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const slow = route({
      method: 'GET',
      path: '/slow',
      handler: async () => {
        clock.advance(1500);
        return { status: 200, body: { status: 'done' } };
      },
      responses: { 200: 'Alive' },
    });
    const dispatcher = createDispatcher({ ...deps, metrics }, { routes: [slow] });
    const out = await dispatcher.begin({ method: 'GET', url: '/slow', query: '', headers: {} }).run(null);
    expect(out.status).toBe(200);
    const { values } = await metrics.httpDuration.get();
    expect(values.find((v) => v.metricName === 'aurora_http_request_duration_seconds_sum')?.value).toBe(1.5);
  });

  it('answers 408 to a body that stalls once the clock, not the wall, passes BODY_READ_TIMEOUT_MS', async () => {
    const head = requestHead('POST', '/api/v1/agents/', [
      ['Content-Type', 'application/json'],
      ['Content-Length', '64'],
    ]);
    let settled = false;
    const exchange = rawRequest(gateway.port, [head, '{"name":'], { timeoutMs: 8_000 }).finally(() => {
      settled = true;
    });
    // The timer is armed once the head has arrived; moving the clock before then does nothing.
    while (!settled) {
      clock.advance(BODY_READ_TIMEOUT_MS);
      await new Promise((resolve) => setImmediate(resolve));
    }
    const outcome = await exchange;
    expect(outcome.responses.map((r) => r.status)).toEqual([408]);
    expect(JSON.parse(outcome.responses[0]!.body.toString())).toEqual({ detail: 'Request body not received in time' });
  });
});
