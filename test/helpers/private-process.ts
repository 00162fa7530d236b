// A service process of a test's own (Redis, NATS) that the test may kill and start again on the
// same port. Started means it printed its ready line; a process left at exit is killed with the worker.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** A safety net only: a broken binary fails the test with its output instead of hanging it. */
const START_TIMEOUT_MS = 20_000;

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export interface PrivateProcessSpec {
  binary: string;
  args: readonly string[];
  /** Where the process says it is ready, and the words it says it with. */
  readyOn: 'stdout' | 'stderr';
  readyLine: string;
}

export interface PrivateProcess {
  /** Starts it (again, after kill); resolves once it printed its ready line. */
  start(): Promise<void>;
  /** SIGKILL: it disappears without a goodbye, like a crashed host. */
  kill(): Promise<void>;
}

export function privateProcess(spec: PrivateProcessSpec): PrivateProcess {
  const name = spec.binary.split('/').at(-1);
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  const start = async () => {
    if (child) return;
    const stdio: ['ignore', 'pipe' | 'ignore', 'pipe' | 'ignore'] = spec.readyOn === 'stdout' ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'ignore', 'pipe'];
    const proc = spawn(spec.binary, spec.args, { stdio });
    child = proc;
    live.add(proc);
    exited = new Promise((resolve) =>
      proc.once('exit', () => {
        live.delete(proc);
        resolve();
      }),
    );
    const output: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name} did not start:\n${output.join('\n')}`)), START_TIMEOUT_MS);
      proc.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`${name} exited at start:\n${output.join('\n')}`));
      });
      createInterface({ input: (spec.readyOn === 'stdout' ? proc.stdout : proc.stderr)! }).on('line', (line) => {
        output.push(line);
        if (line.includes(spec.readyLine)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  };
  const kill = async () => {
    const proc = child;
    if (!proc) return;
    child = null;
    proc.kill('SIGKILL');
    await exited;
  };
  return { start, kill };
}
