// The client in Node: the stream's socket is the `ws` package's WebSocket (Node 20 has no global
// one), presenting the token as an Authorization header; an upgrade the server refuses becomes an
// AuroraApiError with the server's `detail`.
import WebSocket from 'ws';
import { createAuroraClient, type AuroraClient, type ClientOptions } from './client.js';
import { AuroraApiError } from './errors.js';
import type { SocketFactory } from './stream.js';

/** Bytes of a refused upgrade's body read for its `detail`. */
const MAX_REFUSAL_BYTES = 64 * 1024;

export const wsSocket: SocketFactory = (url, token, handlers) => {
  const ws = new WebSocket(url, {
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    perMessageDeflate: false,
  });
  ws.on('open', () => handlers.open());
  ws.on('message', (data, isBinary) => {
    if (!isBinary) handlers.message(String(data));
  });
  ws.on('close', (code, reason) => handlers.close(code, reason.toString()));
  ws.on('error', (err) => handlers.error(err));
  ws.on('unexpected-response', (req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_REFUSAL_BYTES) chunks.push(chunk);
    });
    res.on('end', () => {
      let detail = res.statusMessage ?? `HTTP ${res.statusCode}`;
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { detail?: unknown };
        if (typeof body.detail === 'string') detail = body.detail;
      } catch {
        // not JSON: the status line says it
      }
      handlers.error(new AuroraApiError(res.statusCode ?? 500, detail));
      req.destroy();
      handlers.close(1006, 'upgrade refused');
    });
  });
  return { send: (text) => ws.send(text), close: () => ws.close() };
};

/** createAuroraClient with the `ws` socket. */
export function createNodeClient(options: Omit<ClientOptions, 'socket'> = {}): AuroraClient {
  return createAuroraClient({ ...options, socket: wsSocket });
}
