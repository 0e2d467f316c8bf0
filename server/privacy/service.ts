import type { Clock } from '../core/clock.js';
import { AppError, tooMany, unauthorized } from '../core/errors.js';
import { DAY_MS, HOUR_MS, toIso } from '../../shared/units.js';
import { EXPORT_SCHEMA_ID, EXPORT_VERSION, type ExportDocument } from '../../shared/schemas/privacy.js';
import type { AccountRow, Store } from '../store/types.js';
import type { AuditService } from '../audit/service.js';
import type { AccountsService, Authenticated } from '../accounts/service.js';
import { memoryRateLimits, type AttemptCounter, type RateLimits } from '../core/rate-limit.js';
import type { Notifier } from '../sockets/hub.js';
import type { CallRecords } from '../calls/records.js';
import type { ConsentService } from '../consent/service.js';
import type { CreditsService } from '../credits/service.js';
import type { MailService } from '../mail/service.js';
import { accountClosedMail } from '../mail/templates.js';
import type { NoticesService } from '../notices/service.js';
import type { PaymentsService } from '../payments/service.js';
import type { ProfilesService } from '../profiles/service.js';
import type { SupportService } from '../support/service.js';
import type { LiveCalls } from './live-calls.js';
import type { AccountPurger } from './purge.js';

export interface PrivacyOptions {
  /** ACCOUNT_PURGE_DAYS: closing to purge, at most 30 (P10). */
  accountPurgeDays: number;
  /** Exports per account per window. */
  exportsPerWindow?: number;
  exportWindowMs?: number;
}

/** The modules that own the account's rows, each asked for its part of the export (P11). */
export interface ExportParts {
  consent: Pick<ConsentService, 'exportFor'>;
  profiles: Pick<ProfilesService, 'exportFor'>;
  credits: Pick<CreditsService, 'exportFor'>;
  payments: Pick<PaymentsService, 'exportFor'>;
  calls: Pick<CallRecords, 'exportFor'>;
  notices: Pick<NoticesService, 'exportFor'>;
  mail: Pick<MailService, 'exportFor'>;
  support: Pick<SupportService, 'exportFor'>;
}

export interface PrivacyDeps {
  /** Only to compact after closing: every row is read and written through its owner. */
  store: Pick<Store, 'compact'>;
  clock: Clock;
  audit: AuditService;
  accounts: Pick<AccountsService, 'checkPassword' | 'close' | 'setRestricted' | 'exportFor'>;
  parts: ExportParts;
  purger: AccountPurger;
  liveCalls: LiveCalls;
  mail: Pick<MailService, 'queueEssential'>;
  notifier: Pick<Notifier, 'disconnectAccount'>;
  options: PrivacyOptions;
  /** Where the export limit is counted; default: in this process. */
  limits?: RateLimits;
}

/**
 * The parent's rights over the account (P10-P12): a full export, closing the account, and
 * restricting processing. Exports are built in memory per request and never written down.
 */
export class PrivacyService {
  private readonly exports: AttemptCounter;

  private readonly store: PrivacyDeps['store'];
  private readonly clock: Clock;
  private readonly audit: AuditService;
  private readonly accounts: PrivacyDeps['accounts'];
  private readonly parts: ExportParts;
  private readonly purger: AccountPurger;
  private readonly liveCalls: LiveCalls;
  private readonly mail: PrivacyDeps['mail'];
  private readonly notifier: Pick<Notifier, 'disconnectAccount'>;
  private readonly options: PrivacyOptions;

  constructor(deps: PrivacyDeps) {
    this.store = deps.store;
    this.clock = deps.clock;
    this.audit = deps.audit;
    this.accounts = deps.accounts;
    this.parts = deps.parts;
    this.purger = deps.purger;
    this.liveCalls = deps.liveCalls;
    this.mail = deps.mail;
    this.notifier = deps.notifier;
    this.options = deps.options;
    const { clock, options } = deps;
    this.exports = (deps.limits ?? memoryRateLimits(clock)).attempts(
      'privacy-exports',
      options.exportsPerWindow ?? 5,
      options.exportWindowMs ?? HOUR_MS,
    );
  }

