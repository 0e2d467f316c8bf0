import { configDefaults, defineConfig } from 'vitest/config';

// Server and shared tests run in Node; extension unit tests have their own project
// (WXT's plugin and fakeBrowser) in extension/vitest.config.ts.
export default defineConfig({
  test: {
    include: ['server/**/*.test.ts', 'shared/**/*.test.ts', 'test/**/*.test.ts'],
    // The cluster fault suite (three server processes, tens of live WebRTC calls) runs alone,
    // with the machine's cores to itself: its own step of npm test (scripts/test.mjs), or
    // npm run test:cluster (CLUSTER_FAULTS=1). Here it would share the cores with every other file.
    exclude: [
      ...configDefaults.exclude,
      ...(process.env.CLUSTER_FAULTS ? [] : ['test/cluster/cluster-faults.test.ts']),
    ],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // A throwaway PostgreSQL cluster for the store tests that run against PostgreSQL, and a
    // throwaway redis-server for the tests of several processes (REDIS_URL).
    globalSetup: ['test/support/postgres-global-setup.ts', 'test/support/redis-global-setup.ts'],
    env: { LOG_LEVEL: 'silent' },
  },
});
