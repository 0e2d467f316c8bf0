import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';
import { FakeClock, systemClock } from './clock.js';
import { memoryRateLimits, type RateLimits } from './rate-limit.js';
import { RedisConnection } from '../redis/connection.js';
import { redisRateLimits } from '../redis/rate-limits.js';
import { redisEnv, testRedisUrl } from '../../test/support/redis.js';
import { startRedisServer, type RedisServer } from '../../test/support/redis-server.js';

const MINUTE = 60_000;
const WINDOW = 15 * MINUTE;
const silent = createLogger('silent');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One contract, both back ends. The memory back end runs on a fake clock with the real
 * windows; the Redis one on Redis's clock, so its windows are short and time really passes.
 */
interface Backend {
  name: string;
  limits: () => RateLimits;
  /** The window its tests use, in ms (Redis counts whole seconds). */
  window: number;
  /** Let `ms` pass on the back end's clock. */
  pass: (ms: number) => Promise<void>;
}

const connections: RedisConnection[] = [];
async function redisConnection(url = testRedisUrl()): Promise<RedisConnection> {
  const c = new RedisConnection(url, redisEnv(url).REDIS_KEY_PREFIX, systemClock, silent);
  connections.push(c);
  await c.waitUntilUp(5000);
  return c;
}
afterAll(async () => {
  for (const c of connections.splice(0)) await c.close();
});

const clock = new FakeClock();
let redis: RedisConnection;
beforeAll(async () => {
  redis = await redisConnection();
});

const backends: Backend[] = [
  {
    name: 'memory (injected clock)',
    limits: () => memoryRateLimits(clock),
    window: WINDOW,
    pass: (ms) => {
      clock.advance(ms);
      return Promise.resolve();
    },
  },
  {
    name: 'Redis (rate-limiter-flexible, Redis clock)',
    limits: () => redisRateLimits(redis, memoryRateLimits(clock), clock, silent),
    window: 1000,
    pass: async (ms) => {
      await sleep(ms + 30);
    },
  },
];

let n = 0;
/** A limit name of its own for every test, so no test sees another's counts. */
const fresh = () => `t${++n}-${Math.random().toString(36).slice(2, 8)}`;

describe.each(backends)('AttemptCounter on $name', (b) => {
  const counter = (max: number) => b.limits().attempts(fresh(), max, b.window);

  it('lets a key try until it has failed max times, then blocks it for at most the window', async () => {
    const l = counter(3);
    expect(await l.retryAfter('k')).toBe(0);
    await l.record('k');
    await l.record('k');
    expect(await l.retryAfter('k')).toBe(0);
    await l.record('k');
    const wait = await l.retryAfter('k');
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(b.window / 1000);
  });

  it('opens again once the window has passed, and the next failure starts a fresh count', async () => {
    const l = counter(2);
    await l.record('k');
    await l.record('k');
    expect(await l.retryAfter('k')).toBeGreaterThan(0);
    await b.pass(b.window);
    expect(await l.retryAfter('k')).toBe(0);
    await l.record('k');
    expect(await l.retryAfter('k')).toBe(0);
    await l.record('k');
    expect(await l.retryAfter('k')).toBeGreaterThan(0);
  });

  it('keeps keys apart, and reset clears one key at once', async () => {
    const l = counter(1);
    await l.record('parent-a');
    await l.record('parent-b');
    expect(await l.retryAfter('parent-a')).toBeGreaterThan(0);
    expect(await l.retryAfter('parent-c')).toBe(0);
    await l.reset('parent-b');
    expect(await l.retryAfter('parent-b')).toBe(0);
    expect(await l.retryAfter('parent-a')).toBeGreaterThan(0);
  });

  it('resetPrefix forgets exactly the keys that start with it, glob characters and all', async () => {
    const l = counter(1);
    const prefix = 'account:a*b?[c]\\d@example.test\0';
    for (const k of [`${prefix}ip:1`, `${prefix}ip:2`, 'account:aXb?[c]\\d@example.test\0ip:1', 'other'])
      await l.record(k);
    await l.resetPrefix(prefix);
    expect(await l.retryAfter(`${prefix}ip:1`)).toBe(0);
    expect(await l.retryAfter(`${prefix}ip:2`)).toBe(0);
    // A key a glob reading of the prefix would match, and an unrelated key, stay blocked.
    expect(await l.retryAfter('account:aXb?[c]\\d@example.test\0ip:1')).toBeGreaterThan(0);
    expect(await l.retryAfter('other')).toBeGreaterThan(0);
  });

  it('take() checks and counts in one step: of 20 concurrent attempts exactly max pass', async () => {
    const l = counter(5);
    const waits = await Promise.all(Array.from({ length: 20 }, () => l.take('k')));
    expect(waits.filter((w) => w === 0)).toHaveLength(5);
    expect(waits.filter((w) => w > 0)).toHaveLength(15);
    expect(await l.retryAfter('k')).toBeGreaterThan(0);
  });

  it('two limits with different names never share a count', async () => {
    const limits = b.limits();
    const one = limits.attempts(fresh(), 1, b.window);
    const two = limits.attempts(fresh(), 1, b.window);
    await one.record('k');
    expect(await one.retryAfter('k')).toBeGreaterThan(0);
    expect(await two.retryAfter('k')).toBe(0);
  });
});

