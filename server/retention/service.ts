import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { DAY_MS } from '../../shared/units.js';
import type { RetentionCounts } from '../../shared/schemas/privacy.js';
import type { Store } from '../store/types.js';
import type { AuditService } from '../audit/service.js';
import type { AccountPurger } from '../privacy/purge.js';
import { SECRET_TEMPLATES } from '../mail/templates.js';
import type { MailService } from '../mail/service.js';
import type { AccountsService } from '../accounts/service.js';
import type { PasswordResetService } from '../accounts/password-reset.js';
import type { CallsService } from '../calls/service.js';
import type { CreditsService } from '../credits/service.js';
import type { SupportService } from '../support/service.js';
import type { SweepOptions } from '../store/sweep.js';

/** Usage data (call records, credits used per call, login activity) is kept 2 years (P13). */
export const USAGE_RETENTION_MS = 2 * 365 * DAY_MS;

export type SweepStep = keyof RetentionCounts;

/** The photos module's sweep of temporary uploads past their 24 h expiry (P14). */
export interface ExpiredPhotos {
  sweepExpired(now?: number): Promise<number>;
}

export interface RetentionOptions {
  batchSize?: number;
  usageRetentionMs?: number;
  /**
   * Called after each item a sweep deletes, purges or compacts: feeds the metrics, and lets
   * the fault tests stop a sweep mid-way (a throw here aborts the sweep like a crash would).
   */
  onItem?: (step: SweepStep) => void;
  /** Called when a sweep ends, for the metrics. */
  onSweep?: (result: 'ok' | 'failed') => void;
}

export const emptyCounts = (): RetentionCounts => ({
  accountsPurged: 0,
  photosDeleted: 0,
  callsDeleted: 0,
  loginsDeleted: 0,
  ledgerEntriesCompacted: 0,
  sessionsDeleted: 0,
  passwordResetsDeleted: 0,
  supportDeleted: 0,
  outboxDeleted: 0,
});

export interface SweepResult {
  startedAt: number;
  finishedAt: number;
  counts: RetentionCounts;
}

const tick = () => new Promise<void>((r) => setImmediate(r));

/**
 * The owners retention asks (docs/ARCHITECTURE.md, "Who owns which table"): each deletes its
 * own rows by a range query on the deadline or time; retention decides when, and counts.
 */
export interface RetentionDeps {
  /** Only to make the sweep's deletions durable and gone from every file before the audit entry claims them. */
  store: Pick<Store, 'compact'>;
  clock: Clock;
  audit: AuditService;
  purger: AccountPurger;
  photos: ExpiredPhotos;
  mail: Pick<MailService, 'deleteExpired'>;
  accounts: Pick<AccountsService, 'closedAccounts' | 'deleteDeadSessions' | 'deleteLoginsUpTo'>;
  passwordResets: Pick<PasswordResetService, 'deleteSpent' | 'isPending'>;
  calls: Pick<CallsService, 'deleteEndedUpTo'>;
  credits: Pick<CreditsService, 'compactUsageUpTo'>;
  support: Pick<SupportService, 'deleteExpired'>;
  options?: RetentionOptions;
  logger?: Logger;
}

/**
 * Every retention rule as a sweep over deadlines stored in the data (DESIGN §7). A sweep is
 * idempotent: each item it touches is finished in single-row steps that a rerun recognises,
 * so a crash mid-sweep loses nothing and the next run (at start-up, or the next interval)
 * completes the work without doing any item twice. Work is done in batches with a yield to
 * the event loop between them, so live calls keep their timing while a sweep runs.
 */
export class RetentionService {
  private readonly batchSize: number;
  private readonly usageMs: number;

  private readonly store: Pick<Store, 'compact'>;
  private readonly clock: Clock;
  private readonly audit: AuditService;
  private readonly purger: AccountPurger;
  private readonly photos: ExpiredPhotos;
  private readonly mail: RetentionDeps['mail'];
  private readonly accounts: RetentionDeps['accounts'];
  private readonly passwordResets: RetentionDeps['passwordResets'];
  private readonly calls: RetentionDeps['calls'];
  private readonly credits: RetentionDeps['credits'];
  private readonly support: RetentionDeps['support'];
  private readonly options: RetentionOptions;
  private readonly logger: Logger | undefined;
  /** The running sweep's stop signal. */
  private signal: AbortSignal | undefined;

  constructor(deps: RetentionDeps) {
    this.store = deps.store;
    this.clock = deps.clock;
    this.audit = deps.audit;
    this.purger = deps.purger;
    this.photos = deps.photos;
    this.mail = deps.mail;
    this.accounts = deps.accounts;
    this.passwordResets = deps.passwordResets;
    this.calls = deps.calls;
    this.credits = deps.credits;
    this.support = deps.support;
    this.options = deps.options ?? {};
    this.logger = deps.logger;
    const options = this.options;
    this.batchSize = options.batchSize ?? 200;
    this.usageMs = options.usageRetentionMs ?? USAGE_RETENTION_MS;
  }

