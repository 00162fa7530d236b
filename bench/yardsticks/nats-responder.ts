// Yardstick responder process: answers requests on one NATS subject.
//   naive:   JSON-decodes the request, builds a result object, JSON-encodes it.
//   careful: echoes the request bytes back untouched (no decode, no allocation of its own).
import { connect } from '@nats-io/transport-node';
import { serveChild } from '../lib/child.js';

interface Options {
  natsUrl: string;
  subject: string;
  mode: 'naive' | 'careful';
}

await serveChild<Options>(async (o) => {
  const nc = await connect({ servers: o.natsUrl, noAsyncTraces: true });
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  nc.subscribe(o.subject, {
    callback: (err, msg) => {
      if (err) return;
      if (o.mode === 'careful') {
        msg.respond(msg.data);
        return;
      }
      const req = JSON.parse(dec.decode(msg.data)) as { agent: string; prompt: string };
      const result = { ok: true, data: { agent: req.agent, result: req.prompt, status: 'completed' } };
      msg.respond(enc.encode(JSON.stringify(result)));
    },
  });
  await nc.flush();
  return { ready: { pid: process.pid }, teardown: () => nc.drain() };
});
