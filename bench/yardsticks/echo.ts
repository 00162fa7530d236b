// Yardstick: bare uWS JSON echo — read the body, parse it, serialise it back. The ceiling for a
// JSON POST through uWS on this machine (scenario 3).
import uws from 'uWebSockets.js';
import { serveChild } from '../lib/child.js';
import { listenUws, readBody } from './uws-listen.js';

await serveChild<Record<string, never>>(async () => {
  const app = uws.App();
  app.post('/api/v1/tasks/execute', (res) => {
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    readBody(res, (body) => {
      if (aborted) return;
      const out = JSON.stringify(JSON.parse(body.toString('utf8')));
      res.cork(() => {
        res.writeHeader('content-type', 'application/json').end(out);
      });
    });
  });
  const { port, close } = await listenUws(app);
  return { ready: { port, pid: process.pid }, teardown: close };
});
