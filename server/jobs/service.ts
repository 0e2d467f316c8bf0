import type { Logger } from '../core/logger.js';
import type { Store } from '../store/types.js';

/**
 * The jobs that must run on one process at a time when several share one store. A name is a
 * lock: two processes (or two callers in one) running the same job take turns; different
 * jobs run side by side.
 */
export const JOBS = {
  /** The retention sweeps (retention/scheduler.ts). */
  retentionSweep: 'retention.sweep',
  /** Sending the outbox (mail/service.ts). */
  outboxDelivery: 'mail.outbox',
  /** A policy version's notices and mails to every account (notices/service.ts). */
  policyFanOut: 'notices.fanout',
  /** Start-up crash recovery of calls left open (calls/). */
  callRecovery: 'calls.recovery',
} as const;

export type JobName = (typeof JOBS)[keyof typeof JOBS];

/** What a job sees while it runs. */
export interface JobContext {
  /**
   * Aborted when the job's lock was lost (the database connection holding it broke): another
   * process may start the job now, so the job stops at its next step. Jobs are written so that
   * a run that stops anywhere is finished by the next one.
   */
  signal: AbortSignal;
}

export type JobOutcome<R> = { ran: true; value: R } | { ran: false };

export interface JobsDeps {
  store: Pick<Store, 'lock'>;
  logger?: Logger;
}

/**
 * "Run this named job exclusively", across every process on the store: Store.lock underneath
 * (a PostgreSQL advisory lock held on a connection of its own, released by PostgreSQL if the
 * process dies; on lowdb, which one process opens, an in-process lock).
 */
export class JobsService {
  private readonly store: Pick<Store, 'lock'>;
  private readonly logger: Logger | undefined;

  constructor(deps: JobsDeps) {
    this.store = deps.store;
    this.logger = deps.logger;
  }

  /**
   * Runs fn while holding the job's lock. Without `wait`, a job another holder is running now
   * is skipped: `{ ran: false }` at once (timers use this: the holder does the work). With
   * `wait`, waits for the holder to finish and then runs (an admin's "run now", start-up
   * recovery that must be done before this process serves). fn's error is rethrown after the
   * lock is released.
   */
  async runExclusive<R>(
    name: JobName,
    fn: (job: JobContext) => Promise<R>,
    opts: { wait?: boolean } = {},
  ): Promise<JobOutcome<R>> {
    const lock = await this.store.lock(name, { wait: opts.wait ?? false });
    if (!lock) {
      this.logger?.debug({ job: name }, 'job is running elsewhere; skipped here');
      return { ran: false };
    }
    try {
      return { ran: true, value: await fn({ signal: lock.lost }) };
    } finally {
      await lock.release();
    }
  }
}
