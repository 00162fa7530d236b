// The Node flags `npm start` runs Aurora with, read from package.json, so the suite measures
// Aurora started the way it ships rather than a copy of those flags that could drift.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const START = /^node((?:\s+--[\w-]+(?:=\S+)?)*)\s+dist\/bin\/aurora\.js$/;

export function startFlags(root: string): string[] {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts?: { start?: string } };
  const start = pkg.scripts?.start ?? '';
  const m = START.exec(start.trim());
  if (!m) throw new Error(`package.json "start" is not "node [--flags] dist/bin/aurora.js": ${JSON.stringify(start)}`);
  return m[1]!.trim().split(/\s+/).filter(Boolean);
}
