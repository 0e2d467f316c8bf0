import type { Clock } from './clock.js';

/**
 * Rate limits guard against guessing and abuse; they are not a record of truth. One async
 * interface, two back ends: this file's in-process one (the default, and the fallback while
 * Redis is away), and server/redis/rate-limits.ts, which counts in Redis so that every
 * process of a deployment (REDIS_URL) shares one count.
 *
 * Why the memory back end is ours and not rate-limiter-flexible's RateLimiterMemory: that one
 * reads Date.now(), and the limits' tests (and every test server) run on an injected fake
 * clock, so a window opening again is a clock.advance(), not a sleep. The Redis back end is
 * rate-limiter-flexible's RateLimiterRedis: its windows are Redis key expiries, on Redis's own
 * clock, which is the one clock every process agrees on; its tests use short real windows.
 */

/** Fixed-window attempt counting: at most `max` recorded attempts per key in a window. */
export interface AttemptCounter {
  /** Seconds until the key may try again, or 0 when it may try now. */
  retryAfter(key: string): Promise<number>;
  /** One more attempt by `key` in its window (the window starts at its first attempt). */
  record(key: string): Promise<void>;
  /**
   * Check and count in one step, so concurrent attempts (on any process) cannot all pass the
   * check before any is counted: 0 when this attempt is allowed (and counted), else the seconds
   * to wait. A refused attempt adds nothing that matters: the window is fixed from its first.
   */
  take(key: string): Promise<number>;
  /** Forget the key's attempts. */
  reset(key: string): Promise<void>;
  /** Forget every key that starts with prefix. */
  resetPrefix(prefix: string): Promise<void>;
}

export type EventVerdict = { ok: true } | { ok: false; retryAfterSeconds: number };

/** A budget of events per key: `burst` at once, regained at `perSecond`. */
export interface EventBudget {
  take(key: string): Promise<EventVerdict>;
}

export interface RateLimits {
  readonly kind: 'memory' | 'redis';
  /** `name` tells one limit's keys from another's (in Redis it is part of every key). */
  attempts(name: string, max: number, windowMs: number): AttemptCounter;
  events(name: string, burst: number, perSecond: number): EventBudget;
}

/** The in-process back end, on the injected clock. */
export function memoryRateLimits(clock: Clock): RateLimits {
  return {
    kind: 'memory',
    attempts: (_name, max, windowMs) => new MemoryAttempts(clock, max, windowMs),
    events: (_name, burst, perSecond) => new MemoryEventBudget(clock, burst, perSecond),
  };
}

/** A Map of fixed windows; every method's work is synchronous, so concurrent callers cannot interleave. */
export class MemoryAttempts implements AttemptCounter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly max: number,
    private readonly windowMs: number,
  ) {}

  retryAfter(key: string): Promise<number> {
    return Promise.resolve(this.waitOf(key));
  }

  private waitOf(key: string): number {
    const w = this.windows.get(key);
    if (!w) return 0;
    const elapsed = this.clock.now() - w.start;
    if (elapsed >= this.windowMs) {
      this.windows.delete(key);
      return 0;
    }
    return w.count >= this.max ? Math.ceil((this.windowMs - elapsed) / 1000) : 0;
  }

  record(key: string): Promise<void> {
    this.recordNow(key);
    return Promise.resolve();
  }

  private recordNow(key: string): void {
    const now = this.clock.now();
    const w = this.windows.get(key);
    if (!w || now - w.start >= this.windowMs) this.windows.set(key, { start: now, count: 1 });
    else w.count++;
    if (this.windows.size > 100_000) this.prune(now);
  }

  take(key: string): Promise<number> {
    // Checked and counted synchronously: no other caller runs in between.
    const wait = this.waitOf(key);
    if (wait === 0) this.recordNow(key);
    return Promise.resolve(wait);
  }

  reset(key: string): Promise<void> {
    this.windows.delete(key);
    return Promise.resolve();
  }

  resetPrefix(prefix: string): Promise<void> {
    for (const k of this.windows.keys()) if (k.startsWith(prefix)) this.windows.delete(k);
    return Promise.resolve();
  }

  private prune(now: number): void {
    for (const [k, w] of this.windows) if (now - w.start >= this.windowMs) this.windows.delete(k);
  }
}

/** One token bucket per key; a full bucket is forgotten when many are held (it loses nothing). */
export class MemoryEventBudget implements EventBudget {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly burst: number,
    private readonly perSecond: number,
  ) {}

  take(key: string): Promise<EventVerdict> {
    const now = this.clock.now();
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= 10_000) this.prune(now);
      b = { tokens: this.burst, at: now };
      this.buckets.set(key, b);
    }
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.perSecond);
    b.at = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return Promise.resolve({ ok: true });
    }
    return Promise.resolve({
      ok: false,
      retryAfterSeconds: Math.max(1, Math.ceil((1 - b.tokens) / this.perSecond)),
    });
  }

  private prune(now: number): void {
    for (const [k, b] of this.buckets)
      if (b.tokens + ((now - b.at) / 1000) * this.perSecond >= this.burst) this.buckets.delete(k);
  }
}
