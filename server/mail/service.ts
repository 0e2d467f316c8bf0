import type { Clock, TimerHandle } from '../core/clock.js';
import { newId } from '../core/ids.js';
import type { Logger } from '../core/logger.js';
import type { Locale } from '../../shared/locales.js';
import { DAY_MS, MINUTE_MS, toIso, toIsoOrNull } from '../../shared/units.js';
import type { OutboxEntry } from '../../shared/schemas/privacy.js';
import type { AccountRow, OutboxRow, Store } from '../store/types.js';
import { JOBS, type JobsService } from '../jobs/service.js';
import { SCRUBBED_BODY, SECRET_TEMPLATES, type MailContent } from './templates.js';
import { sweepUpTo, type SweepOptions } from '../store/sweep.js';
import { pageAfterCursor } from '../core/paging.js';
import { removeAllOfAccount } from '../store/remove-all.js';
import { newestFirst, oldestFirst } from '../core/order.js';

/** One message handed to the transport. */
export interface OutgoingMail {
  from: string;
  to: string;
  subject: string;
  text: string;
}

/** Where mail goes when SMTP_URL is set (nodemailer); without it mail waits in the outbox for the admin API. */
export interface MailTransport {
  send(mail: OutgoingMail): Promise<void>;
  close?(): void;
}

export type Recipient = Pick<AccountRow, 'id' | 'email' | 'locale'>;

export interface MailOptions {
  from: string;
  /** Attempts before a message is given up (it stays visible in the admin outbox). */
  maxAttempts?: number;
  /** Sent (and given-up) mail is kept this long as a delivery record, then deleted by retention. */
  retentionDays?: number;
}

export const OUTBOX_RETENTION_DAYS = 30;
const RETRY_BASE_MS = MINUTE_MS;
/** When another process was sending, look again this soon: a mail queued here may have come after its scan. */
const ELSEWHERE_RETRY_MS = 5_000;

/** What mail asks the accounts module: whether an account may still be sent marketing. */
export interface MailAccountsPort {
  get(accountId: string): Promise<AccountRow | undefined>;
}

export interface MailDeps {
  store: Store;
  clock: Clock;
  accounts: MailAccountsPort;
  transport: MailTransport | null;
  /** The outbox is sent by one process at a time, however many share the store. */
  jobs: Pick<JobsService, 'runExclusive'>;
  options: MailOptions;
  logger?: Logger;
}

/**
 * The outbox: every email is first a row in the store (so a crash loses none), then sent by
 * the transport when there is one. Essential mail (policy notices, password reset, account
 * closure) always goes; marketing mail is refused for accounts that have not opted in (P12).
 */
export class MailService {
  private running: Promise<{ sent: number; failed: number }> | null = null;
  private again = false;
  private retryTimer: TimerHandle | null = null;
  private readonly maxAttempts: number;
  readonly retentionMs: number;

  private readonly store: Store;
  private readonly clock: Clock;
  private readonly accounts: MailAccountsPort;
  private readonly transport: MailTransport | null;
  private readonly jobs: Pick<JobsService, 'runExclusive'>;
  private readonly options: MailOptions;
  private readonly logger: Logger | undefined;

  constructor(deps: MailDeps) {
    this.store = deps.store;
    this.clock = deps.clock;
    this.accounts = deps.accounts;
    this.transport = deps.transport;
    this.jobs = deps.jobs;
    this.options = deps.options;
    this.logger = deps.logger;
    const { options } = deps;
    this.maxAttempts = options.maxAttempts ?? 5;
    this.retentionMs = (options.retentionDays ?? OUTBOX_RETENTION_DAYS) * DAY_MS;
  }

  get sending(): boolean {
    return this.transport !== null;
  }

  /** How a message reaches its reader: by email, or (without SMTP_URL) only as an outbox row. */
  get delivery(): 'email' | 'outbox' {
    return this.transport ? 'email' : 'outbox';
  }

  /** The newest messages with their bodies, for the development outbox page (never an API answer). */
  async recentForDevOutbox(limit: number): Promise<OutboxRow[]> {
    const rows: OutboxRow[] = [];
    for await (const batch of this.store.outbox.scan()) rows.push(...batch);
    return rows.sort(newestFirst('createdAt')).slice(0, limit);
  }

