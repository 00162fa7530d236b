// The Aurora node under test, in its own process: composed like `npm start` (startAurora) with
// the INSTANT provider injected as `ollama`, so the figures measure Aurora and not a model. With
// `ollamaUrl` nothing is injected: the production Ollama provider talks HTTP to that server.
//
// Commands (IPC): spawn {count, prefix, concurrency} creates agents through the registry service
// on the node's own bus (a separate client connection, as any caller would) and reports the rate
// and the resident memory before and after (each after a full GC); rss reports memory now, mem
// memory and the V8 heap.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { AgentRecord } from '../runtime/protocol/index.js';
import { startAurora } from '../bin/aurora.js';
import { createBus } from '../runtime/bus/index.js';
import { loadConfig, type Role } from '../runtime/config.js';
import { createLogger } from '../runtime/logger.js';
import { call } from '../runtime/rpc.js';
import { createSubjects } from '../runtime/subjects.js';
import { createInstantProvider } from './instant-provider.js';
import { serveChild } from './lib/child.js';

export interface ServerOptions {
  bus: 'nats' | 'memory';
  /** AURORA_ROLE; default all. A gateway creates no agents (`agents` must be 0). */
  role?: Role;
  natsUrl: string;
  namespace: string;
  /** Agents bench-0 .. bench-(n-1), created before ready. */
  agents: number;
  /** Agents `slots-<n>` created with `max_concurrency: n`, one per entry. */
  slotAgents?: number[];
  /** How long each call to the instant provider takes (default 0: answers at once). */
  providerLatencyMs?: number;
  /** An Ollama (stand-in) to talk to over HTTP with the real provider, instead of the instant one. */
  ollamaUrl?: string;
}

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) {
    g();
    g();
  }
}

await serveChild<ServerOptions>(async (o) => {
  const dir = mkdtempSync(join(tmpdir(), 'aurora-bench-'));
  const config = loadConfig({
    env: {},
    overrides: {
      host: '127.0.0.1',
      port: 0,
      role: o.role ?? 'all',
      natsUrl: o.bus === 'nats' ? o.natsUrl : undefined,
      databasePath: join(dir, 'aurora.db'),
      namespace: o.namespace,
      logLevel: 'warn',
      // Room for the 256-connection runs: every connection's task may sit in one mailbox.
      mailboxSize: 1024,
      ...(o.ollamaUrl !== undefined && { ollamaHost: o.ollamaUrl }),
    },
  });
  const logger = createLogger(config.logLevel, { service: 'aurora-bench' });
  const aurora = await startAurora(
    config,
    logger,
    o.ollamaUrl !== undefined ? {} : { providers: { ollama: createInstantProvider({ latencyMs: o.providerLatencyMs ?? 0 }) } },
  );
  // The caller's side of the bus: over NATS a second connection; in memory the node's bus is not
  // reachable from here, so agents are created over HTTP instead.
  const client = o.bus === 'nats' ? await createBus(config, logger) : null;
  const subjects = createSubjects(config.namespace);
  const base = `http://127.0.0.1:${aurora.gateway.port}`;

  const createOne = async (name: string, config: Record<string, unknown> = {}): Promise<void> => {
    const def = { name, agent_type: 'llm', provider: 'ollama', model_name: 'llama2', description: '', config };
    if (client) {
      await call<AgentRecord>(client, subjects.registry('create'), def, 30_000);
      return;
    }
    const res = await fetch(`${base}/api/v1/agents/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(def),
    });
    if (res.status !== 201 && res.status !== 200) throw new Error(`create ${name}: HTTP ${res.status} ${await res.text()}`);
  };

  const spawn = async (count: number, prefix: string, concurrency: number): Promise<number> => {
    let next = 0;
    const started = performance.now();
    const worker = async () => {
      while (next < count) await createOne(`${prefix}${next++}`);
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
    return performance.now() - started;
  };

  await spawn(o.agents, 'bench-', 32);
  for (const n of o.slotAgents ?? []) await createOne(`slots-${n}`, { max_concurrency: n });

  return {
    ready: { port: aurora.gateway.port, pid: process.pid },
    commands: {
      spawn: async (cmd) => {
        gc();
        const rssBefore = process.memoryUsage().rss;
        const ms = await spawn(Number(cmd.count), String(cmd.prefix), Number(cmd.concurrency ?? 256));
        // Let the agents settle (status events, supervisor bookkeeping) before weighing them.
        await new Promise((r) => setTimeout(r, 200));
        gc();
        const rssAfter = process.memoryUsage().rss;
        return { ms, rssBefore, rssAfter };
      },
      rss: () => {
        gc();
        return { rss: process.memoryUsage().rss };
      },
      // Memory now (after a full GC when the process runs with --expose-gc): resident and V8 heap.
      mem: () => {
        gc();
        const m = process.memoryUsage();
        return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external };
      },
    },
    teardown: async () => {
      await client?.drain();
      await aurora.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
