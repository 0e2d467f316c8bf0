import type { Clock, TimerHandle } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { JOBS, type JobsService } from '../jobs/service.js';
import type { RetentionService, SweepResult } from './service.js';

export interface RetentionSchedulerDeps {
  service: Pick<RetentionService, 'sweep'>;
  /** Sweeps run on one process at a time, however many share the store. */
  jobs: Pick<JobsService, 'runExclusive'>;
  clock: Clock;
  intervalMs: number;
  logger?: Logger;
}

/**
 * Runs the retention sweeps at start-up and every RETENTION_INTERVAL_MS on the injected
 * clock. Deadlines live in the store, so the timer only decides how soon they are noticed;
 * a restart loses nothing. Runs never overlap, in this process or across processes on one
 * store (the `retention.sweep` job lock): an interval that fires while a sweep runs here or
 * elsewhere is skipped, and `runNow` (the admin endpoint) waits for a running sweep, wherever it
 * runs, and then runs a fresh one. A sweep that stops half-way (a crash, a lost lock) is
 * finished by the next one, on whichever process gets there first.
 */
export class RetentionScheduler {
  private timer: TimerHandle | null = null;
  private current: Promise<SweepResult | null> | null = null;
  private stopped = false;
  lastResult: SweepResult | null = null;

  private readonly service: Pick<RetentionService, 'sweep'>;
  private readonly jobs: Pick<JobsService, 'runExclusive'>;
  private readonly clock: Clock;
  private readonly intervalMs: number;
  private readonly logger: Logger | undefined;

  constructor(deps: RetentionSchedulerDeps) {
    this.service = deps.service;
    this.jobs = deps.jobs;
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
    this.run(false).catch((err: unknown) =>
      this.logger?.error({ trigger, err: (err as Error).message }, 'retention sweep failed; the next run finishes it'),
    );
  }

  /** One sweep under the job lock; null when another process held it and `wait` was false. */
  private run(wait: boolean): Promise<SweepResult | null> {
    const run = this.jobs
      .runExclusive(JOBS.retentionSweep, ({ signal }) => this.service.sweep(signal), { wait })
      .then((outcome) => (outcome.ran ? (this.lastResult = outcome.value) : null));
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
    const result = await this.run(true);
    if (!result) throw new Error('retention sweep did not run'); // a waiting run always runs
    return result;
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
