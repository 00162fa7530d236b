// Each gateway module can be the first one a program loads. An import cycle can hide for a long
// time, because whichever module of the loop is loaded first decides whether a binding is read
// before it is initialised; a cycle through the docs site once made `import 'dist/gateway/docs-site.js'`
// throw "Cannot access 'OPENAPI_PATH' before initialization". Vitest's own module runner orders
// such loops differently from Node, so the modules are compiled as they are (no type check, one
// file at a time) into a scratch folder and each one is imported first by a fresh `node`.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** What gateway modules may import of ours (lint keeps supervisors/ and bin/ out). */
const SOURCE_FOLDERS = ['gateway', 'runtime', 'actors'];

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return tsFiles(full);
    return name.endsWith('.ts') ? [full] : [];
  });
}

const gatewayModules = tsFiles(path.join(ROOT, 'gateway')).map((f) => path.relative(ROOT, f));
let scratch: string;

beforeAll(() => {
  scratch = mkdtempSync(path.join(tmpdir(), 'aurora-imports-'));
  writeFileSync(path.join(scratch, 'package.json'), '{"type":"module"}');
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(scratch, 'node_modules'), 'dir');
  for (const folder of SOURCE_FOLDERS) {
    for (const file of tsFiles(path.join(ROOT, folder))) {
      const out = path.join(scratch, path.relative(ROOT, file)).replace(/\.ts$/, '.js');
      const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), {
        fileName: file,
        compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
      });
      mkdirSync(path.dirname(out), { recursive: true });
      writeFileSync(out, outputText);
    }
  }
});

afterAll(() => {
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
});

const run = promisify(execFile);

async function importFirst(module: string): Promise<void> {
  const url = pathToFileURL(path.join(scratch, module.replace(/\.ts$/, '.js'))).href;
  await run(process.execPath, ['--input-type=module', '-e', `await import(${JSON.stringify(url)});`], { cwd: scratch });
}

describe('gateway modules', () => {
  it('include the two that a cycle once broke', () => {
    expect(gatewayModules).toEqual(expect.arrayContaining([path.join('gateway', 'docs-site.ts'), path.join('gateway', 'routes', 'docs.ts')]));
  });

  it('each load on their own as the first module of a fresh program', { timeout: 120_000 }, async () => {
    const failures: string[] = [];
    // Two at a time: the machine is shared.
    const queue = [...gatewayModules];
    const worker = async () => {
      for (let m = queue.shift(); m !== undefined; m = queue.shift()) {
        try {
          await importFirst(m);
        } catch (err) {
          const stderr = (err as { stderr?: string }).stderr ?? String(err);
          failures.push(`${m}: ${stderr.split('\n').find((l) => /Error/.test(l)) ?? stderr}`);
        }
      }
    };
    await Promise.all([worker(), worker()]);
    expect(failures).toEqual([]);
  });
});
