import type { Clock } from '../core/clock.js';
import { AppError, tooMany, unauthorized } from '../core/errors.js';
import { DAY_MS, HOUR_MS, toIso } from '../../shared/units.js';
import { EXPORT_SCHEMA_ID, EXPORT_VERSION, type ExportDocument } from '../../shared/schemas/privacy.js';
import type { AccountRow, LedgerRow, PhotoRow, Store } from '../store/types.js';
import type { AuditService } from '../audit/service.js';
import type { AccountsService, Authenticated } from '../accounts/service.js';
import { memoryRateLimits, type AttemptCounter, type RateLimits } from '../core/rate-limit.js';
import type { Notifier } from '../sockets/hub.js';
import { outboxView, type MailService } from '../mail/service.js';
import { accountClosedMail } from '../mail/templates.js';
import { noticeView } from '../notices/service.js';
import { toView as profileView } from '../profiles/service.js';
import { supportView } from '../support/service.js';
import type { LiveCalls } from './live-calls.js';
import type { AccountPurger } from './purge.js';

export interface PrivacyOptions {
  /** ACCOUNT_PURGE_DAYS: closing to purge, at most 30 (P10). */
  accountPurgeDays: number;
  /** Exports per account per window. */
  exportsPerWindow?: number;
  exportWindowMs?: number;
}

export interface PrivacyDeps {
  store: Store;
  clock: Clock;
  audit: AuditService;
  accounts: AccountsService;
  purger: AccountPurger;
  liveCalls: LiveCalls;
  mail: MailService;
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

  private readonly store: Store;
  private readonly clock: Clock;
  private readonly audit: AuditService;
  private readonly accounts: AccountsService;
  private readonly purger: AccountPurger;
  private readonly liveCalls: LiveCalls;
  private readonly mail: MailService;
  private readonly notifier: Pick<Notifier, 'disconnectAccount'>;
  private readonly options: PrivacyOptions;

