import { defineConfig } from 'vitest/config';

/**
 * `npm run test:unit`: the tests that need no stack, no database server and no browser — the
 * domain, the bytes, the use cases against in-memory fakes, the client and the package layering.
 * Seconds, for the edit-test loop; `npm test` runs them again with everything else.
 */
export default defineConfig({
  test: {
    include: [
      'packages/core/test/**/*.test.ts',
      'packages/imaging/test/**/*.test.ts',
      'packages/service/test/**/*.test.ts',
      'test/architecture/package-boundaries.test.ts',
    ],
    setupFiles: ['test/support/quiet-powertools.ts'],
    testTimeout: 60_000,
  },
});
