// `npm start`, the Dockerfile and the benchmark suite must start Aurora with the same Node flags:
// the suite reads them from package.json, and the container must not run a different process.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { startFlags } from '../../bench/lib/start-flags.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('start command', () => {
  it('gives npm start a larger young generation, and the Dockerfile the same flags', () => {
    const flags = startFlags(ROOT);
    expect(flags).toContain('--max-semi-space-size=32');
    const cmd = /^CMD (\[.*\])$/m.exec(readFileSync(`${ROOT}Dockerfile`, 'utf8'));
    expect(cmd, 'Dockerfile CMD').not.toBeNull();
    expect(JSON.parse(cmd![1]!)).toEqual(['node', ...flags, 'dist/bin/aurora.js']);
  });
});
