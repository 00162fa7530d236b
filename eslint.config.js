// Lint is part of `npm test`: it keeps the dependency direction of the architecture true
// (gateway → runtime; supervisors → actors → runtime; runtime → nothing of ours), forbids import
// cycles, gives each third-party library one home, routes time through runtime/clock.ts, and
// catches promises nobody awaits.
import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

/** Library → the only folders that may import it. */
const LIBRARY_HOMES = [
  { names: ['@nats-io/*'], home: 'runtime/bus' },
  { names: ['better-sqlite3'], home: 'runtime/store' },
  { names: ['ioredis'], home: 'runtime/cache' },
  { names: ['ollama'], home: 'runtime/providers' },
  // Chromium is a supervised resource: the pool that owns its processes is puppeteer's one home.
  { names: ['puppeteer-core'], home: 'supervisors/browser' },
  { names: ['prom-client'], home: 'runtime/metrics' },
  { names: ['uWebSockets.js', 'jose'], home: 'gateway' },
  { names: ['xstate'], home: 'actors, supervisors' },
  { names: ['ws'], home: 'client' },
  { names: ['commander', 'cli-table3', 'cli-progress'], home: 'cli' },
  { names: ['preact', 'preact/*', '@preact/*', 'd3-hierarchy', 'esbuild'], home: 'dashboard' },
];

/** Our top-level folders each layer must not import. */
const LAYERS = {
  runtime: ['actors', 'supervisors', 'gateway', 'bin', 'client', 'cli'],
  actors: ['supervisors', 'gateway', 'bin', 'client', 'cli'],
  supervisors: ['gateway', 'bin', 'client', 'cli'],
  gateway: ['actors', 'supervisors', 'bin', 'client', 'cli'],
  // The API client speaks to Aurora from outside: it knows the wire shapes and nothing else.
  client: ['actors', 'supervisors', 'gateway', 'bin', 'cli'],
  // The command line reaches Aurora only through the client (bin/cli.ts hands it the token minter).
  cli: ['actors', 'supervisors', 'gateway', 'bin'],
  // The dashboard is a page: like the command line, it reaches Aurora only through the client.
  dashboard: ['actors', 'supervisors', 'gateway', 'bin', 'cli'],
};

const SOURCE_FOLDERS = ['runtime', 'actors', 'supervisors', 'gateway', 'client', 'cli', 'dashboard'];

/** Of runtime/, what the outside-facing folders (client/, cli/) may import: the wire shapes and the error table. */
const OUTSIDE_OF_RUNTIME = {
  group: ['../runtime/*', '!../runtime/protocol', '!../runtime/errors.js'],
  message: 'client/ and cli/ may import of runtime/ only runtime/protocol/ and runtime/errors.ts (they speak to Aurora over the wire).',
};

function folderPatterns(folder, forbidden) {
  // Every relative depth a file of `folder` could use to reach a sibling top-level folder.
  const depths = ['../', '../../', '../../../', '../../../../'];
  return forbidden.map((target) => ({
    group: depths.map((d) => `${d}${target}/**`),
    message: `${folder}/ may not import ${target}/ (see the dependency direction in README's architecture section).`,
  }));
}

/** Libraries whose home is not `place` (a folder such as 'gateway' or 'runtime/bus'). */
function libraryPatterns(place) {
  const atHome = (home) => home === place || place.startsWith(`${home}/`);
  return LIBRARY_HOMES.filter((lib) => !lib.home.split(', ').some(atHome)).map((lib) => ({
    group: lib.names,
    message: `${lib.names.join(', ')} lives in ${lib.home}/ only.`,
  }));
}

/** The dashboard's files sit deeper (dashboard/src/views/): the same rule at their depths. */
const DASHBOARD_OUTSIDE_OF_RUNTIME = {
  group: ['../../runtime/*', '!../../runtime/protocol', '../../../runtime/*', '!../../../runtime/protocol'],
  message: 'dashboard/ may import of runtime/ only runtime/protocol/ (it speaks to Aurora through client/).',
};

function restrictedImports(files, layer, place) {
  const outside =
    layer === 'client' || layer === 'cli' ? [OUTSIDE_OF_RUNTIME] : layer === 'dashboard' ? [DASHBOARD_OUTSIDE_OF_RUNTIME] : [];
  return {
    files,
    rules: {
      'no-restricted-imports': ['error', { patterns: [...folderPatterns(layer, LAYERS[layer] ?? []), ...outside, ...libraryPatterns(place)] }],
    },
  };
}

const TIME_GLOBALS = ['setTimeout', 'setInterval', 'setImmediate', 'clearTimeout', 'clearInterval', 'clearImmediate'].map(
  (name) => ({ name, message: 'Schedule through the injected Clock (runtime/clock.ts).' }),
);
const TIME_PROPERTIES = [
  { object: 'Date', property: 'now', message: 'Read time through the injected Clock (runtime/clock.ts).' },
  { object: 'performance', property: 'now', message: 'Read time through the injected Clock (clock.monotonic()).' },
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bench/out/**', '.ci/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    settings: {
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.tsx'] },
      'import-x/extensions': ['.ts', '.tsx', '.js'],
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: ['./tsconfig.json', './dashboard/tsconfig.json'], noWarnOnMultipleProjects: true })],
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'no-constant-condition': ['error', { checkLoops: false }],
      // A closure may read a variable that is assigned once, later (wiring that refers to itself).
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  ...SOURCE_FOLDERS.map((folder) => restrictedImports([`${folder}/**/*.ts`, `${folder}/**/*.tsx`], folder, folder)),
  // Inside a layer, each library's own subfolder may use it (later blocks override earlier ones).
  ...LIBRARY_HOMES.filter((lib) => /^(runtime|supervisors)\//.test(lib.home)).map((lib) =>
    restrictedImports([`${lib.home}/**/*.ts`, `${lib.home}.ts`], lib.home.split('/')[0], lib.home),
  ),
  // The protocol is the bottom of the house: it imports nothing of ours outside itself.
  {
    files: ['runtime/protocol/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['../**'], message: 'runtime/protocol/ imports nothing of ours outside itself.' },
            ...libraryPatterns('runtime/protocol'),
          ],
        },
      ],
    },
  },
  {
    files: ['runtime/**/*.ts', 'supervisors/**/*.ts', 'gateway/**/*.ts'],
    ignores: ['runtime/clock.ts'],
    rules: {
      'no-restricted-globals': ['error', ...TIME_GLOBALS],
      'no-restricted-properties': ['error', ...TIME_PROPERTIES],
    },
  },
);
