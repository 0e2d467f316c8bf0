import { Redis } from 'ioredis';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';

/** What /healthz says of Redis. Never the URL: it may carry a password. */
export interface RedisHealth {
  ok: boolean;
  /** ioredis' connection state: ready, connecting, reconnecting, end, ... */
  status: string;
  /** The last connection error's message, kept until the connection is ready again. */
  lastError: string | null;
  /** Since when (epoch ms on the injected clock) Redis has been away, or null while it is up. */
  downSince: number | null;
}

/** Reconnect soon and often: a Redis that blinks is back within a second of its return. */
const retryStrategy = (times: number): number => Math.min(100 * times, 1000);

/**
 * The process's connections to Redis, and whether Redis is up.
 *
 * Two clients, on purpose. `events` carries socket.io's streams adapter: while Redis is away
 * its commands wait in ioredis' offline queue and are sent, in order, when it returns
 * (maxRetriesPerRequest: null), so an event emitted meanwhile still reaches the sockets on
 * other processes. `limits` carries the rate-limit counters and fails at once while Redis is
 * away (no offline queue), so a login is answered from the in-process fallback instead of
 * waiting for Redis (server/core/rate-limit-redis.ts).
 */
export class RedisConnection {
  readonly events: Redis;
  readonly limits: Redis;
  readonly keyPrefix: string;
  private lastError: string | null = null;
  private downSince: number | null;
  private readonly upListeners: (() => void)[] = [];

  constructor(
    url: string,
    keyPrefix: string,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {
    this.keyPrefix = keyPrefix;
    this.downSince = clock.now();
    this.events = new Redis(url, { maxRetriesPerRequest: null, retryStrategy, connectionName: 'callsanta-events' });
    this.limits = new Redis(url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy,
      connectTimeout: 2000,
      commandTimeout: 2000,
      connectionName: 'callsanta-limits',
    });
    this.events.on('ready', () => {
      if (this.downSince !== null && this.lastError !== null)
        this.logger.info({ awayMs: this.clock.now() - this.downSince }, 'Redis is back');
      this.downSince = null;
      this.lastError = null;
      for (const l of this.upListeners) l();
    });
    this.events.on('error', (err: Error) => this.noteError(err));
    this.events.on('close', () => {
      // Redis closed the connection (a restart, a failover): said until a reconnect fails with more.
      this.lastError ??= 'the connection to Redis was closed';
      if (this.downSince === null) {
        this.downSince = this.clock.now();
        this.logger.warn('Redis connection lost: new calls are refused until it is back; live calls go on');
      }
    });
    // The limits client's own errors are answered by the fallback; they only need a listener
    // (ioredis reports an unhandled 'error' otherwise).
    this.limits.on('error', () => undefined);
  }

  private noteError(err: Error): void {
    const message = err.message || err.name;
    if (message !== this.lastError) this.logger.warn({ err: message }, 'Redis connection error');
    this.lastError = message;
  }

  /** Up: the events client is connected and ready (the one every other process's events arrive through). */
  isUp(): boolean {
    return this.events.status === 'ready';
  }

  health(): RedisHealth {
    const ok = this.isUp();
    return {
      ok,
      status: this.events.status,
      lastError: ok ? null : this.lastError,
      downSince: ok ? null : this.downSince,
    };
  }

  /** Called each time Redis is (again) ready. */
  onUp(listener: () => void): void {
    this.upListeners.push(listener);
  }

  /** Resolves once both clients are ready (true), or after `ms` (false) if they are not. */
  async waitUntilUp(ms: number): Promise<boolean> {
    const ready = (c: Redis) =>
      c.status === 'ready'
        ? Promise.resolve(true)
        : new Promise<boolean>((resolve) => {
            const timer = setTimeout(() => {
              c.off('ready', onReady);
              resolve(false);
            }, ms);
            timer.unref();
            const onReady = () => {
              clearTimeout(timer);
              resolve(true);
            };
            c.once('ready', onReady);
          });
    const [events, limits] = await Promise.all([ready(this.events), ready(this.limits)]);
    return events && limits;
  }

  async close(): Promise<void> {
    for (const c of [this.events, this.limits]) {
      // quit() waits for a reply a Redis that is away never sends; disconnect() does not.
      if (c.status === 'ready') await c.quit().catch(() => c.disconnect());
      else c.disconnect();
    }
  }
}
