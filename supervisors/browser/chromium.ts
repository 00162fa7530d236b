// One Chromium process: launched by puppeteer-core in a process group of its own, and ended by
// killing that whole group, so its zygote, GPU and renderer children never outlive it (a crashed
// or hung browser.close() would otherwise leave them behind).
import { getuid } from 'node:process';
import puppeteer, { type Browser } from 'puppeteer-core';

export interface ChromiumOptions {
  readonly executablePath: string;
  /** Longest the launch may take before it counts as failed. */
  readonly launchTimeoutMs: number;
  /** Marks every process of this Chromium (environment), so tests and operators can find them. */
  readonly owner: string;
}

export interface Chromium {
  readonly browser: Browser;
  readonly pid: number;
  /** Kills the process group and resolves once the main process has been reaped. Idempotent. */
  kill(): Promise<void>;
}

/** Environment variable set on every Chromium process of a node: `<node pid>`. */
export const BROWSER_OWNER_ENV = 'AURORA_BROWSER_OWNER';

const ARGS = [
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-default-apps',
  '--disable-sync',
  '--metrics-recording-only',
  '--mute-audio',
  '--no-first-run',
  '--password-store=basic',
];

export async function launchChromium(options: ChromiumOptions): Promise<Chromium> {
  const args = [...ARGS];
  // Chromium's sandbox needs user namespaces that root (in a container, usually) cannot set up, and
  // Chromium refuses to start as root with it on. Only there is it turned off; the origin checks
  // and the isolated contexts still hold, but a renderer exploit would not be contained.
  if (getuid?.() === 0) args.push('--no-sandbox');
  const browser = await puppeteer.launch({
    executablePath: options.executablePath,
    headless: true,
    args,
    timeout: options.launchTimeoutMs,
    // Over a pipe, Chromium exits by itself when its parent dies (even by SIGKILL), which a
    // WebSocket connection would not make it do: a killed node leaves no browser behind.
    pipe: true,
    // Signals are ours to handle: puppeteer's handlers would close browsers behind the supervisor.
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
    env: { ...process.env, [BROWSER_OWNER_ENV]: options.owner },
    defaultViewport: { width: 1280, height: 800 },
  });
  // @puppeteer/browsers spawns it detached on Linux (a process group of its own), which is what
  // lets kill(-pid) reach every child Chromium forks.
  const child = browser.process();
  const pid = child?.pid;
  if (child === null || pid === undefined) {
    await browser.close().catch(() => {});
    throw new Error('puppeteer launched Chromium without a process');
  }
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  let killing: Promise<void> | null = null;
  return {
    browser,
    pid,
    kill() {
      killing ??= (async () => {
        killGroup(pid);
        // The main process is our child: waiting for its exit is what reaps it (no zombie).
        await exited;
        browser.disconnect().catch(() => {});
      })();
      return killing;
    },
  };
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch (err) {
    // ESRCH: the group is gone already. Anything else (EPERM) still tries the leader alone.
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}