describe.each(backends)('EventBudget on $name', (b) => {
  // The Redis back end's window is burst / perSecond seconds: 2 events, 2 per second = 1 s.
  const budget = () => b.limits().events(fresh(), 2, 2);

  it('allows the burst at once, then refuses with a retry time, per key', async () => {
    const e = budget();
    expect(await e.take('s')).toEqual({ ok: true });
    expect(await e.take('s')).toEqual({ ok: true });
    const refused = await e.take('s');
    expect(refused.ok).toBe(false);
    expect(refused.ok === false && refused.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(await e.take('other')).toEqual({ ok: true });
  });

  it('comes back with time, never beyond its burst', async () => {
    const e = budget();
    await e.take('s');
    await e.take('s');
    expect((await e.take('s')).ok).toBe(false);
    await b.pass(1000);
    expect(await e.take('s')).toEqual({ ok: true });
    // A long quiet spell: a minute on the fake clock, a further window on Redis.
    await b.pass(b.window === WINDOW ? 60_000 : 1000);
    const after = [await e.take('s'), await e.take('s'), await e.take('s')];
    expect(after.map((v) => v.ok)).toEqual([true, true, false]);
  });
});

describe('memory back end: exact windows on the injected clock', () => {
  it('reports Retry-After as whole seconds left in the window, rounded up', async () => {
    const c = new FakeClock();
    const l = memoryRateLimits(c).attempts('x', 1, WINDOW);
    await l.record('k');
    expect(await l.retryAfter('k')).toBe(900);
    c.advance(1);
    expect(await l.retryAfter('k')).toBe(900);
    c.advance(MINUTE - 1);
    expect(await l.retryAfter('k')).toBe(840);
    c.advance(WINDOW - MINUTE - 1);
    expect(await l.retryAfter('k')).toBe(1);
  });

  it('keeps the window fixed from the first failure: later failures do not extend it', async () => {
    const c = new FakeClock();
    const l = memoryRateLimits(c).attempts('x', 2, WINDOW);
    await l.record('k');
    c.advance(14 * MINUTE);
    await l.record('k');
    expect(await l.retryAfter('k')).toBe(60);
    c.advance(MINUTE);
    expect(await l.retryAfter('k')).toBe(0);
  });

  it('pruning under many keys never forgets a window that is still open', async () => {
    const c = new FakeClock();
    const l = memoryRateLimits(c).attempts('x', 1, WINDOW);
    await l.record('live');
    c.advance(WINDOW / 2);
    for (let i = 0; i < 100_000; i++) await l.record(`other-${i}`);
    expect(await l.retryAfter('live')).toBe(450);
    expect(await l.retryAfter('other-0')).toBe(900);
  });

  it('the event budget is a token bucket: one token back every 1/perSecond', async () => {
    const c = new FakeClock();
    const e = memoryRateLimits(c).events('x', 3, 2);
    expect((await Promise.all([e.take('s'), e.take('s'), e.take('s')])).every((v) => v.ok)).toBe(true);
    expect(await e.take('s')).toEqual({ ok: false, retryAfterSeconds: 1 });
    c.advance(499);
    expect((await e.take('s')).ok).toBe(false);
    c.advance(1);
    expect((await e.take('s')).ok).toBe(true);
  });
});

describe('Redis back end: shared by processes, and Redis away', () => {
  it('two processes (two connections) count one limit together', async () => {
    const a = redis;
    const b = await redisConnection();
    // The same deployment: the same key prefix.
    const sameDeployment = new RedisConnection(testRedisUrl(), a.keyPrefix, systemClock, silent);
    connections.push(sameDeployment);
    await sameDeployment.waitUntilUp(5000);
    const name = fresh();
    const onA = redisRateLimits(a, memoryRateLimits(clock), clock, silent).attempts(name, 4, 60_000);
    const onB = redisRateLimits(sameDeployment, memoryRateLimits(clock), clock, silent).attempts(name, 4, 60_000);
    const otherDeployment = redisRateLimits(b, memoryRateLimits(clock), clock, silent).attempts(name, 4, 60_000);
    await onA.record('k');
    await onB.record('k');
    await onA.record('k');
    expect(await onB.retryAfter('k')).toBe(0);
    await onB.record('k');
    expect(await onA.retryAfter('k')).toBeGreaterThan(50);
    expect(await onB.retryAfter('k')).toBeGreaterThan(50);
    // Another key prefix is another deployment: nothing shared.
    expect(await otherDeployment.retryAfter('k')).toBe(0);
    await onA.resetPrefix('k');
    expect(await onB.retryAfter('k')).toBe(0);
  });

  describe('while Redis is away', () => {
    let own: RedisServer;
    beforeAll(async () => {
      own = await startRedisServer();
    });
    afterAll(async () => {
      await own?.close();
    });

    it('answers at once from the in-process fallback (limits still hold), and counts in Redis again once it is back', async () => {
      const conn = await redisConnection(own.url);
      const limits = redisRateLimits(conn, memoryRateLimits(clock), clock, silent);
      const l = limits.attempts(fresh(), 2, 60_000);
      const e = limits.events(fresh(), 1, 1);
      await l.record('before');
      await own.stop();
      const started = Date.now();
      expect(await l.retryAfter('away')).toBe(0);
      await l.record('away');
      expect(await l.take('away')).toBe(0);
      expect(await l.take('away')).toBeGreaterThan(0);
      expect(await e.take('s')).toEqual({ ok: true });
      expect((await e.take('s')).ok).toBe(false);
      await l.reset('away');
      await l.resetPrefix('aw');
      expect(await l.retryAfter('away')).toBe(0);
      // None of that waited for Redis.
      expect(Date.now() - started).toBeLessThan(2000);

      await own.start();
      expect(await conn.waitUntilUp(5000)).toBe(true);
      await sleep(100);
      // A fresh Redis holds no counts (no persistence); Redis counts again from here.
      await l.record('after');
      await l.record('after');
      expect(await l.retryAfter('after')).toBeGreaterThan(0);
      const keys = await conn.limits.keys(`${conn.keyPrefix}rl:*`);
      expect(keys.some((k) => k.endsWith(':after'))).toBe(true);
    });
  });
});