  /** Essential communication: sent whatever the marketing choice, because it is about the service itself. */
  async queueEssential(
    to: Recipient,
    template: string,
    content: MailContent,
    id: string = newId(),
  ): Promise<OutboxRow> {
    return this.queue(to, 'essential', template, content, id);
  }

  /**
   * Marketing or other non-essential mail: only for active accounts that opted in, read
   * fresh from the store so a just-made opt-out wins. Returns null when refused.
   */
  async queueMarketing(
    accountId: string,
    template: string,
    content: (locale: Locale) => MailContent,
  ): Promise<OutboxRow | null> {
    const account = await this.accounts.get(accountId);
    if (!account || account.status !== 'active' || !account.marketingOptIn || account.restricted) return null;
    return this.queue(account, 'marketing', template, content(account.locale), newId());
  }

  private async queue(
    to: Recipient,
    kind: OutboxRow['kind'],
    template: string,
    content: MailContent,
    id: string,
  ): Promise<OutboxRow> {
    const row: OutboxRow = {
      id,
      accountId: to.id,
      to: to.email,
      kind,
      template,
      locale: to.locale,
      subject: content.subject,
      body: content.body,
      createdAt: this.clock.now(),
      sentAt: null,
      attempts: 0,
    };
    await this.store.outbox.insert(row);
    this.kick();
    return row;
  }

  /** Start a delivery run in the background (no-op without a transport). */
  kick(): void {
    if (!this.transport) return;
    void this.deliverPending().catch((err: unknown) =>
      this.logger?.error({ err: (err as Error).message }, 'mail delivery run failed'),
    );
  }

  /** Send every due message once; concurrent callers share one run, and a request during a run schedules one more. */
  async deliverPending(): Promise<{ sent: number; failed: number }> {
    if (!this.transport) return { sent: 0, failed: 0 };
    if (this.running) {
      this.again = true;
      return this.running;
    }
    const run = (async () => {
      const total = { sent: 0, failed: 0 };
      const outcome = await this.jobs.runExclusive(JOBS.outboxDelivery, async ({ signal }) => {
        do {
          this.again = false;
          const r = await this.deliverOnce(signal);
          total.sent += r.sent;
          total.failed += r.failed;
        } while (this.again && !signal.aborted);
      });
      if (!outcome.ran) this.retrySoon();
      return total;
    })();
    this.running = run;
    try {
      return await run;
    } finally {
      this.running = null;
    }
  }

  /** Another process is sending: it may have scanned past a mail queued here, so try again shortly. */
  private retrySoon(): void {
    if (this.retryTimer) return;
    this.retryTimer = this.clock.setTimeout(() => {
      this.retryTimer = null;
      this.kick();
    }, ELSEWHERE_RETRY_MS);
  }

  /** Stops the retry timer (shutdown). */
  stop(): void {
    this.retryTimer?.cancel();
    this.retryTimer = null;
  }

  private async deliverOnce(signal: AbortSignal): Promise<{ sent: number; failed: number }> {
    const transport = this.transport;
    if (!transport) return { sent: 0, failed: 0 };
    let sent = 0;
    let failed = 0;
    const now = this.clock.now();
    for await (const batch of this.store.outbox.scan(100)) {
      for (const row of batch) {
        if (row.sentAt !== null || row.attempts >= this.maxAttempts) continue;
        // Exponential back-off after a failure: 1, 2, 4, 8 minutes.
        if (row.attempts > 0 && now < row.createdAt + RETRY_BASE_MS * 2 ** (row.attempts - 1)) continue;
        // A marketing message queued before an opt-out is not sent after it.
        if (row.kind === 'marketing' && !(await this.mayStillMarket(row.accountId))) {
          await this.store.outbox.remove(row.id);
          continue;
        }
        // The lock was lost: another process may be sending now; it, or the next run, goes on.
        if (signal.aborted) return { sent, failed };
        // The attempt is claimed before the send (a conditional write on what was read): a
        // process that read the same row a moment ago finds it changed and leaves it alone.
        // A crash between the claim and the send costs one attempt, never a second email.
        const claimed = await this.store.outbox.update(
          row.id,
          { attempts: row.attempts + 1 },
          { if: (cur) => cur.sentAt === null && cur.attempts === row.attempts },
        );
        if (!claimed) continue;
        try {
          await transport.send({ from: this.options.from, to: row.to, subject: row.subject, text: row.body });
          await this.store.outbox.update(row.id, {
            sentAt: this.clock.now(),
            ...(SECRET_TEMPLATES.has(row.template) ? { body: SCRUBBED_BODY } : {}),
          });
          sent++;
        } catch (err) {
          failed++;
          this.logger?.warn(
            { outboxId: row.id, template: row.template, attempt: row.attempts + 1, err: (err as Error).message },
            'mail not sent',
          );
        }
      }
    }
    return { sent, failed };
  }

