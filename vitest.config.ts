import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration files each use their own subject namespace and SQLite file, so they may run in parallel.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
