// Yardstick: the task pipeline built bare from Aurora's own stack, without Aurora (scenario 3).
// Per POST: parse the body, run the task on that agent's XState actor (the same llm machine, one
// actor per agent, the instant provider), write the finished task as one row into SQLite (the
// same schema, WAL and group commit per loop turn, checkpoints in the same worker), answer after
// the commit. No bus, supervisor, mailbox, events, validation, auth or metrics: the floor of what
// "a task run by an actor and persisted" costs on one event loop, to put beside the JSON echo.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import uws from 'uWebSockets.js';
import { createActor, type AnyActorRef } from 'xstate';
import type { MachineEmitted } from '../../actors/kind.js';
import { llmKind } from '../../actors/llm/kind.js';
import type { ChatInput } from '../../actors/llm/effects.js';
import { systemClock } from '../../runtime/clock.js';
import { newTaskId } from '../../runtime/ids.js';
import type { TaskOutcome } from '../../runtime/protocol/index.js';
import { startCheckpointer } from '../../runtime/store/checkpointer.js';
import { migrate } from '../../runtime/store/migrations.js';
import { createInstantProvider } from '../instant-provider.js';
import { serveChild } from '../lib/child.js';
import { listenUws, readBody } from './uws-listen.js';

interface Waiting {
  res: uws.HttpResponse;
  aborted: boolean;
  agent: string;
  prompt: string;
  createdAt: string;
}

await serveChild<{ agents: number }>(async (o) => {
  const dir = mkdtempSync(join(tmpdir(), 'aurora-bare-'));
  const path = join(dir, 'bare.db');
  const db = new Sqlite(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('wal_autocheckpoint = 16000');
  db.pragma('foreign_keys = ON');
  migrate(db, systemClock);
  const checkpointer = startCheckpointer({ path, intervalMs: 100, busyTimeoutMs: 5_000, onError: () => {} });
  const now = () => new Date().toISOString();
  const addAgent = db.prepare(`INSERT INTO agents (name, agent_id, agent_type, model_name, provider, description, config, status, created_at)
                               VALUES (?, ?, 'llm', 'llama2', 'ollama', '', '{}', 'idle', ?)`);
  // A task row carries its agent's id, as Aurora's does: bound from memory, not looked up.
  const agentIds = new Map<string, string>();
  for (let i = 0; i < o.agents; i++) {
    agentIds.set(`bench-${i}`, randomUUID());
    addAgent.run(`bench-${i}`, agentIds.get(`bench-${i}`), now());
  }
  const insert = db.prepare(
    `INSERT INTO tasks (task_id, agent, agent_id, prompt, parameters, status, result, model, provider, tokens_used, created_at,
                        started_at, completed_at, duration_ms, timings)
     VALUES (?, ?, ?, ?, '{}', 'completed', ?, ?, 'ollama', ?, ?, ?, ?, 0, '{}')`,
  );

  // Group commit: the writes of one turn share a transaction; answers leave after it commits.
  let open = false;
  let answers: (() => void)[] = [];
  const commit = () => {
    open = false;
    db.exec('COMMIT');
    const run = answers;
    answers = [];
    for (const answer of run) answer();
  };

  const { machine } = llmKind;
  const provider = createInstantProvider();
  interface Agent {
    actor: AnyActorRef;
    current: Waiting | null;
    queue: Waiting[];
  }
  const actors = new Map<string, Agent>();
  const finish = (w: Waiting, taskId: string, out: TaskOutcome) => {
    if (!open) {
      db.exec('BEGIN');
      open = true;
      setImmediate(commit);
    }
    const completedAt = now();
    insert.run(taskId, w.agent, agentIds.get(w.agent), w.prompt, out.text, out.model, out.promptTokens + out.completionTokens, w.createdAt, w.createdAt, completedAt);
    const body = JSON.stringify({ task_id: taskId, agent: w.agent, result: out.text, status: 'completed', model: out.model, completed_at: completedAt });
    answers.push(() => {
      if (!w.aborted) w.res.cork(() => w.res.writeHeader('content-type', 'application/json').end(body));
    });
  };
  const startNext = (a: Agent) => {
    const w = a.queue.shift();
    if (w === undefined) return;
    a.current = w;
    a.actor.send({ type: 'TASK', task: { task_id: newTaskId(), agent: w.agent, prompt: w.prompt, parameters: {} } });
  };
  const agentFor = (name: string): Agent => {
    const known = actors.get(name);
    if (known !== undefined) return known;
    const definition = { name, agent_type: 'llm', model_name: 'llama2', provider: 'ollama', description: '', config: {} };
    const a: Agent = { actor: createActor(machine, { input: { definition } }), current: null, queue: [] };
    // The machine asks for its call; a call that can be cancelled carries an abort signal.
    a.actor.on('effect', (e: MachineEmitted) => {
      if (e.type !== 'effect') return;
      const { effectId, taskId } = e;
      const { model, messages, options } = e.input as ChatInput;
      void provider
        .chat({ model, messages, options, signal: new AbortController().signal })
        .then((output) => a.actor.send({ type: 'effect.done', effectId, taskId, output }));
    });
    a.actor.on('task.done', (e: MachineEmitted) => {
      if (e.type !== 'task.done' || a.current === null) return;
      finish(a.current, e.taskId, e.output);
      a.current = null;
      startNext(a);
    });
    a.actor.start();
    actors.set(name, a);
    return a;
  };

  const app = uws.App();
  app.post('/api/v1/tasks/execute', (res) => {
    const w: Waiting = { res, aborted: false, agent: '', prompt: '', createdAt: '' };
    res.onAborted(() => {
      w.aborted = true;
    });
    readBody(res, (body) => {
      const req = JSON.parse(body.toString('utf8')) as { agent: string; prompt: string };
      w.agent = req.agent;
      w.prompt = req.prompt;
      w.createdAt = now();
      const a = agentFor(req.agent);
      a.queue.push(w);
      if (a.current === null) startNext(a);
    });
  });
  const { port, close } = await listenUws(app);
  return {
    ready: { port, pid: process.pid },
    teardown: () => {
      close();
      for (const a of actors.values()) a.actor.stop();
      if (open) commit();
      checkpointer.stop();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
