import { defineConfig } from 'vitest/config';
import LongFilesFirst from './test/support/sequencer.js';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'functions/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'test/localstack/**'],
    globalSetup: ['test/support/global-setup.ts'],
    setupFiles: ['test/support/quiet-powertools.ts'],
    // A ceiling, not a budget: a test waits on conditions, and a shared two-core machine under load
    // runs it several times slower than an idle one (the waits of test/support/test-stack.ts fit inside).
    testTimeout: 120_000,
    // Above the local stack's start ceiling (test/support/test-stack.ts), which names a stuck phase.
    hookTimeout: 180_000,
    // Four on two cores: integration files spend much of their time waiting on the pipeline (S3
    // events, leases, the browser), so other files fill those waits. Measured on a fresh clone of a
    // 2-core machine under a 2-process CPU hog: 2 workers 380 s, 3 workers 286–316 s, 4 workers 278 s.
    maxWorkers: 4,
    pool: 'forks',
    // A worker imports the packages once for all its files (AWS SDK, CDK, sharp, Kysely), not once
    // per file: a fifth of the suite's CPU time. Tests restore what they change in process.env, and
    // module state is per stack or per database, never per file.
    isolate: false,
    sequence: { sequencer: LongFilesFirst },
  },
});
