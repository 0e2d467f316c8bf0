import type { TestProject } from 'vitest/node';
import { startPgCluster } from './pg-cluster.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The test run's PostgreSQL cluster, or why there is none (the PostgreSQL tests fail with it). */
    postgres: { url: string; dataDir: string } | { error: string };
  }
}

/**
 * One throwaway PostgreSQL cluster for the whole test run; every test file that needs it makes
 * its own database there (test/support/postgres.ts). A machine without PostgreSQL fails only
 * those tests, with the message saying how to install it.
 */
export default async function setup(project: TestProject): Promise<() => void> {
  try {
    const cluster = await startPgCluster();
    project.provide('postgres', { url: cluster.url, dataDir: cluster.dataDir });
    return () => cluster.stop();
  } catch (err) {
    project.provide('postgres', { error: err instanceof Error ? err.message : String(err) });
    return () => undefined;
  }
}