  /**
   * Everything held about the account, as one versioned document (P11). Rate-limited and
   * audited. Each module that owns a table gives the account's part of it, in its own view.
   */
  async export(accountId: string): Promise<ExportDocument> {
    const wait = await this.exports.take(accountId);
    if (wait > 0) throw tooMany(wait, 'Exports are limited; try again later');

    const own = await this.accounts.exportFor(accountId);
    if (!own) throw unauthorized();
    const { parts } = this;
    const [consents, children, ledger, payments, calls, notices, emails, support] = await Promise.all([
      parts.consent.exportFor(accountId),
      parts.profiles.exportFor(accountId),
      parts.credits.exportFor(accountId),
      parts.payments.exportFor(accountId),
      parts.calls.exportFor(accountId),
      parts.notices.exportFor(accountId),
      parts.mail.exportFor(accountId),
      parts.support.exportFor(accountId),
    ]);

    // Audit entries about the account and about its own profiles, calls and payments.
    const subjects = new Set<string>([
      accountId,
      ...children.profiles.map((p) => p.id),
      ...calls.map((c) => c.id),
      ...payments.map((p) => p.id),
    ]);
    const auditRows = (await Promise.all([...subjects].map((id) => this.audit.forSubject(id)))).flat();
    const seen = new Set<number>();

    const doc: ExportDocument = {
      schema: EXPORT_SCHEMA_ID,
      version: EXPORT_VERSION,
      exportedAt: toIso(this.clock.now()),
      account: own.account,
      consents,
      profiles: children.profiles,
      temporaryPhotos: children.temporaryPhotos,
      ledger,
      payments,
      calls,
      logins: own.logins,
      sessions: own.sessions,
      notices,
      emails,
      support,
      audit: auditRows
        .filter((e) => (seen.has(e.seq) ? false : (seen.add(e.seq), true)))
        .sort((a, b) => a.seq - b.seq)
        .map((e) => ({
          seq: e.seq,
          at: toIso(e.at),
          actor: e.actor,
          action: e.action,
          subject: e.subject,
          details: { ...e.details },
        })),
    };
    await this.audit.record(`account:${accountId}`, 'privacy.export', accountId, {
      profiles: doc.profiles.length,
      calls: doc.calls.length,
      ledger: doc.ledger.length,
    });
    return doc;
  }

  /**
   * Close the account (P10): after the password check (only when one is sent), login is refused and every session
   * revoked at once, live calls end, profiles and photos are deleted at once, and the purge
   * deadline is stored on the account for the retention sweep.
   */
  async closeAccount(auth: Authenticated, password?: string): Promise<{ purgeBy: number; account: AccountRow }> {
    const { account } = auth;
    // The bearer token suffices (DESIGN §8); a password the client chose to send must still be right.
    if (password !== undefined && !(await this.accounts.checkPassword(account, password))) {
      throw new AppError('wrong_password', 403, 'The password is wrong', { password: 'Wrong password' });
    }
    const now = this.clock.now();
    const purgeBy = now + this.options.accountPurgeDays * DAY_MS;
    const closed = await this.accounts.close(account.id, now, purgeBy);
    if (!closed) throw unauthorized('This account is already closed');
    // Calls first, so the call window and side panel still hear `call:ended`; then the sockets go.
    const callsEnded = await this.liveCalls.endAllForAccount(account.id, 'account_closed');
    this.notifier.disconnectAccount(account.id);
    const profilesDeleted = await this.purger.finishClosing(account.id);
    await this.audit.record(`account:${account.id}`, 'account.closed', account.id, {
      purgeBy,
      callsEnded,
      profilesDeleted,
    });
    await this.mail.queueEssential(
      closed,
      'account_closed',
      accountClosedMail(closed.locale, { name: closed.name, purgeBy }),
    );
    // Closing is promised "at once": durable, and the deleted profiles gone from every file, before answering.
    await this.store.compact();
    return { purgeBy, account: closed };
  }

  /**
   * Restrict processing (P12): while restricted the calls module refuses to start a call
   * (it reads account.restricted) and live calls end now; the data is kept, unused.
   */
  async restrict(accountId: string, restricted: boolean): Promise<AccountRow> {
    const updated = await this.accounts.setRestricted(accountId, restricted);
    if (!updated) throw unauthorized();
    const callsEnded = restricted ? await this.liveCalls.endAllForAccount(accountId, 'restricted') : 0;
    await this.audit.record(
      `account:${accountId}`,
      restricted ? 'account.restricted' : 'account.unrestricted',
      accountId,
      { callsEnded },
    );
    return updated;
  }
}
