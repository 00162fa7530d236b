// The API client's socket port (client/stream.ts) over the browser's WebSocket. A browser cannot
// set headers on an upgrade, so the token goes as the `access_token` query parameter, which the
// gateway accepts on the stream only. A refused upgrade is not visible to a page (no status), so
// it surfaces as an error and a close.
import type { SocketFactory } from '../../client/index.js';

export const browserSocket: SocketFactory = (url, token, handlers) => {
  const target = new URL(url);
  if (token !== undefined) target.searchParams.set('access_token', token);
  const ws = new WebSocket(target);
  ws.onopen = () => handlers.open();
  ws.onmessage = (e: MessageEvent) => {
    if (typeof e.data === 'string') handlers.message(e.data);
  };
  ws.onerror = () => handlers.error(new Error('the stream could not be opened (refused, or the server is gone)'));
  ws.onclose = (e: CloseEvent) => handlers.close(e.code, e.reason);
  return {
    send: (text) => ws.send(text),
    close: () => ws.close(),
  };
};
