// Child processes of the suite: every server, responder and load generator runs in its own
// process and talks to the suite over the IPC channel: it sends {type:'ready', ...} once it can
// be measured, answers commands, and exits on {cmd:'stop'}.
import { fork, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface Child {
  readonly pid: number;
  readonly ready: Record<string, unknown>;
  /** Sends a command and resolves with the child's reply to it. */
  ask<T = Record<string, unknown>>(cmd: Record<string, unknown>, timeoutMs?: number): Promise<T>;
  /** Asks the child to stop, and kills it if it has not exited within a few seconds. */
  stop(): Promise<void>;
}

const here = (rel: string): string => fileURLToPath(new URL(`../${rel}`, import.meta.url));
/** Children's stdout and stderr (their logs) go to bench/out/logs/<script>.log, not the table. */
const LOG_DIR = fileURLToPath(new URL('../../../bench/out/logs/', import.meta.url));

/** Forks bench/<script>.js with `options` as its JSON argument and waits for its ready message. */
export function startChild(
  script: string,
  options: Record<string, unknown>,
  { execArgv = [], readyTimeoutMs = 60_000 }: { execArgv?: string[]; readyTimeoutMs?: number } = {},
): Promise<Child> {
  mkdirSync(LOG_DIR, { recursive: true });
  const logFd = openSync(`${LOG_DIR}${script.replaceAll('/', '-')}.log`, 'a');
  const proc = fork(here(`${script}.js`), [JSON.stringify(options)], {
    execArgv,
    stdio: ['ignore', logFd, logFd, 'ipc'],
  });
  closeSync(logFd);
  let seq = 0;
  const waiting = new Map<number, { resolve(v: unknown): void; reject(e: unknown): void; timer: NodeJS.Timeout }>();
  let exited = false;
  const exitPromise = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.once('exit', (code, signal) => {
    exited = true;
    for (const w of waiting.values()) {
      clearTimeout(w.timer);
      w.reject(new Error(`${script} exited (code ${code}, signal ${signal}) before answering`));
    }
    waiting.clear();
  });
  proc.on('message', (raw) => {
    const msg = raw as { id?: number; error?: string };
    if (msg.id === undefined) return;
    const w = waiting.get(msg.id);
    if (!w) return;
    waiting.delete(msg.id);
    clearTimeout(w.timer);
    if (msg.error !== undefined) w.reject(new Error(`${script}: ${msg.error}`));
    else w.resolve(msg);
  });

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${script} was not ready within ${readyTimeoutMs} ms`));
    }, readyTimeoutMs);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with code ${code} before it was ready`));
    };
    proc.once('exit', onExit);
    proc.once('message', (raw) => {
      const msg = raw as Record<string, unknown>;
      clearTimeout(timer);
      proc.off('exit', onExit);
      if (msg.type !== 'ready') {
        proc.kill('SIGKILL');
        reject(new Error(`${script} failed to start: ${String(msg.error ?? JSON.stringify(msg))}`));
        return;
      }
      resolve(handle(proc, msg));
    });
  });

  function handle(p: ChildProcess, ready: Record<string, unknown>): Child {
    return {
      pid: p.pid!,
      ready,
      ask<T>(cmd: Record<string, unknown>, timeoutMs = 120_000): Promise<T> {
        if (exited) return Promise.reject(new Error(`${script} has exited`));
        const id = ++seq;
        return new Promise<T>((res, rej) => {
          const timer = setTimeout(() => {
            waiting.delete(id);
            rej(new Error(`${script} did not answer ${String(cmd.cmd)} within ${timeoutMs} ms`));
          }, timeoutMs);
          waiting.set(id, { resolve: res as (v: unknown) => void, reject: rej, timer });
          p.send({ ...cmd, id });
        });
      },
      async stop() {
        if (exited) return;
        p.send({ cmd: 'stop', id: ++seq });
        const timer = setTimeout(() => p.kill('SIGKILL'), 10_000);
        await exitPromise;
        clearTimeout(timer);
      },
    };
  }
}

/** Runs a one-shot child (a load generator) to completion and returns its result message. */
export async function runChild<T>(script: string, options: Record<string, unknown>, timeoutMs = 300_000): Promise<T> {
  const child = await startChild(script, options, { readyTimeoutMs: 30_000 });
  try {
    return await child.ask<T>({ cmd: 'run' }, timeoutMs);
  } finally {
    await child.stop();
  }
}

/**
 * The child side: reads the JSON options, runs `setup`, reports ready, and serves commands with
 * `commands` until told to stop (then runs `teardown` and exits).
 */
export async function serveChild<O>(
  setup: (options: O) => Promise<{
    ready?: Record<string, unknown>;
    commands?: Record<string, (cmd: Record<string, unknown>) => Promise<Record<string, unknown>> | Record<string, unknown>>;
    teardown?: () => Promise<void> | void;
  }>,
): Promise<void> {
  const send = (m: Record<string, unknown>) => process.send?.(m);
  let state: Awaited<ReturnType<typeof setup>>;
  try {
    state = await setup(JSON.parse(process.argv[2] ?? '{}') as O);
  } catch (err) {
    send({ type: 'failed', error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    process.exit(1);
  }
  process.on('message', (raw) => {
    const cmd = raw as { cmd: string; id: number };
    if (cmd.cmd === 'stop') {
      void (async () => {
        try {
          await state.teardown?.();
        } finally {
          process.exit(0);
        }
      })();
      return;
    }
    const fn = state.commands?.[cmd.cmd];
    if (!fn) {
      send({ id: cmd.id, error: `unknown command ${cmd.cmd}` });
      return;
    }
    Promise.resolve()
      .then(() => fn(cmd))
      .then(
        (out) => send({ ...out, id: cmd.id }),
        (err: unknown) => send({ id: cmd.id, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
      );
  });
  // The suite going away takes its children with it.
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready', ...state.ready });
}