  private async mayStillMarket(accountId: string | null): Promise<boolean> {
    if (!accountId) return false;
    const a = await this.accounts.get(accountId);
    return !!a && a.status === 'active' && a.marketingOptIn && !a.restricted;
  }

  /** Resolves when no delivery run is in progress (shutdown). */
  async idle(): Promise<void> {
    while (this.running) await this.running.catch(() => undefined);
  }

  /** Blank the body of a message that carried a one-time secret (used or expired link). */
  async scrub(outboxId: string): Promise<boolean> {
    const row = await this.store.outbox.get(outboxId);
    if (!row || row.body === SCRUBBED_BODY) return false;
    return (await this.store.outbox.update(outboxId, { body: SCRUBBED_BODY })) !== undefined;
  }

  async forAccount(accountId: string): Promise<OutboxRow[]> {
    return (await this.store.outbox.findBy('accountId', accountId)).sort(oldestFirst('createdAt'));
  }

  /** The account's part of the data export (P11): every mail to it, oldest first, as the outbox shows it. */
  async exportFor(accountId: string): Promise<OutboxEntry[]> {
    return (await this.forAccount(accountId)).map(outboxView);
  }

  /** The purge of a closed account (P10): every mail to it goes. Returns how many. */
  async removeAllForAccount(accountId: string): Promise<number> {
    return removeAllOfAccount(this.store.outbox, accountId);
  }

  async pendingCount(): Promise<number> {
    let n = 0;
    for await (const batch of this.store.outbox.scan())
      for (const r of batch) if (r.sentAt === null && r.attempts < this.maxAttempts) n++;
    return n;
  }

  /** Newest first for the admin API; the cursor is the last row's id. */
  async page(opts: {
    status: 'pending' | 'sent' | 'all';
    limit: number;
    cursor?: string | undefined;
  }): Promise<{ entries: OutboxEntry[]; nextCursor: string | null }> {
    const rows: OutboxRow[] = [];
    for await (const batch of this.store.outbox.scan()) {
      for (const r of batch) {
        if (opts.status === 'pending' && r.sentAt !== null) continue;
        if (opts.status === 'sent' && r.sentAt === null) continue;
        rows.push(r);
      }
    }
    rows.sort(newestFirst('createdAt'));
    const { page, nextCursor } = pageAfterCursor(rows, opts);
    return { entries: page.map(outboxView), nextCursor };
  }

  /**
   * Retention: outbox rows are a delivery record for `retentionMs`; a row `keep` asks for (a
   * reset mail whose link is still live) stays until a later sweep. Returns how many were deleted.
   */
  async deleteExpired(
    now: number,
    opts: SweepOptions & { keep?: (row: OutboxRow) => Promise<boolean> },
  ): Promise<number> {
    return sweepUpTo(
      this.store.outbox,
      'createdAt',
      now - this.retentionMs,
      async (m) => !(opts.keep && (await opts.keep(m))) && this.store.outbox.remove(m.id),
      opts,
    );
  }
}

export function outboxView(r: OutboxRow): OutboxEntry {
  return {
    id: r.id,
    accountId: r.accountId,
    to: r.to,
    kind: r.kind,
    template: r.template,
    locale: r.locale,
    subject: r.subject,
    body: SECRET_TEMPLATES.has(r.template) ? null : r.body,
    createdAt: toIso(r.createdAt),
    sentAt: toIsoOrNull(r.sentAt),
    attempts: r.attempts,
  };
}
