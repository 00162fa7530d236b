// Builds the dashboard into dist/ui: one script and one stylesheet with content-hashed names
// (served as immutable), and index.html naming them (served no-cache). Run by `npm run build`.
// Plain JavaScript so that the build needs nothing compiled first.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import process from 'node:process';
import { build } from 'esbuild';

const root = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(root, '..', 'dist', 'ui');

rmSync(out, { recursive: true, force: true });
mkdirSync(path.join(out, 'assets'), { recursive: true });

const result = await build({
  entryPoints: [path.join(root, 'src', 'main.tsx')],
  bundle: true,
  format: 'esm',
  target: ['es2022'],
  minify: true,
  sourcemap: false,
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir: path.join(out, 'assets'),
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
  define: { 'process.env.NODE_ENV': '"production"' },
});

const outputs = Object.keys(result.metafile.outputs).map((f) => path.basename(f));
const script = outputs.find((f) => f.endsWith('.js'));
const style = outputs.find((f) => f.endsWith('.css'));
if (script === undefined || style === undefined) throw new Error(`dashboard build: expected a .js and a .css output, got ${outputs.join(', ')}`);

// The page loads nothing but its two files (absolute paths: /ui and /ui/ are the same route): no
// inline script or style, so the CSP can forbid both. The empty data: icon spares a favicon request.
const html = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Aurora dashboard</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/ui/assets/${style}">
<script type="module" src="/ui/assets/${script}"></script>
</head>
<body>
<div id="app"></div>
<noscript>The Aurora dashboard needs JavaScript.</noscript>
</body>
</html>
`;
writeFileSync(path.join(out, 'index.html'), html);

// The first load is these three files: their gzipped size is the number to keep small (≤ 250 KB).
const firstLoad = [path.join(out, 'index.html'), path.join(out, 'assets', script), path.join(out, 'assets', style)];
const gzipped = firstLoad.reduce((sum, f) => sum + gzipSync(readFileSync(f), { level: 9 }).length, 0);
process.stdout.write(`dashboard: dist/ui built, first load ${(gzipped / 1024).toFixed(1)} KB gzipped\n`);