  /**
   * Run every sweep once. Writes one audit entry with the counts (also when a step fails
   * part-way). `signal` (the job lock's `lost`) stops the sweep at its next item, as a crash
   * would: another process may be sweeping now, and the next run finishes what is left.
   */
  async sweep(signal?: AbortSignal): Promise<SweepResult> {
    const startedAt = this.clock.now();
    const counts = emptyCounts();
    this.signal = signal;
    try {
      await this.closedAccounts(counts);
      await this.photoUploads(counts);
      await this.usage(counts);
      await this.sessions(counts);
      await this.resets(counts);
      await this.supportRequests(counts);
      await this.outbox(counts);
      // The audit entry claims the deletions: make them durable, and gone from every file, first.
      // A sweep that removed nothing has nothing to claim, and skips rewriting the shards.
      if (Object.values(counts).some((n) => n > 0)) await this.store.compact();
    } catch (err) {
      this.options.onSweep?.('failed');
      await this.audit
        .record('system', 'retention.sweep_failed', null, { ...counts, error: (err as Error).message.slice(0, 200) })
        .catch(() => undefined);
      throw err;
    }
    const finishedAt = this.clock.now();
    await this.audit.record('system', 'retention.sweep', null, { ...counts });
    this.options.onSweep?.('ok');
    this.logger?.info({ counts }, 'retention sweep done');
    return { startedAt, finishedAt, counts };
  }

  private done(counts: RetentionCounts, step: SweepStep, n = 1): void {
    if (n <= 0) return;
    counts[step] += n;
    for (let i = 0; i < n; i++) this.options.onItem?.(step);
  }

  /** How an owner runs its part: in batches, each deletion counted under `step`, stopping when the lock is lost. */
  private sweepOptions(counts: RetentionCounts, step: SweepStep): SweepOptions {
    return { batchSize: this.batchSize, onDeleted: () => this.done(counts, step), signal: this.signal };
  }

  /** Run `fn` over items in batches, yielding between batches. */
  private async each<T>(items: T[], fn: (item: T) => Promise<void>): Promise<void> {
    for (let i = 0; i < items.length; i++) {
      this.signal?.throwIfAborted();
      await fn(items[i] as T);
      if ((i + 1) % this.batchSize === 0) await tick();
    }
  }

  /** Closed accounts: finish closing (repeatable), and purge those past their deadline (P10). */
  private async closedAccounts(counts: RetentionCounts): Promise<void> {
    const closed = await this.accounts.closedAccounts();
    const now = this.clock.now();
    await this.each(closed, async (a) => {
      if (a.purgeBy !== null && a.purgeBy <= now) {
        if (await this.purger.purge(a.id)) this.done(counts, 'accountsPurged');
      } else {
        await this.purger.finishClosing(a.id);
      }
    });
  }

  /** Temporary photo uploads past 24 h (P14), through the photos module. */
  private async photoUploads(counts: RetentionCounts): Promise<void> {
    this.done(counts, 'photosDeleted', await this.photos.sweepExpired(this.clock.now()));
  }

  /** Per-call ledger entries, call records and login activity older than 2 years (P13), each by its owner. */
  private async usage(counts: RetentionCounts): Promise<void> {
    const cutoff = this.clock.now() - this.usageMs;
    await this.credits.compactUsageUpTo(cutoff, this.sweepOptions(counts, 'ledgerEntriesCompacted'));
    await this.calls.deleteEndedUpTo(cutoff, this.sweepOptions(counts, 'callsDeleted'));
    await this.accounts.deleteLoginsUpTo(cutoff, this.sweepOptions(counts, 'loginsDeleted'));
  }

  /** Sessions that can no longer sign anyone in: expired or revoked. */
  private async sessions(counts: RetentionCounts): Promise<void> {
    await this.accounts.deleteDeadSessions(this.clock.now(), this.sweepOptions(counts, 'sessionsDeleted'));
  }

  /** Used or expired reset links: the row goes, and the mail that carried the link loses its body. */
  private async resets(counts: RetentionCounts): Promise<void> {
    await this.passwordResets.deleteSpent(this.clock.now(), this.sweepOptions(counts, 'passwordResetsDeleted'));
  }

  /** Closed support requests past their stated retention. */
  private async supportRequests(counts: RetentionCounts): Promise<void> {
    await this.support.deleteExpired(this.clock.now(), this.sweepOptions(counts, 'supportDeleted'));
  }

  /** Outbox rows are a delivery record for 30 days; a reset mail whose link is still live is only scrubbed later. */
  private async outbox(counts: RetentionCounts): Promise<void> {
    await this.mail.deleteExpired(this.clock.now(), {
      ...this.sweepOptions(counts, 'outboxDeleted'),
      keep: async (m) => SECRET_TEMPLATES.has(m.template) && (await this.passwordResets.isPending(m.id)),
    });
  }
}
