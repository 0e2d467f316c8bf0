import type { Clock } from '../core/clock.js';
import type { Store } from '../store/types.js';
import type { AuditService } from '../audit/service.js';

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

export interface AccountPurgerDeps {
  store: Store;
  clock: Clock;
  audit: AuditService;
  profiles: ProfileEraser;
}

/**
 * Purges a closed account past its purge date (P10). Every step is idempotent and keyed by
 * data still in the store, and the account row goes last: a crash anywhere leaves the
 * account closed with its deadline passed, so the next sweep simply finishes the work.
 * Payment records and ledger entries stay, with the account reference removed (the law
 * requires the books, not the person); call records stay as anonymous usage data until
 * their own 2-year limit.
 */
export class AccountPurger {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly audit: AuditService;
  private readonly profiles: ProfileEraser;

  constructor(deps: AccountPurgerDeps) {
    this.store = deps.store;
    this.clock = deps.clock;
    this.audit = deps.audit;
    this.profiles = deps.profiles;
  }

  /**
   * The "at once" part of closing, repeatable: sessions revoked, profiles and photos gone.
   * Run at closing and again by every sweep while the account waits for its purge, so a
   * crash in the middle of closing cannot leave a profile behind.
   */
  async finishClosing(accountId: string): Promise<number> {
    const now = this.clock.now();
    for (const s of await this.store.sessions.findBy('accountId', accountId)) {
      if (s.revokedAt === null) await this.store.sessions.update(s.id, { revokedAt: now });
    }
    for (const r of await this.store.passwordResets.findBy('accountId', accountId))
      await this.store.passwordResets.remove(r.id);
    const hasPhotos = (await this.store.photos.findBy('accountId', accountId)).length > 0;
    const hasProfiles = (await this.store.profiles.findBy('accountId', accountId)).length > 0;
    if (!hasPhotos && !hasProfiles) return 0;
    return this.profiles.deleteAllForAccount(accountId, 'system');
  }

  /** Purge one account if it is closed and its deadline has passed. Returns the counts, or null when not due. */
  async purge(accountId: string): Promise<PurgeCounts | null> {
    const account = await this.store.accounts.get(accountId);
    if (!account || account.status !== 'closed' || account.purgeBy === null || account.purgeBy > this.clock.now())
      return null;
    const s = this.store;
    const counts: PurgeCounts = {
      profiles: await this.profiles.deleteAllForAccount(accountId, 'system'),
      sessions: await removeAll(s.sessions, await s.sessions.findBy('accountId', accountId)),
      consents: await removeAll(s.consents, await s.consents.findBy('accountId', accountId)),
      notices: await removeAll(s.notices, await s.notices.findBy('accountId', accountId)),
      passwordResets: await removeAll(s.passwordResets, await s.passwordResets.findBy('accountId', accountId)),
      support: await removeAll(s.support, await s.support.findBy('accountId', accountId)),
      outbox: await removeAll(s.outbox, await s.outbox.findBy('accountId', accountId)),
      logins: await removeAll(s.logins, await s.logins.findBy('accountId', accountId)),
      callsAnonymised: 0,
      ledgerAnonymised: 0,
      paymentsAnonymised: 0,
    };
    for (const c of await s.calls.findBy('accountId', accountId)) {
      if (await s.calls.update(c.id, { accountId: null, profileId: null })) counts.callsAnonymised++;
    }
    // A grant's note is an admin's free text about the person: it goes with the link.
    for (const e of await s.ledger.findBy('accountId', accountId)) {
      if (await s.ledger.update(e.id, { accountId: null, note: null })) counts.ledgerAnonymised++;
    }
    for (const p of await s.payments.findBy('accountId', accountId)) {
      if (await s.payments.update(p.id, { accountId: null })) counts.paymentsAnonymised++;
    }
    // The audit entry first, the account row last: the row is what marks the purge as
    // unfinished. A crash between the two finds the entry on the rerun and does not repeat it.
    const recorded = (await this.audit.forSubject(accountId)).some((e) => e.action === 'account.purged');
    if (!recorded) await this.audit.record('system', 'account.purged', accountId, { ...counts });
    await s.accounts.remove(accountId);
    return counts;
  }
}

async function removeAll(table: { remove(id: string): Promise<boolean> }, rows: { id: string }[]): Promise<number> {
  let n = 0;
  for (const r of rows) if (await table.remove(r.id)) n++;
  return n;
}