  constructor(deps: PrivacyDeps) {
    this.store = deps.store;
    this.clock = deps.clock;
    this.audit = deps.audit;
    this.accounts = deps.accounts;
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

  /** Everything held about the account, as one versioned document (P11). Rate-limited and audited. */
  async export(accountId: string): Promise<ExportDocument> {
    const wait = await this.exports.take(accountId);
    if (wait > 0) throw tooMany(wait, 'Exports are limited; try again later');

    const s = this.store;
    const account = await s.accounts.get(accountId);
    if (!account) throw unauthorized();
    const byTime =
      <T extends { id: string }>(key: (r: T) => number) =>
      (a: T, b: T) =>
        key(a) - key(b) || a.id.localeCompare(b.id);

    const [consents, profiles, photos, ledger, payments, calls, logins, sessions, notices, outbox, support] =
      await Promise.all([
        s.consents.findBy('accountId', accountId),
        s.profiles.findBy('accountId', accountId),
        s.photos.findBy('accountId', accountId),
        s.ledger.findBy('accountId', accountId),
        s.payments.findBy('accountId', accountId),
        s.calls.findBy('accountId', accountId),
        s.logins.findBy('accountId', accountId),
        s.sessions.findBy('accountId', accountId),
        s.notices.findBy('accountId', accountId),
        s.outbox.findBy('accountId', accountId),
        s.support.findBy('accountId', accountId),
      ]);

    const photoById = new Map(photos.map((p) => [p.id, p]));
    const photoView = async (p: PhotoRow) => {
      const bytes = await s.photoFiles.get(p.id);
      return {
        id: p.id,
        mime: p.mime,
        bytes: p.bytes,
        createdAt: toIso(p.createdAt),
        expiresAt: p.expiresAt === null ? null : toIso(p.expiresAt),
        dataUrl: bytes ? `data:${p.mime};base64,${bytes.toString('base64')}` : null,
      };
    };
    const savedPhotoIds = new Set(profiles.map((p) => p.photoId).filter((id): id is string => id !== null));

    // Audit entries about the account and about its own profiles, calls and payments.
    const subjects = new Set<string>([
      accountId,
      ...profiles.map((p) => p.id),
      ...calls.map((c) => c.id),
      ...payments.map((p) => p.id),
    ]);
    const auditRows = (await Promise.all([...subjects].map((id) => this.audit.forSubject(id)))).flat();
    const seen = new Set<number>();

    const doc: ExportDocument = {
      schema: EXPORT_SCHEMA_ID,
      version: EXPORT_VERSION,
      exportedAt: toIso(this.clock.now()),
      account: {
        id: account.id,
        email: account.email,
        name: account.name,
        locale: account.locale,
        status: account.status,
        restricted: account.restricted,
        marketingOptIn: account.marketingOptIn,
        createdAt: toIso(account.createdAt),
        passwordChangedAt: toIso(account.passwordChangedAt),
        closedAt: account.closedAt === null ? null : toIso(account.closedAt),
        purgeBy: account.purgeBy === null ? null : toIso(account.purgeBy),
      },
      consents: consents.sort(byTime((c) => c.at)).map((c) => ({
        policyVersion: c.policyVersion,
        at: toIso(c.at),
        method: c.method,
        verifiedAt: c.verifiedAt === null ? null : toIso(c.verifiedAt),
        verifiedBy: c.verifiedBy,
      })),
      profiles: await Promise.all(
        profiles.sort(byTime((p) => p.createdAt)).map(async (p) => {
          const photo = p.photoId ? photoById.get(p.photoId) : undefined;
          return {
            ...profileView(p),
            createdAt: toIso(p.createdAt),
            updatedAt: toIso(p.updatedAt),
            photo: photo ? await photoView(photo) : null,
          };
        }),
      ),
      temporaryPhotos: await Promise.all(
        photos
          .filter((p) => !savedPhotoIds.has(p.id) && p.profileId === null)
          .sort(byTime((p) => p.createdAt))
          .map(photoView),
      ),
      ledger: ledger.sort(byTime((e) => e.at)).map((e: LedgerRow) => ({
        id: e.id,
        kind: e.kind,
        seconds: e.seconds,
        ref: e.ref,
        callId: e.callId,
        at: toIso(e.at),
        note: e.note,
      })),
      payments: payments.sort(byTime((p) => p.createdAt)).map((p) => ({
        id: p.id,
        provider: p.provider,
        packId: p.packId,
        seconds: p.seconds,
        amount: p.amount,
        currency: p.currency,
        status: p.status,
        amountRefunded: p.amountRefunded,
        checkoutSessionId: p.checkoutSessionId,
        paymentIntentId: p.paymentIntentId,
        createdAt: toIso(p.createdAt),
        paidAt: p.paidAt === null ? null : toIso(p.paidAt),
      })),
      calls: calls.sort(byTime((c) => c.startedAt)).map((c) => ({
        id: c.id,
        profileId: c.profileId,
        provider: c.provider,
        startedAt: toIso(c.startedAt),
        endedAt: c.endedAt === null ? null : toIso(c.endedAt),
        seconds: c.meteredSeconds,
        reason: c.reason,
      })),
      logins: logins
        .sort(byTime((l) => l.at))
        .map((l) => ({ at: toIso(l.at), success: l.success, browser: l.uaFamily })),
      sessions: sessions.sort(byTime((x) => x.createdAt)).map((x) => ({
        createdAt: toIso(x.createdAt),
        expiresAt: toIso(x.expiresAt),
        revokedAt: x.revokedAt === null ? null : toIso(x.revokedAt),
      })),
      notices: notices.sort(byTime((n) => n.createdAt)).map(noticeView),
      emails: outbox.sort(byTime((m) => m.createdAt)).map(outboxView),
      support: support.sort(byTime((r) => r.createdAt)).map(supportView),
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
    const closed = await this.store.accounts.update(
      account.id,
      { status: 'closed', closedAt: now, purgeBy },
      { if: (c) => c.status === 'active' },
    );
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
    const updated = await this.store.accounts.update(accountId, { restricted }, { if: (c) => c.status === 'active' });
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
