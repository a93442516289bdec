import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'functions/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'test/localstack/**'],
    globalSetup: ['test/support/global-setup.ts'],
    setupFiles: ['test/support/quiet-powertools.ts'],
    testTimeout: 60_000,
    // Above the local stack's own start budget (test/support/test-stack.ts), which names the slow phase.
    hookTimeout: 120_000,
    // Two cores: more workers only fight over libvips threads and the database.
    maxWorkers: 2,
    pool: 'forks',
  },
});
