// Listening on a free port for the bare uWS yardsticks.
import uws from 'uWebSockets.js';
import type { TemplatedApp } from 'uWebSockets.js';

export function listenUws(app: TemplatedApp, port = 0): Promise<{ port: number; close(): void }> {
  return new Promise((resolve, reject) => {
    app.listen('127.0.0.1', port, (socket) => {
      if (!socket) return reject(new Error('yardstick could not listen'));
      resolve({
        port: uws.us_socket_local_port(socket as unknown as uws.us_socket),
        close: () => uws.us_listen_socket_close(socket),
      });
    });
  });
}

/** Reads a request body (chunks are copied: uWS reuses their memory); calls back once complete. */
export function readBody(res: uws.HttpResponse, done: (body: Buffer) => void): void {
  let chunks: Buffer[] | null = null;
  res.onData((chunk, isLast) => {
    const copy = Buffer.from(new Uint8Array(chunk));
    if (isLast) {
      done(chunks === null ? copy : Buffer.concat([...chunks, copy]));
      return;
    }
    (chunks ??= []).push(copy);
  });
}
