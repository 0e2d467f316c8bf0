import type { Clock } from './clock.js';

/**
 * Fixed-window attempt counter: at most `max` recorded attempts per key in a window. What an
 * attempt is, is the caller's: a wrong password, a reset mail sent, a data export, a photo
 * upload, a support request. It guards against guessing and abuse, it is not a record of
 * truth, so memory is the right place (a scaled-out deployment would share it through Redis).
 */
export class AttemptLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly max: number,
    private readonly windowMs: number,
  ) {}

  /** Seconds until the key may try again, or 0 when it may try now. */
  retryAfter(key: string): number {
    const w = this.windows.get(key);
    if (!w) return 0;
    const elapsed = this.clock.now() - w.start;
    if (elapsed >= this.windowMs) {
      this.windows.delete(key);
      return 0;
    }
    return w.count >= this.max ? Math.ceil((this.windowMs - elapsed) / 1000) : 0;
  }

  /** One more attempt by `key` in its window. */
  record(key: string): void {
    const now = this.clock.now();
    const w = this.windows.get(key);
    if (!w || now - w.start >= this.windowMs) this.windows.set(key, { start: now, count: 1 });
    else w.count++;
    if (this.windows.size > 100_000) this.prune(now);
  }

  reset(key: string): void {
    this.windows.delete(key);
  }

  /** Forget every key that starts with prefix. */
  resetPrefix(prefix: string): void {
    for (const k of this.windows.keys()) if (k.startsWith(prefix)) this.windows.delete(k);
  }

  private prune(now: number): void {
    for (const [k, w] of this.windows) if (now - w.start >= this.windowMs) this.windows.delete(k);
  }
}

/**
 * Token bucket (one per sign-in session, for its sockets' events). In memory on purpose: it protects this
 * process from a noisy client, it is not a record of anything.
 */
export class EventRateLimiter {
  private tokens: number;
  private at: number;
  private refusedInARow = 0;

  constructor(
    private readonly clock: Clock,
    private readonly burst: number,
    private readonly perSecond: number,
    private readonly dropAfter: number,
  ) {
    this.tokens = burst;
    this.at = clock.now();
  }

  /** 'ok' to handle the event, 'refuse' to answer rate_limited, 'drop' to disconnect. */
  take(): 'ok' | 'refuse' | 'drop' {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) / 1000) * this.perSecond);
    this.at = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      this.refusedInARow = 0;
      return 'ok';
    }
    this.refusedInARow++;
    return this.refusedInARow >= this.dropAfter ? 'drop' : 'refuse';
  }

  /** Refilled to its burst: forgetting it loses nothing. */
  isFull(): boolean {
    const now = this.clock.now();
    return this.tokens + ((now - this.at) / 1000) * this.perSecond >= this.burst;
  }

  retryAfterSeconds(): number {
    return Math.max(1, Math.ceil((1 - this.tokens) / this.perSecond));
  }
}
