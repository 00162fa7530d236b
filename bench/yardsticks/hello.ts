// Yardstick: bare uWS hello world on the probe's path, the ceiling for GET /health/live (and,
// started cold on a fixed port, the floor for scenario 7's time to first answer).
import uws from 'uWebSockets.js';
import { serveChild } from '../lib/child.js';
import { listenUws } from './uws-listen.js';

await serveChild<{ port?: number }>(async (o) => {
  const app = uws.App();
  app.get('/health/live', (res) => {
    res.cork(() => {
      res.writeHeader('content-type', 'application/json').end('{"status":"alive"}');
    });
  });
  const { port, close } = await listenUws(app, o.port ?? 0);
  return { ready: { port, pid: process.pid }, teardown: close };
});
