import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { AttemptCounter, EventBudget, EventVerdict, RateLimits } from '../core/rate-limit.js';
import type { RedisConnection } from './connection.js';

/** Redis's glob characters, escaped so a key prefix (an email) matches only itself in SCAN. */
const escapeGlob = (s: string) => s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);

/**
 * The rate limits counted in Redis, shared by every process of the deployment: five wrong
 * passwords are five whichever processes answered them. rate-limiter-flexible's RateLimiterRedis
 * keeps each window as one key that expires (an atomic INCRBY + EXPIRE script), so the window
 * runs on Redis's clock, the one every process agrees on.
 *
 * While Redis is away (the limits client fails at once: no offline queue), each call is answered
 * by the in-process fallback instead: the limits still hold per process, a login is never kept
 * waiting on Redis, and nothing is refused just because Redis blinked. Counts made meanwhile
 * stay in that process; they are not carried into Redis when it returns.
 */
export function redisRateLimits(
  redis: RedisConnection,
  fallback: RateLimits,
  clock: Clock,
  logger: Logger,
): RateLimits {
  let fellBackAt = 0;
  const fellBack = (err: unknown) => {
    // Said once a minute at most: every request would say it otherwise.
    const now = clock.now();
    if (now - fellBackAt > 60_000) {
      fellBackAt = now;
      logger.warn(
        { err: err instanceof Error ? err.message : String(err) },
        'rate limits counted in this process while Redis is away',
      );
    }
  };
  const limiter = (name: string, points: number, seconds: number) =>
    new RateLimiterRedis({
      storeClient: redis.limits,
      keyPrefix: `${redis.keyPrefix}rl:${name}`,
      points,
      duration: seconds,
      // Fail at once (and use the fallback) rather than wait for a connection that is not there.
      rejectIfRedisNotReady: true,
    });

  return {
    kind: 'redis',
    attempts(name, max, windowMs): AttemptCounter {
      const rl = limiter(name, max, Math.max(1, Math.ceil(windowMs / 1000)));
      const local = fallback.attempts(name, max, windowMs);
      return {
        async retryAfter(key) {
          try {
            const res = await rl.get(key);
            if (!res || res.consumedPoints < max) return 0;
            // A key without a TTL would be a bug elsewhere; it still waits a whole window, not forever.
            return res.msBeforeNext > 0 ? Math.ceil(res.msBeforeNext / 1000) : Math.ceil(windowMs / 1000);
          } catch (err) {
            fellBack(err);
            return local.retryAfter(key);
          }
        },
        async record(key) {
          try {
            // penalty() adds a point without refusing: the caller decided this was an attempt.
            await rl.penalty(key, 1);
          } catch (err) {
            fellBack(err);
            await local.record(key);
          }
        },
        async take(key) {
          try {
            // consume() counts and checks in one atomic script: concurrent attempts on any process cannot all pass.
            await rl.consume(key, 1);
            return 0;
          } catch (err) {
            if (err instanceof RateLimiterRes) return Math.max(1, Math.ceil(err.msBeforeNext / 1000));
            fellBack(err);
            return local.take(key);
          }
        },
        async reset(key) {
          await local.reset(key);
          try {
            await rl.delete(key);
          } catch (err) {
            fellBack(err);
          }
        },
        async resetPrefix(prefix) {
          await local.resetPrefix(prefix);
          try {
            const match = `${escapeGlob(rl.getKey(prefix))}*`;
            let cursor = '0';
            do {
              const [next, keys] = await redis.limits.scan(cursor, 'MATCH', match, 'COUNT', 500);
              if (keys.length > 0) await redis.limits.del(...keys);
              cursor = next;
            } while (cursor !== '0');
          } catch (err) {
            fellBack(err);
          }
        },
      };
    },
    events(name, burst, perSecond): EventBudget {
      // rate-limiter-flexible has no token bucket: a fixed window of `burst` events per the time
      // the bucket takes to refill. The same burst at once and the same rate over time; only
      // within one window may a client that paced itself get its burst a little later.
      const rl = limiter(name, burst, Math.max(1, Math.round(burst / perSecond)));
      const local = fallback.events(name, burst, perSecond);
      return {
        async take(key): Promise<EventVerdict> {
          try {
            await rl.consume(key, 1);
            return { ok: true };
          } catch (err) {
            if (err instanceof RateLimiterRes)
              return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(err.msBeforeNext / 1000)) };
            fellBack(err);
            return local.take(key);
          }
        },
      };
    },
  };
}
