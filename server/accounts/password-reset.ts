import type { Clock } from '../core/clock.js';
import { newId, newSecret } from '../core/ids.js';
import { AppError, tooMany } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { MINUTE_MS } from '../../shared/units.js';
import type { PasswordResetRow, Store } from '../store/types.js';
import type { AuditService } from '../audit/service.js';
import type { Notifier } from '../sockets/hub.js';
import type { MailService } from '../mail/service.js';
import { passwordResetMail } from '../mail/templates.js';
import { memoryRateLimits, type AttemptCounter, type RateLimits } from '../core/rate-limit.js';
import { tokenHash, type AccountsService } from './service.js';
import { sweepUpTo, type SweepOptions } from '../store/sweep.js';
import { removeAllOfAccount } from '../store/remove-all.js';

export interface PasswordResetOptions {
  /** Base URL of the reset page in the email (PUBLIC_URL). */
  publicUrl: string;
  /** How long a link works; short, because email is not a safe place to keep a key. */
  ttlMs?: number;
  /** Reset mails per account per hour; more requests still answer 202 but send nothing. */
  mailsPerHour?: number;
  /** Requests and failed confirmations per address per 15 minutes. */
  perAddress?: number;
}

export const RESET_TTL_MS = 30 * MINUTE_MS;

const invalidToken = () =>
  new AppError('invalid_token', 400, 'This reset link is invalid, used or expired; ask for a new one', {
    token: 'Invalid or expired',
  });

export interface PasswordResetDeps {
  store: Store;
  clock: Clock;
  audit: AuditService;
  accounts: AccountsService;
  mail: MailService;
  notifier: Pick<Notifier, 'disconnectAccount'>;
  options: PasswordResetOptions;
  logger?: Logger;
  /** Where the limits are counted; default: in this process. */
  limits?: RateLimits;
}

/**
 * Password reset by a one-time, short-lived emailed link. The token exists only in the
 * link; the store keeps its SHA-256. Using it changes the password, revokes every session
 * and disconnects every socket of the account. Asking for a link answers the same whether
 * or not the email has an account, so it reveals nothing.
 */
export class PasswordResetService {
  private readonly ttlMs: number;
  private readonly perAccount: AttemptCounter;
  private readonly perAddress: AttemptCounter;
  private readonly inFlight = new Set<Promise<void>>();

  private readonly store: Store;
  private readonly clock: Clock;
  private readonly audit: AuditService;
  private readonly accounts: AccountsService;
  private readonly mail: MailService;
  private readonly notifier: Pick<Notifier, 'disconnectAccount'>;
  private readonly options: PasswordResetOptions;
  private readonly logger: Logger | undefined;

  constructor(deps: PasswordResetDeps) {
    this.store = deps.store;
    this.clock = deps.clock;
    this.audit = deps.audit;
    this.accounts = deps.accounts;
    this.mail = deps.mail;
    this.notifier = deps.notifier;
    this.options = deps.options;
    this.logger = deps.logger;
    const { clock, options } = deps;
    this.ttlMs = options.ttlMs ?? RESET_TTL_MS;
    const limits = deps.limits ?? memoryRateLimits(clock);
    this.perAccount = limits.attempts('reset-mail-account', options.mailsPerHour ?? 3, 60 * MINUTE_MS);
    this.perAddress = limits.attempts('reset-address', options.perAddress ?? 20, 15 * MINUTE_MS);
  }

  /**
   * The part of a request that is answered: the per-address limit (429), the same for every
   * email. Counts the request.
   */
  async admit(ip: string): Promise<void> {
    const wait = await this.perAddress.take(`ip:${ip}`);
    if (wait > 0) throw tooMany(wait);
  }

