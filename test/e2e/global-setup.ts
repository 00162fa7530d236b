// Compiles the server once per vitest run, so the end-to-end suites start the same
// dist/bin/aurora.js that `npm start` runs. Skipped when the run holds no end-to-end file.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { removeTestBuckets } from '../helpers/nats-cleanup.js';
import { NATS_URL } from '../helpers/services.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const E2E_DIR = fileURLToPath(new URL('./', import.meta.url));

export default function setup(project: TestProject): () => Promise<void> {
  const started = new Date();
  const teardown = async () => {
    await removeTestBuckets(NATS_URL, started);
  };
  // The files of this run are known before global setup (an experimental API: when it is not
  // there, building anyway is the safe answer).
  let paths: string[] = [];
  try {
    paths = project.vitest.state.getPaths();
  } catch {
    paths = [];
  }
  if (paths.length > 0 && !paths.some((p) => p.startsWith(E2E_DIR))) return teardown;
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  try {
    execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'pipe' });
    // The dashboard, which the gateway serves from dist/ui (as `npm run build` does).
    execFileSync(process.execPath, ['dashboard/build.mjs'], { cwd: ROOT, stdio: 'pipe' });
  } catch (err) {
    const out = err as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(`building dist/ for the end-to-end tests failed:\n${String(out.stdout ?? '')}${String(out.stderr ?? '')}`);
  }
  return teardown;
}
