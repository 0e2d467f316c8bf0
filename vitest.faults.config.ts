import { defineConfig } from 'vitest/config';

// `npm run test:faults`: the long forms. The fault suite kills the real server 100 times
// (FAULT_KILLS) and the fuzzer sends 10,000 malformed inputs per endpoint family
// (FUZZ_RUNS); `npm test` runs the same files in their short forms (5 kills, 3,000 REST inputs per family).
// FAULT_SEED / FUZZ_SEED replay a run. Either variable can be overridden from the shell.
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts', 'test/fuzz/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    fileParallelism: false,
    // STORE=postgres npm run test:faults: the long forms on PostgreSQL, in the run's own cluster.
    // The run's redis-server too, for the faults of several processes (REDIS_URL).
    globalSetup: ['test/support/postgres-global-setup.ts', 'test/support/redis-global-setup.ts'],
    testTimeout: 60 * 60_000,
    hookTimeout: 120_000,
    env: {
      LOG_LEVEL: 'silent',
      FAULT_KILLS: process.env.FAULT_KILLS ?? '100',
      FUZZ_RUNS: process.env.FUZZ_RUNS ?? '10000',
    },
  },
});
