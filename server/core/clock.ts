/**
 * Time is injected so metering and retention are tested with a fake clock, not sleeps.
 * Timers go through the clock too: a fake clock fires them when advanced.
 */
export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  setInterval(fn: () => void, ms: number): TimerHandle;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return { cancel: () => clearTimeout(t) };
  },
  setInterval(fn, ms) {
    const t = setInterval(fn, ms);
    t.unref?.();
    return { cancel: () => clearInterval(t) };
  },
};

interface FakeTimer {
  id: number;
  at: number;
  every: number | null;
  fn: () => void;
}

/** A clock for tests: time moves only when advance() is called; due timers fire in order. */
export class FakeClock implements Clock {
  private current: number;
  private timers: FakeTimer[] = [];
  private nextId = 1;

  constructor(start: number = Date.parse('2026-12-01T10:00:00Z')) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.add(fn, ms, null);
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    return this.add(fn, ms, Math.max(1, ms));
  }

  /**
   * Move time forward, firing every timer that falls due, in time order (ties by creation).
   * A test that moves years ahead fires a short interval millions of times, synchronously: the
   * next due timer is found by one pass over the timers, with no allocation, so such a jump
   * takes a fraction of a second rather than blocking the event loop for seconds (long enough
   * for the test server to drop an idle keep-alive connection the next request then reuses).
   */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      let due: FakeTimer | undefined;
      for (const t of this.timers)
        if (t.at <= target && (due === undefined || t.at < due.at || (t.at === due.at && t.id < due.id))) due = t;
      if (!due) break;
      this.current = Math.max(this.current, due.at);
      if (due.every === null) this.timers = this.timers.filter((t) => t !== due);
      else due.at += due.every;
      due.fn();
    }
    this.current = target;
  }

  /** Advance in steps, yielding to the event loop between them so async work can run. */
  async advanceAsync(ms: number, stepMs = 1000): Promise<void> {
    let left = ms;
    while (left > 0) {
      const step = Math.min(stepMs, left);
      this.advance(step);
      left -= step;
      await new Promise((r) => setImmediate(r));
    }
  }

  set(epochMs: number): void {
    if (epochMs < this.current) throw new Error('FakeClock cannot go backwards');
    this.advance(epochMs - this.current);
  }

  pendingTimers(): number {
    return this.timers.length;
  }

  private add(fn: () => void, ms: number, every: number | null): TimerHandle {
    const timer: FakeTimer = { id: this.nextId++, at: this.current + Math.max(0, ms), every, fn };
    this.timers.push(timer);
    return { cancel: () => (this.timers = this.timers.filter((t) => t !== timer)) };
  }
}
