// A stand-in Ollama for scenario 9, in its own process: answers at once, so what is measured is the
// cost of talking to Ollama over HTTP and not a model. /api/chat streams one token and the final line
// (with eval counts and timings) as chunked NDJSON, as Ollama does; /api/tags, /api/show,
// /api/version, /api/ps and /api/generate (load and unload) answer what Aurora asks when it creates
// and checks agents. The request body is read but not parsed: a real Ollama's parse is its cost, not
// the client's. uWS because it costs half the CPU per call of the same answers over node:http
// (32-38 µs against 60-78 µs here), and it shares the machine with the side being measured.
import uws from 'uWebSockets.js';
import { serveChild } from '../lib/child.js';
import { listenUws } from './uws-listen.js';

const MODEL = 'llama2:latest';
const CREATED_AT = '2024-05-01T10:00:00.000000000Z';
const TOKEN_LINE = `${JSON.stringify({ model: MODEL, created_at: CREATED_AT, message: { role: 'assistant', content: 'hello' }, done: false })}\n`;
const FINAL = {
  model: MODEL,
  created_at: CREATED_AT,
  message: { role: 'assistant', content: '' },
  done: true,
  done_reason: 'stop',
  total_duration: 350_000,
  load_duration: 250_000,
  prompt_eval_count: 4,
  prompt_eval_duration: 50_000,
  eval_count: 1,
  eval_duration: 50_000,
};
const FINAL_LINE = `${JSON.stringify(FINAL)}\n`;
const WHOLE_CHAT = JSON.stringify({ ...FINAL, message: { role: 'assistant', content: 'hello' } });
const TAGS = JSON.stringify({
  models: [{ name: MODEL, model: MODEL, modified_at: CREATED_AT, size: 3_826_793_677, digest: 'standin', details: { family: 'llama' } }],
});
const SHOW = JSON.stringify({
  details: { family: 'llama' },
  model_info: { 'general.architecture': 'llama', 'llama.context_length': 4096 },
  capabilities: ['completion'],
  modified_at: CREATED_AT,
});
const VERSION = JSON.stringify({ version: '0.6.4' });
const PS = JSON.stringify({ models: [] });
const GENERATE = JSON.stringify({ model: MODEL, created_at: CREATED_AT, response: '', done: true, done_reason: 'load' });

/** Calls back with the request body once it is complete (uWS hands out chunks it reuses). */
function whole(res: uws.HttpResponse, done: (body: string) => void): void {
  let text = '';
  res.onData((chunk, isLast) => {
    text += Buffer.from(chunk).toString('utf8');
    if (isLast) done(text);
  });
}

await serveChild<Record<string, never>>(async () => {
  const app = uws.App();
  const json = (res: uws.HttpResponse, body: string): void => {
    res.cork(() => {
      res.writeHeader('content-type', 'application/json; charset=utf-8').end(body);
    });
  };
  app.post('/api/chat', (res) => {
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    whole(res, (body) => {
      if (aborted) return;
      // Cheaper than parsing, and enough: only load checks and the harness ever ask without streaming.
      if (body.includes('"stream":false')) {
        json(res, WHOLE_CHAT);
        return;
      }
      res.cork(() => {
        res.writeHeader('content-type', 'application/x-ndjson');
        res.write(TOKEN_LINE);
        res.end(FINAL_LINE);
      });
    });
  });
  app.post('/api/generate', (res) => {
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    whole(res, () => {
      if (!aborted) json(res, GENERATE);
    });
  });
  app.post('/api/show', (res) => {
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    whole(res, () => {
      if (!aborted) json(res, SHOW);
    });
  });
  app.get('/api/tags', (res) => json(res, TAGS));
  app.get('/api/version', (res) => json(res, VERSION));
  app.get('/api/ps', (res) => json(res, PS));
  app.get('/', (res) => {
    res.end('Ollama is running');
  });
  const { port, close } = await listenUws(app);
  return { ready: { port, pid: process.pid, url: `http://127.0.0.1:${port}` }, teardown: close };
});
