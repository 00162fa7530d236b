#!/usr/bin/env node
// The `aurora` command line (package.json "bin"; `npx aurora` after `npm run build`). The commands
// live in cli/ and speak to Aurora through the typed client (client/); this entry wires them to
// the `ws` socket and to bin/token.ts for `aurora token`, and sets the exit status.
import { readFileSync } from 'node:fs';
import { runCli } from '../cli/program.js';
import { createNodeClient } from '../client/node.js';

/** package.json's version, from dist/bin/ (the build) or bin/ (the source). */
function readVersion(): string {
  for (const relative of ['../../package.json', '../package.json']) {
    try {
      return (JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as { version: string }).version;
    } catch {
      // not at this depth
    }
  }
  return 'unknown';
}

process.exitCode = await runCli(process.argv.slice(2), {
  version: readVersion(),
  createClient: createNodeClient,
  // Loaded only for `aurora token`: it brings the config loader and jose.
  mintToken: async (argv) => (await import('./token.js')).runTokenCommand(argv),
});
