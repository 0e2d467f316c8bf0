import type { Clock } from '../core/clock.js';
import type { AccountsService } from '../accounts/service.js';
import type { PasswordResetService } from '../accounts/password-reset.js';
import type { AuditService } from '../audit/service.js';
import type { CallRecords } from '../calls/records.js';
import type { ConsentService } from '../consent/service.js';
import type { CreditsService } from '../credits/service.js';
import type { MailService } from '../mail/service.js';
import type { NoticesService } from '../notices/service.js';
import type { PaymentsService } from '../payments/service.js';
import type { SupportService } from '../support/service.js';

/** The profiles module's erasure: every profile of the account, its photos and temporary uploads. */
export interface ProfileEraser {
  deleteAllForAccount(accountId: string, actor?: string): Promise<number>;
}

export interface PurgeCounts {
  profiles: number;
  sessions: number;
  consents: number;
  notices: number;
  passwordResets: number;
  support: number;
  outbox: number;
  logins: number;
  callsAnonymised: number;
  ledgerAnonymised: number;
  paymentsAnonymised: number;
}

/** Each module's part of a purge: every step is its own, on its own rows, and repeatable. */
export interface PurgeParts {
  accounts: Pick<AccountsService, 'get' | 'revokeSessions' | 'purgeSessionsAndLogins' | 'remove'>;
  passwordResets: Pick<PasswordResetService, 'removeAllForAccount'>;
  consent: Pick<ConsentService, 'removeAllForAccount'>;
  notices: Pick<NoticesService, 'removeAllForAccount'>;
  support: Pick<SupportService, 'removeAllForAccount'>;
  mail: Pick<MailService, 'removeAllForAccount'>;
  calls: Pick<CallRecords, 'anonymiseAccount'>;
  credits: Pick<CreditsService, 'anonymiseAccount'>;
  payments: Pick<PaymentsService, 'anonymiseAccount'>;
}

export interface AccountPurgerDeps {
  clock: Clock;
  audit: AuditService;
  profiles: ProfileEraser;
  parts: PurgeParts;
}

/**
 * Purges a closed account past its purge date (P10). Every step is idempotent and keyed by
 * data still in the store, and the account row goes last: a crash anywhere leaves the
 * account closed with its deadline passed, so the next sweep simply finishes the work.
 * Payment records and ledger entries stay, with the account reference removed (the law
 * requires the books, not the person); call records stay as anonymous usage data until
 * their own 2-year limit. Each table is changed by the module that owns it.
 */
export class AccountPurger {
  private readonly clock: Clock;
  private readonly audit: AuditService;
  private readonly profiles: ProfileEraser;
  private readonly parts: PurgeParts;

  constructor(deps: AccountPurgerDeps) {
    this.clock = deps.clock;
    this.audit = deps.audit;
    this.profiles = deps.profiles;
    this.parts = deps.parts;
  }

  /**
   * The "at once" part of closing, repeatable: sessions revoked, reset links gone, profiles and
   * photos gone. Run at closing and again by every sweep while the account waits for its purge,
   * so a crash in the middle of closing cannot leave a profile behind.
   */
  async finishClosing(accountId: string): Promise<number> {
    await this.parts.accounts.revokeSessions(accountId);
    await this.parts.passwordResets.removeAllForAccount(accountId);
    // Nothing left to erase is a no-op there: no write, no audit entry.
    return this.profiles.deleteAllForAccount(accountId, 'system');
  }

  /** Purge one account if it is closed and its deadline has passed. Returns the counts, or null when not due. */
  async purge(accountId: string): Promise<PurgeCounts | null> {
    const p = this.parts;
    const account = await p.accounts.get(accountId);
    if (!account || account.status !== 'closed' || account.purgeBy === null || account.purgeBy > this.clock.now())
      return null;
    const profiles = await this.profiles.deleteAllForAccount(accountId, 'system');
    const { sessions, logins } = await p.accounts.purgeSessionsAndLogins(accountId);
    const counts: PurgeCounts = {
      profiles,
      sessions,
      consents: await p.consent.removeAllForAccount(accountId),
      notices: await p.notices.removeAllForAccount(accountId),
      passwordResets: await p.passwordResets.removeAllForAccount(accountId),
      support: await p.support.removeAllForAccount(accountId),
      outbox: await p.mail.removeAllForAccount(accountId),
      logins,
      callsAnonymised: await p.calls.anonymiseAccount(accountId),
      ledgerAnonymised: await p.credits.anonymiseAccount(accountId),
      paymentsAnonymised: await p.payments.anonymiseAccount(accountId),
    };
    // The audit entry first, the account row last: the row is what marks the purge as
    // unfinished. A crash between the two finds the entry on the rerun and does not repeat it.
    const recorded = (await this.audit.forSubject(accountId)).some((e) => e.action === 'account.purged');
    if (!recorded) await this.audit.record('system', 'account.purged', accountId, { ...counts });
    await p.accounts.remove(accountId);
    return counts;
  }
}
