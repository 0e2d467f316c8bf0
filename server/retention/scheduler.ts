import type { Clock, TimerHandle } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { RetentionService, SweepResult } from './service.js';

export interface RetentionSchedulerDeps {
  service: RetentionService;
  clock: Clock;
  intervalMs: number;
  logger?: Logger;
}

/**
 * Runs the retention sweeps at start-up and every RETENTION_INTERVAL_MS on the injected
 * clock. Deadlines live in the store, so the timer only decides how soon they are noticed;
 * a restart loses nothing. Runs never overlap: an interval that fires during a run is
 * skipped, and `runNow` (the admin endpoint) waits for a running sweep and then runs a fresh one.
 */
export class RetentionScheduler {
  private timer: TimerHandle | null = null;
  private current: Promise<SweepResult> | null = null;
  private stopped = false;
  lastResult: SweepResult | null = null;

  private readonly service: RetentionService;
  private readonly clock: Clock;
  private readonly intervalMs: number;
  private readonly logger: Logger | undefined;

  constructor(deps: RetentionSchedulerDeps) {
    this.service = deps.service;
    this.clock = deps.clock;
    this.intervalMs = deps.intervalMs;
    this.logger = deps.logger;
  }

  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = this.clock.setInterval(() => this.background('interval'), this.intervalMs);
    this.background('startup');
  }

  private background(trigger: string): void {
    if (this.current || this.stopped) return;
    this.run().catch((err: unknown) =>
      this.logger?.error({ trigger, err: (err as Error).message }, 'retention sweep failed; the next run finishes it'),
    );
  }

  private run(): Promise<SweepResult> {
    const run = this.service.sweep().then((r) => (this.lastResult = r));
    this.current = run;
    const clear = () => {
      if (this.current === run) this.current = null;
    };
    run.then(clear, clear);
    return run;
  }

  /** Run a sweep now and return its counts (waits for one already running first). */
  async runNow(): Promise<SweepResult> {
    if (this.stopped) throw new Error('retention scheduler is stopped');
    while (this.current) await this.current.catch(() => undefined);
    return this.run();
  }

  /** Resolves when no sweep is running. */
  async idle(): Promise<void> {
    while (this.current) await this.current.catch(() => undefined);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = null;
    await this.idle();
  }
}
