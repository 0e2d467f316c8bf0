import type { TestProject } from 'vitest/node';
import { startRedisServer } from './redis-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The test run's Redis, or why there is none (the tests that need it fail with it). */
    redis: { url: string } | { error: string };
  }
}

/**
 * One throwaway redis-server for the whole test run. Test files share it, each under its own
 * key prefix (test/support/redis.ts), so their streams, channels and counters never meet. A
 * machine without redis-server fails only the tests that need it, saying how to install it.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  try {
    const redis = await startRedisServer();
    project.provide('redis', { url: redis.url });
    return () => redis.close();
  } catch (err) {
    project.provide('redis', { error: err instanceof Error ? err.message : String(err) });
    return async () => undefined;
  }
}
