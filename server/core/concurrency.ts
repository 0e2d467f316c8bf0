import { AppError } from './errors.js';

/**
 * At most `max` tasks at once, server-wide, with a short queue behind them; beyond the queue a
 * task is refused at once (503 rate_limited with Retry-After) instead of waiting. For work whose
 * cost no per-account limit bounds, because accounts are cheap: image decoding, where six 40 MP
 * PNGs at once took 10 s of CPU and 180 MB.
 */
export class ConcurrencyLimit {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly max: number,
    private readonly maxWaiting: number,
    private readonly what = 'work',
  ) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.max) {
      if (this.waiting.length >= this.maxWaiting) {
        throw new AppError(
          'rate_limited',
          503,
          `The server is busy with other ${this.what}; try again in a moment`,
          undefined,
          { 'Retry-After': '2' },
        );
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await task();
    } finally {
      // The slot passes straight to the next in line, so `running` never overshoots.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }

  get active(): number {
    return this.running;
  }
}
