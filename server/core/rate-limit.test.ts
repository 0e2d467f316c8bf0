import { describe, expect, it } from 'vitest';
import { FakeClock } from './clock.js';
import { EventRateLimiter, AttemptLimiter } from './rate-limit.js';

const MINUTE = 60_000;
const WINDOW = 15 * MINUTE;

function limiter(max = 3) {
  const clock = new FakeClock();
  return { clock, limiter: new AttemptLimiter(clock, max, WINDOW) };
}

describe('AttemptLimiter: fixed-window attempt counting', () => {
  it('lets a key try until it has failed max times, then blocks it', () => {
    const { limiter: l } = limiter(3);
    expect(l.retryAfter('k')).toBe(0);
    l.record('k');
    l.record('k');
    expect(l.retryAfter('k')).toBe(0);
    l.record('k');
    expect(l.retryAfter('k')).toBeGreaterThan(0);
  });

  it('reports Retry-After as whole seconds left in the window, rounded up', () => {
    const { clock, limiter: l } = limiter(1);
    l.record('k');
    expect(l.retryAfter('k')).toBe(900);
    clock.advance(1);
    expect(l.retryAfter('k')).toBe(900);
    clock.advance(MINUTE - 1);
    expect(l.retryAfter('k')).toBe(840);
    clock.advance(WINDOW - MINUTE - 1);
    expect(l.retryAfter('k')).toBe(1);
  });

  it('opens again once the window has passed, and the next failure starts a fresh count', () => {
    const { clock, limiter: l } = limiter(2);
    l.record('k');
    l.record('k');
    expect(l.retryAfter('k')).toBeGreaterThan(0);
    clock.advance(WINDOW);
    expect(l.retryAfter('k')).toBe(0);
    l.record('k');
    expect(l.retryAfter('k')).toBe(0);
    l.record('k');
    expect(l.retryAfter('k')).toBe(900);
  });

  it('keeps the window fixed from the first failure: later failures do not extend it', () => {
    const { clock, limiter: l } = limiter(2);
    l.record('k');
    clock.advance(14 * MINUTE);
    l.record('k');
    expect(l.retryAfter('k')).toBe(60);
    clock.advance(MINUTE);
    expect(l.retryAfter('k')).toBe(0);
  });

  it('a failure that lands after an expired window (never read in between) counts as the first of a new window', () => {
    const { clock, limiter: l } = limiter(2);
    l.record('k');
    clock.advance(WINDOW + 5 * MINUTE);
    l.record('k');
    expect(l.retryAfter('k')).toBe(0);
    l.record('k');
    expect(l.retryAfter('k')).toBe(900);
  });

  it('keeps keys apart: one key being blocked leaves every other key free', () => {
    const { limiter: l } = limiter(2);
    l.record('parent-a');
    l.record('parent-a');
    l.record('parent-b');
    expect(l.retryAfter('parent-a')).toBe(900);
    expect(l.retryAfter('parent-b')).toBe(0);
    expect(l.retryAfter('parent-c')).toBe(0);
    l.reset('parent-b');
    l.record('parent-b');
    expect(l.retryAfter('parent-b')).toBe(0);
    expect(l.retryAfter('parent-a')).toBe(900);
  });

  it('reset clears one key at once and leaves the others blocked', () => {
    const { limiter: l } = limiter(1);
    l.record('a');
    l.record('b');
    l.reset('a');
    expect(l.retryAfter('a')).toBe(0);
    expect(l.retryAfter('b')).toBe(900);
  });

  it('pruning under many keys never forgets a window that is still open', () => {
    const { clock, limiter: l } = limiter(1);
    l.record('live');
    clock.advance(WINDOW / 2);
    for (let i = 0; i < 100_000; i++) l.record(`other-${i}`);
    expect(l.retryAfter('live')).toBe(450);
    expect(l.retryAfter('other-0')).toBe(900);
  });
});

describe("EventRateLimiter: a token bucket for one socket's events", () => {
  it('allows a burst, then refuses until tokens come back at the set rate on the clock', () => {
    const clock = new FakeClock();
    const l = new EventRateLimiter(clock, 3, 2, 10);
    expect([l.take(), l.take(), l.take()]).toEqual(['ok', 'ok', 'ok']);
    expect(l.take()).toBe('refuse');
    expect(l.retryAfterSeconds()).toBe(1);
    clock.advance(499);
    expect(l.take()).toBe('refuse');
    clock.advance(1);
    expect(l.take()).toBe('ok');
    // Refill never exceeds the burst, however long the socket was quiet.
    clock.advance(60_000);
    expect([l.take(), l.take(), l.take(), l.take()]).toEqual(['ok', 'ok', 'ok', 'refuse']);
  });

  it('says drop after dropAfter refusals in a row; an allowed event resets the count', () => {
    const clock = new FakeClock();
    const l = new EventRateLimiter(clock, 1, 1, 3);
    expect(l.take()).toBe('ok');
    expect([l.take(), l.take()]).toEqual(['refuse', 'refuse']);
    clock.advance(1000);
    expect(l.take()).toBe('ok');
    expect([l.take(), l.take(), l.take()]).toEqual(['refuse', 'refuse', 'drop']);
  });
});
