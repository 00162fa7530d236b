// Yardstick for scenario 9: bare uWS → one keep-alive node:http call to the stand-in Ollama per
// request → JSON answer. Per POST it parses the task, sends the chat (streaming, as Aurora does),
// reads the whole NDJSON answer, parses its lines and answers with the text: the least any server
// must do to put a prompt to Ollama over HTTP and hand back the result. Its connection pool is
// bounded like Aurora's (OLLAMA_MAX_CONCURRENCY's default), so both queue the same way.
import http from 'node:http';
import uws from 'uWebSockets.js';
import { serveChild } from '../lib/child.js';
import { listenUws, readBody } from './uws-listen.js';

interface Options {
  ollamaUrl: string;
  maxSockets?: number;
}

interface ChatLine {
  message?: { content?: string };
  done?: boolean;
  eval_count?: number;
}

await serveChild<Options>(async (o) => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.maxSockets ?? 32 });
  const { hostname, port } = new URL(o.ollamaUrl);
  const app = uws.App();

  app.post('/api/v1/tasks/execute', (res) => {
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    const fail = () => {
      if (!aborted) res.cork(() => res.writeStatus('502 Bad Gateway').end());
    };
    readBody(res, (raw) => {
      const task = JSON.parse(raw.toString('utf8')) as { agent: string; prompt: string };
      const body = JSON.stringify({ model: 'llama2', messages: [{ role: 'user', content: task.prompt }], stream: true });
      const req = http.request(
        {
          agent,
          hostname,
          port,
          path: '/api/chat',
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (answer) => {
          let ndjson = '';
          answer.setEncoding('utf8');
          answer.on('data', (chunk: string) => (ndjson += chunk));
          answer.on('error', fail);
          answer.on('end', () => {
            let text = '';
            let tokens = 0;
            for (const line of ndjson.split('\n')) {
              if (line === '') continue;
              const part = JSON.parse(line) as ChatLine;
              text += part.message?.content ?? '';
              if (part.done === true) tokens = part.eval_count ?? 0;
            }
            if (aborted) return;
            const out = JSON.stringify({ agent: task.agent, result: text, completion_tokens: tokens, status: 'completed' });
            res.cork(() => res.writeHeader('content-type', 'application/json').end(out));
          });
        },
      );
      req.on('error', fail);
      req.end(body);
    });
  });

  const { port: listening, close } = await listenUws(app);
  return {
    ready: { port: listening, pid: process.pid },
    teardown: () => {
      close();
      agent.destroy();
    },
  };
});
