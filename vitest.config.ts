import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Compiles dist/ once when end-to-end files (which spawn dist/bin/aurora.js) are in the run.
    globalSetup: ['test/e2e/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration files each use their own subject namespace and SQLite file, so they may run in parallel.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
