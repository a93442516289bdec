import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * `npm run test:localstack`: the end-to-end flow against the stack deployed on LocalStack. Kept out
 * of `npm test` (the root config excludes test/localstack/**): it needs Docker and a deploy first.
 */
export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['test/localstack/**/*.test.ts'],
    setupFiles: ['test/support/quiet-powertools.ts'],
    testTimeout: 300_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 1,
  },
});