  /**
   * Everything that depends on the email, started only after the answer has left: a known
   * email writes a reset, a mail and an audit entry (and waits for their commit), an unknown
   * one does nothing, so doing it before answering would tell the two apart by time. A 202
   * means accepted, not sent; a crash in between loses only this link (ask again).
   */
  sendLinkLater(email: string): void {
    const work: Promise<void> = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.sendLink(email))
      .then(() => this.store.flush())
      .catch((err: unknown) => {
        this.logger?.error(
          { err: err instanceof Error ? err.message : String(err) },
          'password reset request failed after its answer',
        );
      })
      .finally(() => this.inFlight.delete(work));
    this.inFlight.add(work);
  }

  /** Resolves once every request accepted so far has done its work (graceful shutdown, tests). */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Queue a reset mail if the email belongs to an open account. */
  private async sendLink(email: string): Promise<void> {
    const account = await this.accounts.findByEmail(email);
    if (!account || account.status !== 'active') return;
    if ((await this.perAccount.take(account.id)) > 0) return;

    // A new link replaces any earlier one.
    await this.invalidateAll(account.id);
    const token = newSecret();
    const now = this.clock.now();
    const row: PasswordResetRow = {
      id: newId(),
      accountId: account.id,
      tokenHash: tokenHash(token),
      createdAt: now,
      expiresAt: now + this.ttlMs,
      usedAt: null,
    };
    await this.store.passwordResets.insert(row);
    const link = `${this.options.publicUrl}/reset-password?lang=${account.locale}#token=${token}`;
    // The mail shares the reset's id, so using or expiring the link can blank the mail's body.
    await this.mail.queueEssential(
      account,
      'password_reset',
      passwordResetMail(account.locale, { name: account.name, link, validMinutes: Math.round(this.ttlMs / MINUTE_MS) }),
      row.id,
    );
    await this.audit.record('anonymous', 'account.password_reset_requested', account.id, {});
    this.logger?.info({ accountId: account.id }, 'password reset link queued');
  }

  /** Use a link: one time only, before it expires. */
  async confirm(token: string, newPassword: string, ip: string): Promise<void> {
    const addressKey = `confirm:${ip}`;
    const wait = await this.perAddress.retryAfter(addressKey);
    if (wait > 0) throw tooMany(wait);

    const now = this.clock.now();
    const row = await this.store.passwordResets.findOne('tokenHash', tokenHash(token));
    const account = row ? await this.accounts.get(row.accountId) : undefined;
    if (!row || !account || row.usedAt !== null || row.expiresAt <= now || account.status !== 'active') {
      await this.perAddress.record(addressKey);
      throw invalidToken();
    }
    // Claimed atomically: two simultaneous uses of one link, only one wins.
    const claimed = await this.store.passwordResets.update(
      row.id,
      { usedAt: now },
      { if: (c) => c.usedAt === null && c.expiresAt > now },
    );
    if (!claimed) throw invalidToken();

    const updated = await this.accounts.setPassword(account.id, newPassword);
    if (!updated) throw invalidToken();
    const revoked = await this.accounts.revokeSessions(account.id);
    await this.accounts.liftSignInLocks(account.email);
    this.notifier.disconnectAccount(account.id);
    await this.invalidateAll(account.id);
    await this.audit.record(`account:${account.id}`, 'account.password_reset', account.id, {
      sessionsRevoked: revoked,
    });
    // The used link leaves every file, the journal included, before we answer.
    await this.store.compact();
  }

  /**
   * Every reset of a closed account goes (closing, and the purge, P10): its links stop working.
   * Their mails are the outbox's to delete with the rest of the account. Returns how many went.
   */
  async removeAllForAccount(accountId: string): Promise<number> {
    return removeAllOfAccount(this.store.passwordResets, accountId);
  }

  /** Remove every reset of the account and blank the mails that carried their links. */
  private async invalidateAll(accountId: string): Promise<void> {
    for (const r of await this.store.passwordResets.findBy('accountId', accountId)) {
      await this.mail.scrub(r.id);
      await this.store.passwordResets.remove(r.id);
    }
  }

  /**
   * Retention: used or expired reset links. The row goes, and the mail that carried the link
   * (it shares the reset's id) loses its body first, so a crash never leaves a live-looking link
   * unaccounted for. Returns how many resets were deleted.
   */
  async deleteSpent(now: number, opts: SweepOptions): Promise<number> {
    const remove = async (r: PasswordResetRow) => {
      await this.mail.scrub(r.id);
      return this.store.passwordResets.remove(r.id);
    };
    return (
      (await sweepUpTo(this.store.passwordResets, 'usedAt', now, remove, opts)) +
      (await sweepUpTo(this.store.passwordResets, 'expiresAt', now, remove, opts))
    );
  }

  /** Whether a reset link is still on file (its mail is kept until it goes). */
  async isPending(resetId: string): Promise<boolean> {
    return (await this.store.passwordResets.get(resetId)) !== undefined;
  }
}
