import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, inject } from 'vitest';
import { FakeClock } from '../../server/core/clock.js';
import type { AppOptions } from '../../server/app.js';
import { freshDatabase } from './postgres.js';
import { startRedisServer, type RedisServer } from './redis-server.js';
import type { TestServer, testServers } from './server.js';

/** The run's Redis (test/support/redis-global-setup.ts); fails with how to install redis-server when there is none. */
export function testRedisUrl(): string {
  const provided = inject('redis');
  if (!provided)
    throw new Error('no Redis was provided: run the tests through vitest.config.ts (its globalSetup starts one)');
  if ('error' in provided) throw new Error(provided.error);
  return provided.url;
}

/**
 * A redis-server of the test file's own, for tests that stop and start Redis: started before the
 * file's tests, started again after a test that left it stopped (so each test begins with Redis up),
 * closed after the file. Read it inside tests; it is there from beforeAll on.
 */
export function ownRedisServer(): RedisServer {
  let server: RedisServer | undefined;
  const started = (): RedisServer => {
    if (!server) throw new Error("the file's redis-server starts in beforeAll: use it inside tests and hooks");
    return server;
  };
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterEach(async () => {
    if (server && !server.running) await server.start();
  });
  afterAll(async () => {
    await server?.close();
  });
  return {
    get url() {
      return started().url;
    },
    get port() {
      return started().port;
    },
    get running() {
      return started().running;
    },
    stop: () => started().stop(),
    start: () => started().start(),
    close: () => started().close(),
  };
}

/**
 * Server environment for one group of processes sharing the run's Redis: its URL and a key
 * prefix of their own, so the streams, channels and counters of other test files never meet theirs.
 */
export function redisEnv(url = testRedisUrl()): { REDIS_URL: string; REDIS_KEY_PREFIX: string } {
  return { REDIS_URL: url, REDIS_KEY_PREFIX: `t${randomBytes(5).toString('hex')}:` };
}

/**
 * `count` app instances in this test process, each with its own HTTP and socket.io server and
 * its own Redis connections, on one fresh PostgreSQL database (one data key) and one Redis
 * under one key prefix: what N server processes of one deployment share. They share the fake
 * clock too (one wall clock for the deployment). Every server is closed by testServers()'s afterEach.
 */
export async function startServerGroup(
  servers: ReturnType<typeof testServers>,
  count: number,
  opts: {
    redisUrl?: string;
    env?: Record<string, string>;
    clock?: FakeClock;
    /** App options per server (e.g. a realtime provider of its own), by index. */
    app?: (index: number) => Partial<AppOptions>;
  } = {},
): Promise<TestServer[]> {
  const env = {
    DATABASE_URL: await freshDatabase('group'),
    DATA_KEY: randomBytes(32).toString('hex'),
    ...redisEnv(opts.redisUrl),
    ...opts.env,
  };
  const clock = opts.clock ?? new FakeClock();
  const group: TestServer[] = [];
  for (let i = 0; i < count; i++) group.push(await servers.start({ env, clock, app: opts.app?.(i) }));
  return group;
}
