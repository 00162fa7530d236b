// The provider's HTTP transport on real sockets: connections are kept and reused, a connection the
// server dropped while idle costs no call, and a body that never ends does not hold a socket forever.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpTransport, type ExchangeHooks } from '../../runtime/providers/http-transport.js';
import { createOllamaProvider } from '../../runtime/providers/ollama.js';

interface TestServer {
  url: string;
  connections: number;
  closedConnections: number;
  /** Resolves when `count` connections have closed in all. */
  closed(count: number): Promise<void>;
  close(): Promise<void>;
}

let server: TestServer | null = null;

afterEach(async () => {
  await server?.close();
  server = null;
});

/** A server whose handler also learns how many requests its connection has carried. */
async function serve(handler: (req: IncomingMessage, res: ServerResponse, nth: number) => void): Promise<TestServer> {
  const sockets = new Set<Socket>();
  const perSocket = new WeakMap<Socket, number>();
  let connections = 0;
  let closedCount = 0;
  const closeWaiters: Array<{ count: number; resolve(): void }> = [];
  const s: Server = createServer((req, res) => {
    const nth = (perSocket.get(req.socket) ?? 0) + 1;
    perSocket.set(req.socket, nth);
    req.resume();
    req.once('end', () => handler(req, res, nth));
  });
  s.on('connection', (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.once('close', () => {
      sockets.delete(socket);
      closedCount++;
      for (const w of closeWaiters.filter((w) => closedCount >= w.count)) w.resolve();
    });
  });
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    get connections() {
      return connections;
    },
    get closedConnections() {
      return closedCount;
    },
    closed: (count) =>
      closedCount >= count ? Promise.resolve() : new Promise<void>((resolve) => closeWaiters.push({ count, resolve })),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        s.close(() => resolve());
      }),
  };
}

const line = (o: unknown) => `${JSON.stringify(o)}\n`;
const FINAL = { model: 'llama2', created_at: '2024-05-01T10:00:00Z', message: { role: 'assistant', content: '' }, done: true, eval_count: 1 };

/** Like Ollama: the final line is flushed on its own; with `lateEnd` the chunked terminator follows in a later write. */
function ollamaChat(res: ServerResponse, lateEnd: boolean): void {
  res.writeHead(200, { 'content-type': 'application/x-ndjson' });
  res.write(line({ model: 'llama2', created_at: '2024-05-01T10:00:00Z', message: { role: 'assistant', content: 'hi' }, done: false }));
  if (!lateEnd) {
    res.end(line(FINAL));
    return;
  }
  res.write(line(FINAL), () => setTimeout(() => res.end(), 5));
}

const chat = (provider: ReturnType<typeof createOllamaProvider>) =>
  provider.chat({ model: 'llama2', messages: [{ role: 'user', content: 'hello' }], signal: new AbortController().signal });

const noHooks: ExchangeHooks = { onResponse: () => {}, onChunk: () => {}, onEnd: () => {} };

describe('http transport', () => {
  it('carries calls made one after another over one kept-alive connection', async () => {
    server = await serve((_req, res) => ollamaChat(res, false));
    const provider = createOllamaProvider({ host: server.url });
    for (let i = 0; i < 5; i++) expect((await chat(provider)).text).toBe('hi');
    expect(server.connections).toBe(1);
  });

  it('answers a chat at its final line and keeps the connection while the terminator is still on its way', async () => {
    server = await serve((_req, res) => ollamaChat(res, true));
    const provider = createOllamaProvider({ host: server.url });
    for (let i = 0; i < 5; i++) expect((await chat(provider)).text).toBe('hi');
    // A call may start on a new connection while the last one drains; none is closed.
    expect(server.closedConnections).toBe(0);
  });

  it('sends a call again on a fresh connection when the kept one turns out to be closed by the server', async () => {
    // The second request on any connection finds it dead, as when a server drops an idle connection.
    server = await serve((req, res, nth) => {
      if (nth > 1) {
        req.socket.destroy();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ models: [] }));
    });
    const provider = createOllamaProvider({ host: server.url });
    expect(await provider.listInstalled()).toEqual([]);
    expect(await provider.listInstalled()).toEqual([]);
    expect(server.connections).toBe(2);
  });

  it('does not send a call again when a fresh connection fails: that is an unreachable server', async () => {
    server = await serve((req) => req.socket.destroy());
    const provider = createOllamaProvider({ host: server.url });
    await expect(provider.listInstalled()).rejects.toMatchObject({ code: 'llm_unavailable' });
    expect(server.connections).toBe(1);
  });

  it('closes a settled exchange whose body never ends once it has been silent for the idle socket time', async () => {
    server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.write(line(FINAL));
    });
    const transport = createHttpTransport({ maxSockets: 1, idleSocketMs: 50 });
    const exchange = transport.open(noHooks);
    const response = await exchange.fetch(`${server.url}/api/chat`, { method: 'POST', body: '{}' });
    const reader = response.body!.getReader();
    expect((await reader.read()).done).toBe(false);
    exchange.settle();
    await server.closed(1);
    transport.close();
  });

  it('keeps the socket of a body that arrived whole when the exchange is aborted afterwards, and fails the read', async () => {
    server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"a":1}');
    });
    const transport = createHttpTransport({ maxSockets: 1 });
    const first = transport.open(noHooks);
    const response = await first.fetch(`${server.url}/x`);
    // Let the whole body arrive before the abort.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const reason = new Error('caller gave up');
    first.abort(reason);
    await expect(response.json()).rejects.toBe(reason);

    const second = transport.open(noHooks);
    expect(await (await second.fetch(`${server.url}/x`)).json()).toEqual({ a: 1 });
    expect(server.connections).toBe(1);
    transport.close();
  });

  it('lets a request in flight stay silent longer than the idle socket time, which bounds idle pooled sockets only', async () => {
    server = await serve((_req, res) => {
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"a":');
        setTimeout(() => res.end('1}'), 120);
      }, 120);
    });
    const transport = createHttpTransport({ maxSockets: 1, idleSocketMs: 30 });
    const response = await transport.open(noHooks).fetch(`${server.url}/x`);
    expect(await response.json()).toEqual({ a: 1 });
    expect(server.closedConnections).toBe(0);
    transport.close();
  });

  it('hands the provider a stream cut anywhere, even inside a multi-byte character', async () => {
    const text = 'héllo wörld ☃ 🦙';
    const ndjson =
      line({ model: 'llama2', created_at: '2024-05-01T10:00:00Z', message: { role: 'assistant', content: text }, done: false }) + line(FINAL);
    const bytes = Buffer.from(ndjson, 'utf8');
    server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      let at = 0;
      const next = () => {
        if (at >= bytes.length) {
          res.end();
          return;
        }
        res.write(bytes.subarray(at, at + 7), () => setTimeout(next, 1));
        at += 7;
      };
      next();
    });
    const provider = createOllamaProvider({ host: server.url });
    expect((await chat(provider)).text).toBe(text);
  });

  it('rejects a fetch at once when its signal was already aborted, without a request', async () => {
    server = await serve((_req, res) => res.end());
    const transport = createHttpTransport({ maxSockets: 1 });
    const controller = new AbortController();
    controller.abort(new Error('too late'));
    await expect(transport.open(noHooks, controller.signal).fetch(`${server.url}/x`)).rejects.toThrow('too late');
    expect(server.connections).toBe(0);
    transport.close();
  });
});
