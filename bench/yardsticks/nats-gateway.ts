// Yardstick: uWS → NATS request → responder process → reply (scenario 2's ceiling).
//   naive:   parse the body, nc.request() with a fresh JSON payload, await, parse and serialise.
//   careful: the body bytes go to NATS as they are, replies come back on one wildcard inbox
//            subscription (no per-request subscription, promise or timer), matched to their
//            response through a slot table of precomputed reply subjects, and written corked;
//            the client batches its socket writes per tick.
import { connect, createInbox } from '@nats-io/transport-node';
import uws from 'uWebSockets.js';
import type { HttpResponse } from 'uWebSockets.js';
import { serveChild } from '../lib/child.js';
import { listenUws, readBody } from './uws-listen.js';

interface Options {
  natsUrl: string;
  subject: string;
  mode: 'naive' | 'careful';
}

await serveChild<Options>(async (o) => {
  const nc = await connect({ servers: o.natsUrl, noAsyncTraces: true });
  const app = uws.App();
  const dec = new TextDecoder();

  if (o.mode === 'naive') {
    const enc = new TextEncoder();
    app.post('/api/v1/tasks/execute', (res) => {
      let aborted = false;
      res.onAborted(() => {
        aborted = true;
      });
      readBody(res, (body) => {
        const req = JSON.parse(body.toString('utf8')) as unknown;
        nc.request(o.subject, enc.encode(JSON.stringify(req)), { timeout: 10_000 }).then(
          (reply) => {
            if (aborted) return;
            const out = JSON.stringify(JSON.parse(dec.decode(reply.data)));
            res.cork(() => res.writeHeader('content-type', 'application/json').end(out));
          },
          () => {
            if (!aborted) res.cork(() => res.writeStatus('503 Service Unavailable').end());
          },
        );
      });
    });
  } else {
    const inbox = createInbox();
    const slots: Array<HttpResponse | null> = [];
    const subjects: string[] = [];
    const free: number[] = [];
    const aborted: boolean[] = [];
    nc.subscribe(`${inbox}.*`, {
      callback: (err, msg) => {
        if (err) return;
        const slot = Number(msg.subject.slice(inbox.length + 1));
        const res = slots[slot];
        if (res === undefined || res === null) return;
        slots[slot] = null;
        free.push(slot);
        if (aborted[slot]) return;
        const data = msg.data;
        res.cork(() => res.writeHeader('content-type', 'application/json').end(data));
      },
    });
    app.post('/api/v1/tasks/execute', (res) => {
      let slot = free.pop();
      if (slot === undefined) {
        slot = slots.length;
        slots.push(null);
        subjects.push(`${inbox}.${slot}`);
        aborted.push(false);
      }
      const s = slot;
      slots[s] = res;
      aborted[s] = false;
      res.onAborted(() => {
        aborted[s] = true;
      });
      readBody(res, (body) => {
        nc.publish(o.subject, body, { reply: subjects[s]! });
      });
    });
  }
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
