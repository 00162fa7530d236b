// Doors a web page could open while auth is off (issue 18): a body not declared as JSON is 415, a
// byte-order mark is 400, and a write or stream upgrade from a browser page of an unlisted origin
// is 403, on the real server process. Clients that say what they send, and pages of the server's
// own or a listed origin, are served as before.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startFakeOllama, type FakeOllama } from '../fixtures/fake-ollama.js';
import { client, request, startAurora, tempDir, type AuroraProcess, type TempDir } from '../helpers/e2e.js';
import type { TaskResultBody } from '../helpers/http-bodies.js';
import { rawRequest, requestHead } from '../helpers/raw-http.js';

const LISTED = 'https://app.example';

describe('Content types and origins on a server with auth off', () => {
  let fake: FakeOllama;
  let dir: TempDir;
  let server: AuroraProcess;
  let api: ReturnType<typeof client>;

  beforeAll(async () => {
    fake = await startFakeOllama();
    dir = tempDir();
    server = await startAurora({ DATABASE_PATH: dir.file('ct.db'), OLLAMA_HOST: fake.url, CORS_ORIGINS: LISTED });
    api = client(server.url);
    expect((await api.post('/api/v1/agents/', { name: 'typed' })).status).toBe(201);
  });

  afterAll(async () => {
    await server?.stop();
    await fake?.close();
    dir?.remove();
  });

  /** POST with exactly these headers and body bytes: fetch would add a Content-Type of its own. */
  async function rawPost(path: string, body: Buffer, headers: [string, string][]): Promise<{ status: number; body: unknown }> {
    const head = requestHead('POST', path, [...headers, ['Content-Length', String(body.length)], ['Connection', 'close']]);
    const { responses } = await rawRequest(server.port, [head, body]);
    const res = responses[0]!;
    return { status: res.status, body: JSON.parse(res.body.toString('utf8')) as unknown };
  }

  const taskCount = async () => ((await api.get<unknown[]>('/api/v1/tasks/?agent=typed')).body).length;

  it('answers 415 to a task sent as text/plain (a "simple" cross-site request) or without a type, and runs nothing', async () => {
    const body = JSON.stringify({ agent: 'typed', prompt: 'should not run' });
    const plain = await request(server.url, 'POST', '/api/v1/tasks/execute', undefined, { raw: body, headers: { 'content-type': 'text/plain' } });
    expect({ status: plain.status, body: plain.body }).toEqual({
      status: 415,
      body: { detail: 'Content-Type "text/plain" is not supported; send the body as application/json' },
    });
    const untyped = await rawPost('/api/v1/tasks/execute', Buffer.from(body), []);
    expect(untyped).toEqual({ status: 415, body: { detail: 'Content-Type is missing; send the body as application/json' } });
    const form = await rawPost('/api/v1/agents/', Buffer.from('name=form'), [['Content-Type', 'application/x-www-form-urlencoded']]);
    expect(form.status).toBe(415);
    expect(await taskCount()).toBe(0);
    expect((await api.get('/api/v1/agents/form')).status).toBe(404);
  });

  it('answers 400 naming the byte-order mark of a body that starts with one', async () => {
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"name":"bom"}')]);
    expect(await rawPost('/api/v1/agents/', bom, [['Content-Type', 'application/json']])).toEqual({
      status: 400,
      body: { detail: 'Request body starts with a UTF-8 byte-order mark (EF BB BF); send JSON without one' },
    });
  });

  it('serves JSON declared as application/json or +json, with a UTF-8 charset', async () => {
    const run = await api.post<TaskResultBody>('/api/v1/tasks/execute', { agent: 'typed', prompt: 'hello there' });
    expect({ status: run.status, result: run.body.result }).toEqual({ status: 200, result: 'hello there' });
    const vendor = await api.post('/api/v1/agents/', { name: 'vendor-typed' }, { headers: { 'content-type': 'application/vnd.aurora+json; charset=UTF-8' } });
    expect(vendor.status).toBe(201);
  });

  it('refuses a write from a page of an unlisted origin with 403, before looking at its body', async () => {
    const evil = { origin: 'https://evil.example' };
    const post = await api.post('/api/v1/tasks/execute', { agent: 'typed', prompt: 'csrf' }, { headers: evil });
    expect(post).toMatchObject({
      status: 403,
      body: {
        detail:
          'Cross-origin request refused: Origin "https://evil.example" is not in CORS_ORIGINS, and with AUTH_ENABLED=false only listed origins may change state',
      },
    });
    const del = await request(server.url, 'DELETE', '/api/v1/agents/typed', undefined, { headers: { origin: 'null' } });
    expect(del.status).toBe(403);
    expect((await api.get('/api/v1/agents/typed')).status).toBe(200);
    // Reads are not writes: the page gets the answer only if CORS lets it, which it does not.
    const read = await request(server.url, 'GET', '/api/v1/agents/typed', undefined, { headers: evil });
    expect(read.status).toBe(200);
    expect(read.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('serves writes from the listed origin and from the server’s own pages (the docs’ Try it out)', async () => {
    const listed = await api.post('/api/v1/agents/', { name: 'from-app' }, { headers: { origin: LISTED } });
    expect(listed.status).toBe(201);
    expect(listed.headers.get('access-control-allow-origin')).toBe(LISTED);
    const own = await api.post('/api/v1/agents/', { name: 'from-docs' }, { headers: { origin: server.url } });
    expect(own.status).toBe(201);
  });

  it('refuses a stream upgrade from an unlisted origin with 403, and accepts one from a listed origin', async () => {
    const upgrade = (origin: string) =>
      new Promise<number>((resolve, reject) => {
        const ws = new WebSocket(server.wsUrl, { origin });
        ws.once('unexpected-response', (_req, res) => {
          resolve(res.statusCode ?? 0);
          ws.terminate();
        });
        ws.once('open', () => {
          resolve(101);
          ws.close();
        });
        ws.once('error', reject);
      });
    expect(await upgrade('https://evil.example')).toBe(403);
    expect(await upgrade(LISTED)).toBe(101);
  });
});
