import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { DAY_MS } from '../../shared/units.js';
import type { RetentionCounts } from '../../shared/schemas/privacy.js';
import type { Store } from '../store/types.js';
import type { AuditService } from '../audit/service.js';
import type { AccountPurger } from '../privacy/purge.js';
import { SECRET_TEMPLATES } from '../mail/templates.js';
import type { MailService } from '../mail/service.js';
import { compactCall, findCompactableCalls, resolvePendingMerges } from './ledger-usage.js';

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

export interface RetentionDeps {
  store: Store;
  clock: Clock;
  audit: AuditService;
  purger: AccountPurger;
  photos: ExpiredPhotos;
  mail: MailService;
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

  private readonly store: Store;
  private readonly clock: Clock;
  private readonly audit: AuditService;
  private readonly purger: AccountPurger;
  private readonly photos: ExpiredPhotos;
  private readonly mail: MailService;
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
      await this.accounts(counts);
      await this.photoUploads(counts);
      await this.usage(counts);
      await this.sessions(counts);
      await this.passwordResets(counts);
      await this.support(counts);
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

  /** Rows matching `pick`, collected in batches (the scan yields between them). */
  private async collect<T extends { id: string }>(
    table: { scan(batch?: number): AsyncIterable<T[]> },
    pick: (row: T) => boolean,
  ): Promise<T[]> {
    const out: T[] = [];
    for await (const batch of table.scan(this.batchSize)) for (const row of batch) if (pick(row)) out.push(row);
    return out;
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
  private async accounts(counts: RetentionCounts): Promise<void> {
    const closed = await this.store.accounts.findBy('status', 'closed');
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

  /** Call records, per-call ledger entries and login activity older than 2 years (P13). */
  private async usage(counts: RetentionCounts): Promise<void> {
    const cutoff = this.clock.now() - this.usageMs;
    this.done(counts, 'ledgerEntriesCompacted', await resolvePendingMerges(this.store, this.batchSize));
    const calls = await findCompactableCalls(this.store, cutoff, this.batchSize);
    await this.each(calls, async (c) =>
      this.done(counts, 'ledgerEntriesCompacted', await compactCall(this.store, c, cutoff)),
    );
    const oldCalls = await this.collect(this.store.calls, (c) => c.endedAt !== null && c.endedAt <= cutoff);
    await this.each(oldCalls, async (c) => {
      if (await this.store.calls.remove(c.id)) this.done(counts, 'callsDeleted');
    });
    const oldLogins = await this.collect(this.store.logins, (l) => l.at <= cutoff);
    await this.each(oldLogins, async (l) => {
      if (await this.store.logins.remove(l.id)) this.done(counts, 'loginsDeleted');
    });
  }

  /** Sessions that can no longer sign anyone in: expired or revoked. */
  private async sessions(counts: RetentionCounts): Promise<void> {
    const now = this.clock.now();
    const dead = await this.collect(this.store.sessions, (s) => s.expiresAt <= now || s.revokedAt !== null);
    await this.each(dead, async (s) => {
      if (await this.store.sessions.remove(s.id)) this.done(counts, 'sessionsDeleted');
    });
  }

  /** Used or expired reset links: the row goes, and the mail that carried the link loses its body. */
  private async passwordResets(counts: RetentionCounts): Promise<void> {
    const now = this.clock.now();
    const dead = await this.collect(this.store.passwordResets, (r) => r.usedAt !== null || r.expiresAt <= now);
    await this.each(dead, async (r) => {
      // The reset mail shares the reset's id; scrub first so a crash never leaves a live-looking link unaccounted for.
      await this.mail.scrub(r.id);
      if (await this.store.passwordResets.remove(r.id)) this.done(counts, 'passwordResetsDeleted');
    });
  }

  /** Closed support requests past their stated retention. */
  private async support(counts: RetentionCounts): Promise<void> {
    const now = this.clock.now();
    const due = await this.collect(
      this.store.support,
      (r) => r.closedAt !== null && r.deleteAfter !== null && r.deleteAfter <= now,
    );
    await this.each(due, async (r) => {
      if (await this.store.support.remove(r.id)) this.done(counts, 'supportDeleted');
    });
  }

  /** Outbox rows are a delivery record for 30 days; a reset mail whose link is still live is only scrubbed later. */
  private async outbox(counts: RetentionCounts): Promise<void> {
    const cutoff = this.clock.now() - this.mail.retentionMs;
    const due = await this.collect(this.store.outbox, (m) => m.createdAt <= cutoff);
    await this.each(due, async (m) => {
      if (SECRET_TEMPLATES.has(m.template) && (await this.store.passwordResets.get(m.id))) return;
      if (await this.store.outbox.remove(m.id)) this.done(counts, 'outboxDeleted');
    });
  }
}
