// The WebSocket stream's path asked without the upgrade (curl, a browser tab, an SSE client that
// took the wrong URL): 426 saying how to use it, instead of 404. The upgrade itself never reaches
// the router: uWS hands it to the stream (gateway/stream.ts).
import { AuroraError } from '../../runtime/errors.js';
import { route, type Route } from '../router.js';
import { STREAM_PATH } from '../stream-protocol.js';

export const streamRoutes: readonly Route[] = [
  route({
    method: 'GET',
    path: STREAM_PATH,
    scope: 'events:read',
    handler: () =>
      Promise.reject(
        new AuroraError(
          'upgrade_required',
          `${STREAM_PATH} is a WebSocket: connect with a WebSocket client (Upgrade: websocket). ` +
            "For one task's events over plain HTTP use GET /api/v1/tasks/{id}/events (Server-Sent Events)",
          { headers: { upgrade: 'websocket' } },
        ),
      ),
    responses: {},
    summary: 'The WebSocket event stream; without the upgrade: 426 Upgrade Required',
  }),
];
