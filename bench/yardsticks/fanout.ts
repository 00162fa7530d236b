// Yardstick for token streaming (scenario 4): NATS pub/sub → uWS WebSocket pub/sub fan-out, built
// bare. POST /emit {"n": N} publishes N token messages on NATS at once (as the instant provider
// emits N tokens in one go); one NATS subscription hands each message to uWS's topic publish,
// which writes it to every subscribed socket. Messages have the shape and size of Aurora's
// task.token events, and carry their production time for the latency figure.
import { performance } from 'node:perf_hooks';
import { connect } from '@nats-io/transport-node';
import uws from 'uWebSockets.js';
import { serveChild } from '../lib/child.js';
import { listenUws, readBody } from './uws-listen.js';

interface Options {
  natsUrl: string;
  subject: string;
}

const wallMicros = (): number => Math.round((performance.timeOrigin + performance.now()) * 1000);

await serveChild<Options>(async (o) => {
  const nc = await connect({ servers: o.natsUrl, noAsyncTraces: true });
  const app = uws.App();
  const enc = new TextEncoder();
  let seq = 0;
  app.ws('/api/v1/stream', {
    compression: 0,
    maxBackpressure: 64 * 1024 * 1024,
    open: (ws) => {
      ws.subscribe('tokens');
    },
  });
  nc.subscribe(o.subject, {
    callback: (err, msg) => {
      if (!err) app.publish('tokens', msg.data, false);
    },
  });
  app.post('/emit', (res) => {
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    readBody(res, (body) => {
      const { n, task } = JSON.parse(body.toString('utf8')) as { n: number; task: string };
      const time = new Date().toISOString();
      for (let i = 0; i < n; i++) {
        const line = `{"seq":${++seq},"type":"task.token","time":"${time}","agent":"bench-stream","task_id":"${task}","payload":{"token":"${wallMicros()} ","index":${i}}}`;
        nc.publish(o.subject, enc.encode(line));
      }
      if (!aborted) res.cork(() => res.writeHeader('content-type', 'application/json').end(`{"emitted":${n}}`));
    });
  });
  await nc.flush();
  const { port, close } = await listenUws(app);
  return {
    ready: { port, pid: process.pid },
    teardown: async () => {
      close();
      await nc.drain();
    },
  };
});
